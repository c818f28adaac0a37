package initproc_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
)

func TestMain(m *testing.M) {
	initproc.Register("echo-ready", func(args []string, ready func()) error {
		ready()
		return nil
	})
	initproc.MaybeRun()
	os.Exit(m.Run())
}

func TestRegisterTwicePanics(t *testing.T) {
	require.Panics(t, func() { initproc.Register("echo-ready", nil) })
	require.Contains(t, initproc.Programs(), "echo-ready")
}

// TestExecMode: a ModeExec re-exec runs the command with Args.
func TestExecMode(t *testing.T) {
	cmd, err := initproc.Command(initproc.Config{Mode: initproc.ModeExec, Args: []string{"echo", "hello"}})
	require.NoError(t, err)
	out, err := cmd.Output()
	require.NoError(t, err)
	require.Equal(t, "hello\n", string(out))
}

// TestInitMode: a container's main process sets its hostname and name and
// reports readiness on fd 3.
func TestInitMode(t *testing.T) {
	ns := testkit.NewNS(t, testkit.NSOptions{})
	cmd, err := initproc.Command(initproc.Config{Mode: initproc.ModeInit, Hostname: "box1", Comm: "echo-ready", Program: "echo-ready", RemountSys: true})
	require.NoError(t, err)
	rd, wr, err := os.Pipe()
	require.NoError(t, err)
	cmd.ExtraFiles = []*os.File{wr}
	require.NoError(t, ns.Start(cmd, netns.StartOptions{NewUTS: true, NewMount: true}))
	wr.Close()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	rd.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 1)
	_, err = rd.Read(b)
	require.NoError(t, err)
	require.Equal(t, "R", string(b))
	comm, err := os.ReadFile("/proc/" + itoa(cmd.Process.Pid) + "/comm")
	require.NoError(t, err)
	require.Equal(t, "echo-ready", strings.TrimSpace(string(comm)))
	// The hostname lives in the process's own UTS namespace.
	self, _ := os.Readlink("/proc/self/ns/uts")
	its, _ := os.Readlink("/proc/" + itoa(cmd.Process.Pid) + "/ns/uts")
	require.NotEqual(t, self, its)
}

func itoa(n int) string { return strconv.Itoa(n) }
