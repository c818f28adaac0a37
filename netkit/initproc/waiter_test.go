package initproc_test

import (
	"bytes"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
)

// TestWaiter: the waiter behaves as ModeInit without a program does: its
// name, its command line, its hostname, readiness on fd 3, SIGINT ignored,
// exit status 137 on SIGTERM.
func TestWaiter(t *testing.T) {
	cfg := initproc.Config{Mode: initproc.ModeInit, Hostname: "0123456789ab", Comm: "sh"}
	cmd, err := initproc.Waiter(cfg)
	require.NoError(t, err)
	if cmd == nil {
		t.Skipf("skipping: no waiter on %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	ns := testkit.NewNS(t, testkit.NSOptions{})
	rd, wr, err := os.Pipe()
	require.NoError(t, err)
	defer rd.Close()
	cmd.ExtraFiles = []*os.File{wr}
	require.NoError(t, ns.Start(cmd, netns.StartOptions{NewUTS: true, NewMount: true}))
	wr.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	rd.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 2)
	n, err := rd.Read(b)
	require.NoError(t, err)
	require.Equal(t, "R", string(b[:n]))

	pid := itoa(cmd.Process.Pid)
	comm, err := os.ReadFile("/proc/" + pid + "/comm")
	require.NoError(t, err)
	require.Equal(t, "sh\n", string(comm))
	cmdline, err := os.ReadFile("/proc/" + pid + "/cmdline")
	require.NoError(t, err)
	require.Equal(t, "sh\x00", string(cmdline))
	require.Equal(t, "0123456789ab", hostnameOf(t, cmd.Process.Pid))

	// SIGINT is ignored, as by an init that does not handle it.
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	select {
	case <-exited:
		t.Fatalf("the waiter exited on SIGINT: %v", cmd.ProcessState)
	case <-time.After(100 * time.Millisecond):
	}
	// SIGTERM ends it with 137, as ModeInit without a program.
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter did not exit on SIGTERM")
	}
	require.Equal(t, 137, cmd.ProcessState.ExitCode())
}

// hostnameOf reads the hostname of pid's UTS namespace from a thread that
// joins it and comes back. The thread is not let die: a thread's exit sends
// the parent-death signal to the processes it started (netns.Start).
func hostnameOf(t *testing.T, pid int) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		runtime.LockOSThread()
		self, err := unix.Open("/proc/thread-self/ns/uts", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			got <- "open: " + err.Error()
			return
		}
		defer unix.Close(self)
		fd, err := unix.Open("/proc/"+itoa(pid)+"/ns/uts", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			got <- "open: " + err.Error()
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWUTS); err != nil {
			runtime.UnlockOSThread()
			got <- "setns: " + err.Error()
			return
		}
		var u unix.Utsname
		uerr := unix.Uname(&u)
		if err := unix.Setns(self, unix.CLONE_NEWUTS); err == nil {
			runtime.UnlockOSThread()
		}
		if uerr != nil {
			got <- "uname: " + uerr.Error()
			return
		}
		got <- string(bytes.TrimRight(u.Nodename[:], "\x00"))
	}()
	return <-got
}

// BenchmarkContainerProcess compares a container main process started by
// re-executing the test binary (ModeInit) with the waiter, from start to
// readiness and back (killed, reaped). The test binary's package
// initialisation is smaller than labrun's.
func BenchmarkContainerProcess(b *testing.B) {
	testkit.RequireNetAdmin(b)
	cfg := initproc.Config{Mode: initproc.ModeInit, Hostname: "0123456789ab", Comm: "sh"}
	for _, kind := range []string{"reexec", "waiter"} {
		b.Run(kind, func(b *testing.B) {
			for b.Loop() {
				cmd, err := initproc.Waiter(cfg)
				if kind == "reexec" {
					cmd, err = initproc.Command(cfg)
				}
				if err != nil {
					b.Fatal(err)
				}
				if cmd == nil {
					b.Skip("no waiter here")
				}
				rd, wr, _ := os.Pipe()
				cmd.ExtraFiles = []*os.File{wr}
				cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				wr.Close()
				if _, err := rd.Read(make([]byte, 1)); err != nil {
					b.Fatal(err)
				}
				rd.Close()
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
	}
}
