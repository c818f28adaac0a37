package node

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/proc"
)

// Main is a container's main process, as Launch started it.
type Main struct {
	// Process is the process; Wait waits for its end (once).
	Process *os.Process
	Wait    func() *os.ProcessState
	ready   *proc.Readiness
	stderr  strings.Builder
}

// Output is where a main program's stdout and stderr go (docker logs,
// docker attach), besides the head of stderr that Reason keeps; nil
// writers keep nothing.
type Output struct{ Stdout, Stderr io.Writer }

// Launch starts cfg's program as a container's main process in node n,
// with a UTS namespace of its own, and returns once it is started (Ready
// waits for it to report readiness). A container that runs no program
// (cfg.Program "") gets the light waiter, where it can be loaded (see
// initproc.Waiter), which writes nothing, remounts nothing and is spawned
// (see netns.Spawn): re-executing labrun costs its package initialisation
// for every container. Otherwise, or where a kernel refuses to execute
// memfds, labrun is re-executed (initproc.Command) in a mount namespace of
// its own, its stderr kept for Reason.
func Launch(n *Node, cfg initproc.Config, out Output) (*Main, error) {
	var cmd *exec.Cmd
	var err error
	if cfg.Program == "" {
		cmd, err = initproc.Waiter(cfg)
	}
	var exe *os.File
	if cmd != nil && err == nil {
		exe, err = initproc.WaiterExe()
	}
	waiter := exe != nil && err == nil
	if !waiter {
		cmd, err = initproc.Command(cfg)
	}
	if err != nil {
		return nil, err
	}
	ready, err := proc.NewReadiness()
	if err != nil {
		return nil, err
	}
	m := &Main{ready: ready}
	if waiter {
		// No pipe (a descriptor held, and copied into every process
		// labrun starts, for as long as the container runs), and no
		// mount namespace (whose copy and teardown, an expedited RCU
		// grace period on exit, would cost more than the rest of its
		// life).
		var p *os.Process
		p, err = n.NS().Spawn(netns.Spawn{Exe: exe, Args: cmd.Args, Env: cmd.Env, Extra: []*os.File{ready.Child()}}, netns.StartOptions{NewUTS: true})
		m.Process, m.Wait = p, func() *os.ProcessState {
			st, _ := p.Wait()
			return st
		}
	} else {
		cmd.ExtraFiles = []*os.File{ready.Child()}
		cmd.Stderr = &proc.HeadWriter{W: &m.stderr, N: 4096}
		if out.Stdout != nil && out.Stderr != nil {
			cmd.Stdout, cmd.Stderr = out.Stdout, io.MultiWriter(cmd.Stderr, out.Stderr)
			cmd.WaitDelay = time.Second // a stray child holding the output
		}
		if err = n.NS().Start(cmd, netns.StartOptions{NewUTS: true, NewMount: true}); err == nil {
			m.Process, m.Wait = cmd.Process, func() *os.ProcessState {
				cmd.Wait()
				return cmd.ProcessState
			}
		}
	}
	ready.Started()
	if err != nil {
		ready.Close()
		return nil, err
	}
	return m, nil
}

// Ready waits until the process reports readiness, at most timeout (see
// proc.Readiness.Wait).
func (m *Main) Ready(timeout time.Duration) error {
	defer m.ready.Close()
	return m.ready.Wait(timeout)
}

// Reason words a failed Ready once the process has been reaped: not ready
// in time, or what it wrote on stderr before it exited.
func (m *Main) Reason(err error, timeout time.Duration) string {
	if errors.Is(err, proc.ErrNotReady) {
		return "main process not ready after " + timeout.String()
	}
	if msg := strings.TrimSpace(m.stderr.String()); msg != "" {
		return msg
	}
	return "main process exited before it was ready"
}

// Dial dials address from inside the node's namespace.
func (n *Node) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	var conn net.Conn
	err := n.NS().Do(func() (err error) {
		conn, err = (&net.Dialer{}).DialContext(ctx, network, address)
		return err
	})
	return conn, err
}
