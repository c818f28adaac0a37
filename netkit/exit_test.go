package netkit_test

import (
	"net/netip"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/initproc"
)

// exit-at-once ends right after reporting readiness, as busybox's sh does
// on end of file, with the status in its first argument.
func init() {
	initproc.Register("exit-at-once", func(args []string, ready func()) error {
		ready()
		if len(args) > 0 && args[0] == "3" {
			os.Exit(3)
		}
		os.Exit(0)
		return nil
	})
}

// TestMainExitsAtOnce: a container whose main process exits right after it
// started has started (Run succeeds, as docker run -d does), then stopped
// by itself with the process's status: Wait returns it, its address is
// free again, a start runs it again, and --rm removes it.
func TestMainExitsAtOnce(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	c, err := e.Run(netkit.RunOptions{Name: "quick", Program: "exit-at-once", Args: []string{"3"}})
	require.NoError(t, err)
	require.Equal(t, 3, c.Wait())
	require.Equal(t, "exited", c.State())
	j := c.Inspect()
	require.Equal(t, 3, j.State.ExitCode)
	require.NotEqual(t, "0001-01-01T00:00:00Z", j.State.StartedAt, "it started")
	require.Empty(t, j.NetworkSettings.IPAddress, "its endpoint went with it")
	next, err := e.Run(netkit.RunOptions{Name: "next"})
	require.NoError(t, err)
	require.Equal(t, netip.MustParseAddr("172.17.0.2"), next.IP("bridge"), "the address it had is free again")

	require.NoError(t, c.Start())
	require.Equal(t, 3, c.Wait(), "it runs, and ends, again")
	require.Equal(t, "exited", c.State())

	gone, err := e.Run(netkit.RunOptions{Name: "gone", Program: "exit-at-once", Remove: true})
	require.NoError(t, err)
	require.Equal(t, 0, gone.Wait())
	_, err = e.Container("gone")
	require.ErrorIs(t, err, netkit.ErrNotFound, "--rm removed it before Wait returned")
}
