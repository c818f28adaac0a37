package netkit

import (
	"os/exec"
	"testing"
	"time"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			c := &Container{Name: "ctr-c", state: from}
			err := c.moveLocked(to)
			if want {
				if assert.NoError(t, err, "%s -> %s refused", from, to) {
					assert.Equal(t, to, c.state, "%s -> %s left the container in another state", from, to)
				}
				continue
			}
			if assert.ErrorIs(t, err, errIllegalTransition, "illegal %s -> %s allowed, or refused with an error that does not match errIllegalTransition", from, to) {
				assert.Equal(t, from, c.state, "illegal %s -> %s changed the state", from, to)
			}
		}
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
		assert.Equal(t, tc.want, c.statusLocked(), "status of %s (started %v)", tc.state, tc.started)
	}
}

// TestContainerLifecycle drives a container through the engine's own calls
// (create, start, stop, start, rm) and checks the state after each, and
// that the moves the machine refuses stay refused: a running container is
// not removed without force, a removed one does not start.
func TestContainerLifecycle(t *testing.T) {
	e := lifecycleEngine(t)
	c, err := e.Create(RunOptions{Name: "life"})
	require.NoError(t, err)
	check := func(step string, want ctrState) {
		t.Helper()
		c.mu.Lock()
		got := c.state
		c.mu.Unlock()
		require.Equal(t, want, got, "state after %s", step)
	}
	check("create", stateCreated)
	require.NoError(t, c.Start())
	check("start", stateRunning)
	require.ErrorIs(t, e.Remove("life", false), ErrConflict, "removing a running container without force")
	check("rm without force", stateRunning)
	require.NoError(t, c.Stop(0))
	check("stop", stateStopped)
	require.NoError(t, c.Start())
	check("start again", stateRunning)
	require.NoError(t, e.Remove("life", true))
	check("rm -f", stateRemoved)
	assert.Equal(t, "exited", c.State(), "State() of a removed container that ran")
	assert.ErrorIs(t, c.Start(), ErrNotFound, "starting a removed container")
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
	require.NoError(t, err)
	t.Cleanup(func() { lab.Close() })
	e, err := lab.StartEngine(DaemonOptions{})
	require.NoError(t, err)
	return e
}
