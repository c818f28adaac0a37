package netkit

import (
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/labrun/labrun/netkit/netns"
)

// TestContainerTransitions: a container moves only along the arrows of
// ctrState's diagram; every other move is refused with
// errIllegalTransition and leaves the state as it was.
func TestContainerTransitions(t *testing.T) {
	all := []ctrState{stateCreated, stateRunning, stateStopped, stateRemoved}
	legal := map[[2]ctrState]bool{
		{stateCreated, stateRunning}: true, // docker start
		{stateCreated, stateRemoved}: true, // docker rm
		{stateRunning, stateStopped}: true, // docker stop, or the main process exits
		{stateStopped, stateRunning}: true, // docker start again
		{stateStopped, stateRemoved}: true, // docker rm
	}
	for _, from := range all {
		for _, to := range all {
			want := legal[[2]ctrState{from, to}]
			if got := canMove(from, to); got != want {
				t.Errorf("canMove(%s, %s) = %v, want %v", from, to, got, want)
			}
			c := &Container{Name: "ctr-c", state: from}
			err := c.moveLocked(to)
			switch {
			case want && err != nil:
				t.Errorf("%s -> %s refused: %v", from, to, err)
			case want && c.state != to:
				t.Errorf("%s -> %s left the container %s", from, to, c.state)
			case !want && err == nil:
				t.Errorf("illegal %s -> %s allowed", from, to)
			case !want && !errors.Is(err, errIllegalTransition):
				t.Errorf("illegal %s -> %s: error %v does not match errIllegalTransition", from, to, err)
			case !want && c.state != from:
				t.Errorf("illegal %s -> %s changed the state to %s", from, to, c.state)
			}
		}
	}
	if canMove(ctrState(len(transitions)), stateCreated) {
		t.Error("a state outside the set may move")
	}
}

// TestContainerStatus: Docker's names for the states, a removed container
// keeping the name of the state it was removed from.
func TestContainerStatus(t *testing.T) {
	ran := time.Unix(1, 0)
	for _, tc := range []struct {
		state   ctrState
		started time.Time
		want    string
	}{
		{stateCreated, time.Time{}, "created"},
		{stateRunning, ran, "running"},
		{stateStopped, ran, "exited"},
		{stateRemoved, time.Time{}, "created"},
		{stateRemoved, ran, "exited"},
	} {
		c := &Container{state: tc.state, startedAt: tc.started}
		if got := c.statusLocked(); got != tc.want {
			t.Errorf("status of %s (started %v) = %q, want %q", tc.state, tc.started, got, tc.want)
		}
	}
}

// TestContainerLifecycle drives a container through the engine's own calls
// (create, start, stop, start, rm) and checks the state after each, and
// that the moves the machine refuses stay refused: a running container is
// not removed without force, a removed one does not start.
func TestContainerLifecycle(t *testing.T) {
	e := lifecycleEngine(t)
	c, err := e.Create(RunOptions{Name: "life"})
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, want ctrState) {
		t.Helper()
		c.mu.Lock()
		got := c.state
		c.mu.Unlock()
		if got != want {
			t.Fatalf("after %s: state %s, want %s", step, got, want)
		}
	}
	check("create", stateCreated)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	check("start", stateRunning)
	if err := e.Remove("life", false); !errors.Is(err, ErrConflict) {
		t.Fatalf("removing a running container without force: %v, want ErrConflict", err)
	}
	check("rm without force", stateRunning)
	if err := c.Stop(0); err != nil {
		t.Fatal(err)
	}
	check("stop", stateStopped)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	check("start again", stateRunning)
	if err := e.Remove("life", true); err != nil {
		t.Fatal(err)
	}
	check("rm -f", stateRemoved)
	if got := c.State(); got != "exited" {
		t.Errorf("State() of a removed container that ran = %q, want exited", got)
	}
	if err := c.Start(); !errors.Is(err, ErrNotFound) {
		t.Errorf("starting a removed container: %v, want ErrNotFound", err)
	}
	check("start after rm", stateRemoved)
}

// lifecycleEngine makes a lab with a started engine, or skips where this
// machine cannot make namespaces or run iptables-restore.
func lifecycleEngine(t *testing.T) *Engine {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("skipping: cannot make network namespaces here: %v", err)
	}
	if _, err := exec.LookPath("iptables-restore"); err != nil {
		t.Skip("skipping: iptables-restore not installed")
	}
	lab, err := NewLab(LabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })
	e, err := lab.StartEngine(DaemonOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
