package netkit

import (
	"errors"
	"fmt"
	"slices"
)

// ctrState is where a container is in its life. The set is closed (the type
// is unexported) and a container moves between states only through
// Container.moveLocked, which refuses what transitions does not list:
//
//	created ──start──▶ running ──stop, exit──▶ stopped ──rm──▶ removed
//	   │                  ▲                       │
//	   │                  └────────start──────────┘
//	   └───────────────────────rm────────────────────────────▶ removed
//
// A running container is removed by stopping it first (docker rm -f), and
// nothing leaves removed.
type ctrState uint8

const (
	stateCreated ctrState = iota // made by Create, never started
	stateRunning                 // its main process runs and it has its network
	stateStopped                 // its main process has exited (Docker: "exited")
	stateRemoved                 // gone from the engine (docker rm)
)

// transitions lists the states each state may move to.
var transitions = [...][]ctrState{
	stateCreated: {stateRunning, stateRemoved},
	stateRunning: {stateStopped},
	stateStopped: {stateRunning, stateRemoved},
	stateRemoved: nil,
}

// stateNames are the states' names in messages and test output.
var stateNames = [...]string{stateCreated: "created", stateRunning: "running", stateStopped: "stopped", stateRemoved: "removed"}

func (s ctrState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("ctrState(%d)", uint8(s))
}

// canMove reports whether a container in state from may move to state to.
func canMove(from, to ctrState) bool {
	if int(from) >= len(transitions) {
		return false
	}
	return slices.Contains(transitions[from], to)
}

// errIllegalTransition is the error of a move that transitions does not
// list: a bug, or a race that another goroutine won (two stops, a stop and
// the main process's exit), which the caller then tolerates.
var errIllegalTransition = errors.New("illegal container state transition")

// moveLocked moves the container to state to, or refuses with an error
// that matches errIllegalTransition. c.mu must be held.
func (c *Container) moveLocked(to ctrState) error {
	if !canMove(c.state, to) {
		return fmt.Errorf("container %s: moving from %s to %s: %w", c.Name, c.state, to, errIllegalTransition)
	}
	c.state = to
	return nil
}

// removedNow reports whether the container has been removed.
func (c *Container) removedNow() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateRemoved
}

// listed reports whether docker ps lists the container: when it runs, and
// with all (-a) whenever it is not removed.
func (c *Container) listed(all bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateRunning || (all && c.state != stateRemoved)
}

// statusLocked returns the state as Docker names it: "created", "running"
// or "exited". A removed container keeps the name of the state it was
// removed from: "exited" once it has run (startedAt is set by its first
// start), "created" if it never did. c.mu must be held.
func (c *Container) statusLocked() string {
	switch c.state {
	case stateRunning:
		return "running"
	case stateStopped:
		return "exited"
	case stateRemoved:
		if !c.startedAt.IsZero() {
			return "exited"
		}
	}
	return "created"
}
