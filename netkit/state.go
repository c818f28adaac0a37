package netkit

import (
	"fmt"

	"github.com/labrun/labrun/netkit/lifecycle"
)

// ctrState is where a container is in its life (netkit/lifecycle): it
// moves only through Container.moveLocked.
type ctrState = lifecycle.State

const (
	stateCreated = lifecycle.Created
	stateRunning = lifecycle.Running
	stateStopped = lifecycle.Stopped
	stateRemoved = lifecycle.Removed
)

// errIllegalTransition matches the error of a refused move.
var errIllegalTransition = lifecycle.ErrIllegalTransition

// moveLocked moves the container to state to, or refuses with an error
// that matches errIllegalTransition. c.mu must be held.
func (c *Container) moveLocked(to ctrState) error {
	if !lifecycle.CanMove(c.state, to) {
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
