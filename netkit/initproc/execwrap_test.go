package initproc_test

import (
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
)

// runExec starts an Exec command in ns (a mount and a UTS namespace of its
// own, as netkit starts them) and returns its output, or the failure its
// descriptor 3 reported.
func runExec(t *testing.T, ns *netns.NS, cfg initproc.Config, env []string) (out string, failure string) {
	t.Helper()
	cmd, err := initproc.Exec(cfg, env)
	require.NoError(t, err)
	var b strings.Builder
	cmd.Stdout = &b
	rd, wr, err := os.Pipe()
	require.NoError(t, err)
	defer rd.Close()
	cmd.ExtraFiles = []*os.File{wr}
	require.NoError(t, ns.Start(cmd, netns.StartOptions{NewMount: true, NewUTS: cfg.UTSFromPID == 0}))
	wr.Close()
	msg, err := io.ReadAll(rd)
	require.NoError(t, err)
	werr := cmd.Wait()
	if len(msg) > 0 {
		require.Error(t, werr)
		return b.String(), initproc.ExecFailure(msg)
	}
	require.NoError(t, werr)
	return b.String(), ""
}

// TestExecWrapper: an `on NODE` command runs with the node's hostname, a
// /sys that shows the node's namespace, the environment it was given, and
// no descriptor of the wrapper; docker exec's joins a container's UTS
// namespace; a program that cannot start is reported.
func TestExecWrapper(t *testing.T) {
	ns := testkit.NewNS(t, testkit.NSOptions{})
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hi"}
	script := `hostname; ls /sys/class/net; echo "$GREETING"; [ -e /proc/$$/fd/3 ] && echo "fd 3 open"; true`
	out, fail := runExec(t, ns, initproc.Config{Mode: initproc.ModeExec, RemountSys: true, Hostname: "host", Args: []string{"sh", "-c", script}}, env)
	require.Empty(t, fail)
	require.Equal(t, "host\nlo\nhi\n", out)

	// A container's UTS namespace, joined by path.
	waiter := exec.Command("/bin/sh", "-c", "hostname c0ffee; exec sleep 60")
	require.NoError(t, ns.Start(waiter, netns.StartOptions{NewUTS: true}))
	defer func() { waiter.Process.Kill(); waiter.Wait() }()
	var got string
	for range 200 {
		out, fail = runExec(t, ns, initproc.Config{Mode: initproc.ModeExec, RemountSys: true, UTSFromPID: waiter.Process.Pid, Args: []string{"hostname"}}, env)
		require.Empty(t, fail)
		if got = strings.TrimSpace(out); got == "c0ffee" {
			break
		}
	}
	require.Equal(t, "c0ffee", got)

	_, fail = runExec(t, ns, initproc.Config{Mode: initproc.ModeExec, RemountSys: true, Args: []string{"/nonexistent/tool"}}, env)
	require.Equal(t, "no such file or directory", fail)
	_, fail = runExec(t, ns, initproc.Config{Mode: initproc.ModeExec, RemountSys: true, UTSFromPID: 1 << 30, Args: []string{"true"}}, env)
	require.Equal(t, "joining container UTS namespace: no such file or directory", fail)

	// Looked up in the command's PATH, not labrun's.
	_, err := initproc.Exec(initproc.Config{Mode: initproc.ModeExec, RemountSys: true, Args: []string{"sh"}}, []string{"PATH=/nonexistent"})
	if runtime.GOARCH == "amd64" {
		require.ErrorIs(t, err, exec.ErrNotFound)
	}
}

// TestExecFailure: the wrapper's two bytes read as labrun's own wrapper's
// words; anything else is text already.
func TestExecFailure(t *testing.T) {
	require.Equal(t, "permission denied", initproc.ExecFailure([]byte{5, 13}))
	require.Equal(t, "mounting /sys: operation not permitted", initproc.ExecFailure([]byte{3, 1}))
	require.Equal(t, "exec: boom", initproc.ExecFailure([]byte("exec: boom")))
}

// BenchmarkOnCommand compares an `on NODE true` started through a
// re-executed test binary (ModeExec, labrun's own wrapper) with the exec
// wrapper, from start to exit, each in a namespace with a mount and a UTS
// namespace of its own. The test binary's package initialisation is
// smaller than labrun's (which has gopacket's).
func BenchmarkOnCommand(b *testing.B) {
	ns := testkit.NewNS(b, testkit.NSOptions{})
	cfg := initproc.Config{Mode: initproc.ModeExec, RemountSys: true, Hostname: "host", Args: []string{"true"}, NotifyExec: true}
	for _, kind := range []string{"reexec", "wrapper"} {
		b.Run(kind, func(b *testing.B) {
			for b.Loop() {
				cmd, err := initproc.Exec(cfg, nil)
				if kind == "reexec" {
					cmd, err = initproc.Command(cfg)
				}
				if err != nil {
					b.Fatal(err)
				}
				rd, wr, _ := os.Pipe()
				cmd.ExtraFiles = []*os.File{wr}
				if err := ns.Start(cmd, netns.StartOptions{NewMount: true, NewUTS: true}); err != nil {
					b.Fatal(err)
				}
				wr.Close()
				if msg, _ := io.ReadAll(rd); len(msg) > 0 {
					b.Fatal(initproc.ExecFailure(msg))
				}
				rd.Close()
				if err := cmd.Wait(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestExecBinds: files bind-mounted over /etc/hostname and /etc/hosts are
// what the command reads, in its mount namespace only; a missing source is
// reported as the bind step's failure. Both wrappers: the machine-code one
// and labrun's own (more binds than the machine code takes).
func TestExecBinds(t *testing.T) {
	ns := testkit.NewNS(t, testkit.NSOptions{})
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	dir := t.TempDir()
	name, hosts := dir+"/hostname", dir+"/hosts"
	require.NoError(t, os.WriteFile(name, []byte("c0ffee\n"), 0o644))
	require.NoError(t, os.WriteFile(hosts, []byte("10.0.0.1\tweb\n"), 0o644))
	before, err := os.ReadFile("/etc/hosts")
	require.NoError(t, err)
	binds := []initproc.Bind{{Source: name, Target: "/etc/hostname"}, {Source: hosts, Target: "/etc/hosts"}}
	out, fail := runExec(t, ns, initproc.Config{Mode: initproc.ModeExec, RemountSys: true, Binds: binds, Args: []string{"cat", "/etc/hostname", "/etc/hosts"}}, env)
	require.Empty(t, fail)
	require.Equal(t, "c0ffee\n10.0.0.1\tweb\n", out)
	after, err := os.ReadFile("/etc/hosts")
	require.NoError(t, err)
	require.Equal(t, string(before), string(after), "the bind stays in the command's mount namespace")

	many := make([]initproc.Bind, 10)
	for i := range many {
		many[i] = initproc.Bind{Source: name, Target: "/etc/hostname"}
	}
	out, fail = runExec(t, ns, initproc.Config{Mode: initproc.ModeExec, RemountSys: true, Binds: many, Args: []string{"cat", "/etc/hostname"}}, env)
	require.Empty(t, fail)
	require.Equal(t, "c0ffee\n", out)

	_, fail = runExec(t, ns, initproc.Config{Mode: initproc.ModeExec, RemountSys: true, Binds: []initproc.Bind{{Source: dir + "/none", Target: "/etc/hosts"}}, Args: []string{"true"}}, env)
	if runtime.GOARCH == "amd64" {
		require.Equal(t, "bind-mounting files: no such file or directory", fail)
	} else {
		require.Contains(t, fail, "no such file or directory")
	}
}
