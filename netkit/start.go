package netkit

import (
	"cmp"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/node"
	"github.com/labrun/labrun/netkit/ports"
)

// Start starts a created or exited container: its namespace and network,
// then its main process, and returns once the process reports it is ready.
// On error the container is left as it was, with nothing of its network.
func (c *Container) Start() (err error) {
	c.mu.Lock()
	switch c.state {
	case stateRunning:
		c.mu.Unlock()
		return nil
	case stateRemoved:
		c.mu.Unlock()
		return derr(ErrNotFound, "No such container: %s", c.Name)
	}
	c.mu.Unlock()
	e := c.e
	o := c.opts
	var nd *Node
	if o.Hostname != "" {
		c.setHostname(o.Hostname)
	} else {
		c.setHostname(c.ID[:12])
	}
	// sandboxed: this start got as far as Docker's sandbox, which
	// inspect shows (SandboxID, SandboxKey): made with the namespace, but
	// on a bridge network only once the network was found and the
	// endpoint's address granted (see release.Release.KeepSandbox and
	// FailedStartNetworks).
	sandboxed := false
	// resolver waits for the embedded resolver started meanwhile, if any.
	resolver := func() error { return nil }
	defer func() {
		if err != nil {
			c.teardown(announced{})
		}
		c.mu.Lock()
		c.sandboxed = c.sandboxed || sandboxed
		switch {
		case err == nil:
			c.lastStart = startedOK
		case sandboxed:
			c.lastStart = failedInSandbox
		default:
			c.lastStart = failedBeforeSandbox
		}
		c.mu.Unlock()
	}()
	if err := c.checkLinks(); err != nil {
		return err
	}
	switch o.Network.Kind {
	case ModeHost:
		nd = node.Shared(c.Name, e.host.NS(), e.host.Netlink())
		c.setHostname(e.host.Name)
	case ModeContainer:
		target, terr := e.Container(o.Network.Container)
		if terr != nil {
			return terr
		}
		if target.ID == c.ID {
			return e.ownNetNSError()
		}
		tn := target.Node()
		if tn == nil {
			return e.notRunningError(target)
		}
		if tn.IsShared() {
			nd = node.Shared(c.Name, tn.NS(), tn.Netlink())
		} else {
			var oerr error
			if nd, oerr = node.FromPID(c.Name, target.Pid()); oerr != nil {
				return oerr
			}
		}
		c.setHostname(target.Hostname())
	case ModeNone, ModeBridge:
		n, nerr := node.NewContainer(c.Name)
		if nerr != nil {
			return fmt.Errorf("making the namespace of container %s: %w", c.Name, nerr)
		}
		nd = n
	}
	nd.SetUTS(c.Pid)
	c.mu.Lock()
	c.node = nd
	c.mu.Unlock()
	sandboxed = o.Network.Kind != ModeBridge
	if o.Network.Kind == ModeBridge {
		netName := o.Network.String() // the network's name, "bridge" for the default
		n, nerr := e.Network(netName)
		if nerr != nil {
			if e.bridgeNone(netName) {
				n = nil // -b none: default-mode containers get no eth0
			} else {
				return e.setupError(nerr)
			}
		}
		if n != nil && o.IP.IsValid() && !e.opts.EndpointSettingsErrors() {
			// Before API 1.44 the start checks --ip, not the create
			// (release.Release.EndpointSettingsErrors): no endpoint.
			if err := e.checkIP(n, o.IP); err != nil {
				return e.setupError(err)
			}
		}
		sandboxed = n == nil // -b none: a sandbox without eth0
		if n != nil {
			// Its port rules are announced (see package batch) before
			// the veth is made, which takes a while, so that a batch of
			// rules waits for them when many containers start at once.
			var t *batch.Ticket
			if len(portsOf(o)) > 0 {
				t = e.fw.Expect(1)
				defer t.Release()
			}
			// The veth and the published ports are made at the same
			// time: neither needs the other, and each mostly waits for
			// the kernel (rtnl, iptables-restore).
			if err := n.link.EndpointError(c.Name, n.Name, o.MacAddress != nil); err != nil {
				return e.setupError(err)
			}
			ep, rerr := c.reserve(n, o.IP, o.IP6)
			sandboxed = rerr == nil
			if rerr != nil {
				return e.setupError(rerr)
			}
			if o.MacAddress != nil {
				ep.mac = o.MacAddress // --mac-address: the container's network's endpoint
			}
			ep.aliases, ep.ipamCfg = o.Aliases, o.IPAMConfig
			// A user-defined network's embedded resolver needs only
			// the namespace: it starts meanwhile too (its rules cost an
			// iptables-restore), and is waited for before any return.
			if !n.Default {
				resolved := make(chan error, 1)
				go func() { resolved <- c.startResolver() }()
				resolver = sync.OnceValue(func() error { return <-resolved })
				defer resolver()
			}
			// Except when a port is published on a loopback address:
			// its raw DROP rule follows the endpoint's, as in Docker
			// (libnetwork adds the endpoint's at join, the port's at
			// ProgramExternalConnectivity), seen on Docker 28.5.2.
			published := make(chan error, 1)
			serial := ports.OnLoopback(portsOf(o), n.HostBinding)
			if !serial {
				go func() { published <- c.publish(ep, t) }()
			}
			// A container that runs no program has nothing that could
			// miss its network: its main process starts meanwhile too.
			var launched chan error
			if o.Program == "" {
				launched = make(chan error, 1)
				go func() { launched <- c.launch() }()
			}
			aerr := c.plumb(ep, true)
			if serial {
				if aerr == nil {
					published <- c.publish(ep, t)
				} else {
					published <- errNotPublished
				}
			}
			perr := <-published
			if launched != nil {
				lerr := <-launched
				if lerr == nil && (aerr != nil || perr != nil) {
					c.killLaunched()
				}
				if lerr != nil && aerr == nil && perr == nil {
					return lerr
				}
			}
			if aerr != nil {
				if perr == nil && !serial {
					c.unpublishAll(n)
				}
				ep.release()
				return e.setupError(aerr)
			}
			if perr != nil {
				return e.setupError(perr)
			}
			if launched != nil {
				if err := c.writeNames(resolver); err != nil {
					return err
				}
				return c.running()
			}
		}
	}
	if err := c.writeNames(resolver); err != nil {
		return err
	}
	return c.startProcess()
}

// errNotPublished stands for the ports of a container whose veth failed
// before they were published.
var errNotPublished = errors.New("ports not published")

// startProcess starts the main process inside the container's namespace,
// waits for it to report readiness and marks the container running.
func (c *Container) startProcess() error {
	if err := c.launch(); err != nil {
		return err
	}
	return c.running()
}

// launch starts the main process inside the container's namespace (see
// node.Launch) and waits for it to report readiness.
func (c *Container) launch() error {
	o := c.opts
	cfg := initproc.Config{
		Mode: initproc.ModeInit, RemountSys: true, Hostname: c.Hostname(),
		Comm: cmp.Or(o.Comm, o.Program, "sh"), Program: o.Program, Args: o.Args, Binds: c.binds(),
	}
	c.mu.Lock()
	nd := c.node
	c.mu.Unlock()
	m, err := node.Launch(nd, cfg, node.Output{Stdout: o.Stdout, Stderr: o.Stderr})
	if err != nil {
		return fmt.Errorf("starting container %s: %w", c.Name, err)
	}
	done := make(chan struct{})
	c.mu.Lock()
	c.main = m.Process
	c.pid = m.Process.Pid
	c.done = done
	c.exited = false
	c.mu.Unlock()
	go c.reap(m.Wait, done)
	timeout := cmp.Or(o.ReadyTimeout, 5*time.Second)
	if rerr := m.Ready(timeout); rerr != nil {
		m.Process.Kill()
		<-done
		return fmt.Errorf("container %s: %s", c.Name, m.Reason(rerr, timeout))
	}
	return nil
}

// running marks the container running once its main process is ready. A
// program that exited right after reporting readiness (busybox's sh on end
// of file) started all the same, as in Docker: reap saw a container not yet
// running, so it ends here.
func (c *Container) running() error {
	c.mu.Lock()
	if err := c.moveLocked(stateRunning); err != nil {
		c.mu.Unlock()
		return err // removed meanwhile
	}
	c.startedAt = time.Now()
	exited := c.exited
	c.mu.Unlock()
	if exited {
		c.ended()
	}
	return nil
}

// killLaunched kills a main process that launch started for a container
// whose start failed afterwards, and waits for it.
func (c *Container) killLaunched() {
	c.mu.Lock()
	p, done := c.main, c.done
	c.mu.Unlock()
	if p != nil {
		p.Kill()
		<-done
	}
}
