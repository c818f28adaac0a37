package netkit

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/node"
	"github.com/labrun/labrun/netkit/proc"
)

// reap waits for the main process; when it exits by itself, the container
// stops as Docker's does (ended) before done closes, so that Wait returns
// a stopped container. Otherwise a stop, or the start that has not yet
// marked it running, takes over.
func (c *Container) reap(wait func() *os.ProcessState, done chan struct{}) {
	code := proc.ExitCode(wait())
	c.mu.Lock()
	if c.exitAs != nil {
		code, c.exitAs = *c.exitAs, nil
	}
	c.exitCode = code
	byItself := !c.stopping && c.state == stateRunning
	c.exited = !byItself
	c.mu.Unlock()
	if byItself {
		c.ended()
	}
	c.mu.Lock()
	c.exited = true
	close(done)
	c.mu.Unlock()
}

// ended stops a container whose main process exited by itself: network
// released, --rm honoured.
func (c *Container) ended() {
	c.teardown(announced{})
	c.mu.Lock()
	// A stop that began meanwhile may have got there first.
	if c.moveLocked(stateStopped) == nil {
		c.finishedAt = time.Now()
	}
	c.mu.Unlock()
	if c.opts.Remove {
		c.e.Remove(c.ID, true)
	}
}

// Wait waits until the container's main process has ended, and the
// container stopped, and returns its exit status.
//
// Equivalent to: docker wait NAME
func (c *Container) Wait() int {
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	if done != nil {
		<-done
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exitCode
}

// Stop stops a running container: SIGTERM, then SIGKILL after timeout.
//
// Equivalent to: docker stop -t TIMEOUT NAME
func (c *Container) Stop(timeout time.Duration) error {
	return c.stop(timeout, true)
}

// Restart stops the container if it runs, without removing an --rm one,
// and starts it again, as docker restart does (the daemon's
// containerRestart: containerStop, then containerStart).
//
// Equivalent to: docker restart -t TIMEOUT CONTAINER
func (c *Container) Restart(timeout time.Duration) error {
	if err := c.stop(timeout, false); err != nil {
		return err
	}
	return c.Start()
}

// StopAs stops a running container at once, as its main process's end
// does, and records code as its exit status: that of the command docker
// run ran in it in place of its image's program.
//
// Equivalent to: the end of the main process (docker run IMAGE COMMAND)
func (c *Container) StopAs(code int) error {
	c.mu.Lock()
	if c.state == stateRunning && !c.stopping {
		c.exitAs = &code
	}
	c.mu.Unlock()
	return c.stop(0, true)
}

func (c *Container) stop(timeout time.Duration, honourRm bool) error {
	c.mu.Lock()
	if c.state != stateRunning {
		c.mu.Unlock()
		return nil
	}
	c.stopping = true
	p, done := c.main, c.done
	c.mu.Unlock()
	if timeout > 0 {
		p.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(timeout):
		}
	}
	// Its veths and port rules are announced (see package batch) before
	// the kill, which takes a while, so that the batches that remove them
	// wait for them when many containers stop at once.
	c.mu.Lock()
	t := announced{veths: c.e.veths.Expect(c.veths())}
	if len(c.bindings) > 0 {
		t.rules = c.e.fw.Expect(1)
	}
	c.mu.Unlock()
	defer t.release()
	// Kill the whole tree, so that nothing of the container outlives it.
	proc.KillTree(p)
	<-done
	err := c.teardown(t)
	c.mu.Lock()
	// Another stop, or the reaper, may have got there first.
	if c.moveLocked(stateStopped) == nil {
		c.finishedAt = time.Now()
	}
	c.stopping = false
	c.mu.Unlock()
	if honourRm && c.opts.Remove {
		c.e.Remove(c.ID, true)
	}
	return err
}

// announced holds the tickets of a container being stopped: its veths, and
// its port rules (see package batch).
type announced struct{ veths, rules *batch.Ticket }

func (a announced) release() {
	a.veths.Release()
	a.rules.Release()
}

// teardown removes everything of a container's network and processes: exec'd
// processes, proxies, port rules, endpoints, and its namespace.
func (c *Container) teardown(t announced) error {
	var errs []error
	c.mu.Lock()
	execs := c.execs
	c.execs = nil
	proxies := c.proxies
	c.proxies = nil
	bindings, pn, pa, pa6 := c.bindings, c.portsNet, c.portsAddr, c.portsAddr6
	c.bindings, c.portsNet = nil, nil
	eps := append([]*endpoint(nil), c.endpoints...)
	nd := c.node
	c.node = nil
	c.pid = 0
	c.mu.Unlock()
	for _, x := range execs {
		if x.Process != nil {
			x.Process.Kill()
		}
	}
	errs = append(errs, c.stopResolver())
	for _, p := range proxies {
		errs = append(errs, p.Close())
	}
	// The port rules and the veths go at the same time: deleting either
	// waits for the kernel (an RCU grace period), and each is batched with
	// other containers' deletions (firewall.Programmer, link.Deleter).
	unpublished := make(chan error, 1)
	go func() { unpublished <- c.unpublish(pn, pa, pa6, bindings, t.rules) }()
	for _, ep := range eps {
		errs = append(errs, c.detach(ep, t.veths))
	}
	errs = append(errs, <-unpublished)
	if nd != nil {
		errs = append(errs, nd.Close())
	}
	return errors.Join(errs...)
}

// Exec runs argv inside a running container (its network and UTS
// namespaces, a /sys of its own). The command is started, not waited for.
//
// Equivalent to: docker exec NAME ARGV...
func (c *Container) Exec(env []string, argv ...string) (*exec.Cmd, error) {
	nd := c.Node()
	if nd == nil {
		return nil, derr(ErrNotRunning, "container %s is not running", c.ID)
	}
	if len(argv) == 0 {
		return nil, derr(ErrInvalid, "no command specified")
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, derr(ErrNoExecutable, "OCI runtime exec failed: exec failed: unable to start container process: exec: %q: executable file not found in $PATH: unknown", argv[0])
	}
	env = append(append([]string(nil), env...), c.LinkEnv()...)
	return node.ExecCommand(env, initproc.Config{Mode: initproc.ModeExec, RemountSys: true, Args: argv, UTSFromPID: c.Pid(), Binds: c.binds()})
}

// StartExec starts a command made by Exec inside the container and records
// it for docker top; it is killed when the container stops.
func (c *Container) StartExec(cmd *exec.Cmd) error {
	nd := c.Node()
	if nd == nil {
		return derr(ErrNotRunning, "container %s is not running", c.ID)
	}
	if err := node.StartExec(nd.NS(), cmd, netns.StartOptions{NewMount: true}); err != nil {
		return err
	}
	c.mu.Lock()
	c.execs = append(c.execs, cmd)
	c.mu.Unlock()
	return nil
}

// Processes returns the PIDs of the container's processes: the main process
// and its descendants, and exec'd ones still alive.
func (c *Container) Processes() []int {
	c.mu.Lock()
	pid := c.pid
	var roots []int
	if pid != 0 {
		roots = append(roots, pid)
	}
	for _, x := range c.execs {
		if x.Process != nil && proc.Alive(x.Process.Pid) {
			roots = append(roots, x.Process.Pid)
		}
	}
	c.mu.Unlock()
	return proc.Descendants(roots)
}
