// Package lifecycle is where a container is in its life: a closed set of
// states and the moves between them, which netkit's Container makes only
// through its one move method.
//
//	created ──start──▶ running ──stop, exit──▶ stopped ──rm──▶ removed
//	   │                  ▲                       │
//	   │                  └────────start──────────┘
//	   └───────────────────────rm────────────────────────────▶ removed
//
// A running container is removed by stopping it first (docker rm -f), and
// nothing leaves removed. It is not the container: what a move does (a
// network made, a process killed) is netkit's.
package lifecycle

import (
	"errors"
	"fmt"
	"slices"
)

// State is where a container is in its life.
type State uint8

const (
	Created State = iota // made by Create, never started
	Running              // its main process runs and it has its network
	Stopped              // its main process has exited (Docker: "exited")
	Removed              // gone from the engine (docker rm)
)

// transitions lists the states each state may move to.
var transitions = [...][]State{
	Created: {Running, Removed},
	Running: {Stopped},
	Stopped: {Running, Removed},
	Removed: nil,
}

// names are the states' names in messages and test output.
var names = [...]string{Created: "created", Running: "running", Stopped: "stopped", Removed: "removed"}

func (s State) String() string {
	if int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// CanMove reports whether a container in state from may move to state to.
func CanMove(from, to State) bool {
	if int(from) >= len(transitions) {
		return false
	}
	return slices.Contains(transitions[from], to)
}

// ErrIllegalTransition is the error of a move that the diagram does not
// allow: a bug, or a race that another goroutine won (two stops, a stop
// and the main process's exit), which the caller then tolerates.
var ErrIllegalTransition = errors.New("illegal container state transition")
