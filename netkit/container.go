package netkit

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/proc"
)

// Container is a container of the engine: a main process in a network
// namespace of its own (bridge, none), of the host (host mode) or of another
// container (container: mode).
type Container struct {
	ID      string
	Name    string
	Created time.Time
	opts    RunOptions
	e       *Engine

	mu         sync.Mutex
	state      string // created, running, exited
	node       *Node
	proc       *os.Process
	pid        int
	hostname   string
	endpoints  []*endpoint
	bindings   []PortBinding // published ports while running
	proxies    []io.Closer
	execs      []*exec.Cmd
	startedAt  time.Time
	finishedAt time.Time
	exitCode   int
	stopping   bool
	removed    bool
	done       chan struct{} // closed when the main process has been reaped
	exited     bool          // the current main process has been reaped
	sandboxed  bool          // a start got as far as making the namespace
	// Warnings are the daemon's warnings for docker run (e.g. published
	// ports discarded in host mode).
	Warnings []string
}

// endpoint is a container's attachment to a bridge network.
type endpoint struct {
	ID       string
	net      *Network
	ifname   string
	hostVeth string
	addr     netip.Addr
	mac      net.HardwareAddr
	reqIP    netip.Addr // --ip
}

// Options returns the options the container was created with.
func (c *Container) Options() RunOptions { return c.opts }

// State returns "created", "running" or "exited".
func (c *Container) State() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Pid returns the main process's PID (0 when not running).
func (c *Container) Pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pid
}

// Node returns the container's network namespace as a lab node, or nil when
// it is not running.
func (c *Container) Node() *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != "running" {
		return nil
	}
	return c.node
}

// Hostname returns the container's hostname.
func (c *Container) Hostname() string { return c.hostname }

// ShortID returns the first 12 hex digits of the ID.
func (c *Container) ShortID() string { return c.ID[:12] }

// Ports returns the published ports (empty when not running), in Docker's
// order.
func (c *Container) Ports() []PortBinding {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]PortBinding(nil), c.bindings...)
}

// IP returns the container's address on network name ("" = first), or the
// zero Addr.
func (c *Container) IP(network string) netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ep := range c.endpoints {
		if network == "" || ep.net.Name == network {
			return ep.addr
		}
	}
	return netip.Addr{}
}

// Run creates and starts a container, as docker run does.
func (e *Engine) Run(o RunOptions) (*Container, error) {
	c, err := e.Create(o)
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		if o.Remove {
			e.Remove(c.ID, true)
		}
		return c, err
	}
	return c, nil
}

// Create checks the options and records a container in state "created", as
// docker create does.
func (e *Engine) Create(o RunOptions) (*Container, error) {
	if o.Image == "" {
		o.Image = "busybox"
	}
	var warnings []string
	switch o.Network.Kind {
	case ModeContainer:
		if o.Hostname != "" {
			return nil, derr(ErrInvalid, "conflicting options: hostname and the network mode")
		}
		if len(o.Publish) > 0 || o.PublishAll {
			return nil, derr(ErrInvalid, "conflicting options: port publishing and the container type network mode")
		}
		if len(o.ExtraExpose) > 0 {
			return nil, derr(ErrInvalid, "conflicting options: port exposing and the container type network mode")
		}
	case ModeHost:
		if len(o.Publish) > 0 || o.PublishAll {
			warnings = append(warnings, "Published ports are discarded when using host network mode")
			o.Publish, o.PublishAll = nil, false
		}
	case ModeNone:
	case ModeBridge:
	}
	if o.IP.IsValid() {
		if o.Network.Kind != ModeBridge || o.Network.Network == "" || o.Network.Network == "bridge" {
			return nil, derr(ErrInvalid, "user specified IP address is supported on user defined networks only")
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil, derr(ErrNotRunning, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
	}
	if o.Network.Kind == ModeBridge {
		netName := o.Network.Network
		if netName == "" {
			netName = "bridge"
		}
		n, err := e.networkLocked(netName)
		if err != nil {
			return nil, err
		}
		if o.IP.IsValid() && !n.UserSubnet {
			return nil, derr(ErrInvalid, "user specified IP address is supported only when connecting to networks with user configured subnets")
		}
		if o.IP.IsValid() && !n.Subnet.Contains(o.IP) {
			return nil, derr(ErrInvalid, "no configured subnet or ip-range contain the IP address %s", o.IP)
		}
	}
	id := newID()
	if o.Name == "" {
		for {
			o.Name = randomName()
			if _, err := e.containerLocked(o.Name); err != nil {
				break
			}
		}
	} else {
		if !validName(o.Name) {
			return nil, derr(ErrInvalid, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", o.Name)
		}
		for _, x := range e.containers {
			if !x.removed && x.Name == o.Name {
				return nil, derr(ErrConflict, "Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", o.Name, x.ID)
			}
		}
	}
	if o.Network.Kind == ModeContainer {
		if o.Network.Container == o.Name {
			return nil, e.release().ownNetNSError()
		}
		if _, err := e.containerLocked(o.Network.Container); err != nil {
			return nil, err
		}
	}
	c := &Container{ID: id, Name: o.Name, Created: time.Now(), opts: o, e: e, state: "created", Warnings: warnings}
	e.containers = append(e.containers, c)
	return c, nil
}

func validName(s string) bool {
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if i > 0 {
			ok = ok || r == '_' || r == '.' || r == '-'
		}
		if !ok {
			return false
		}
	}
	return s != ""
}

// Start starts a created or exited container: its namespace and network,
// then its main process, and returns once the process reports it is ready.
// On error the container is left as it was, with nothing of its network.
func (c *Container) Start() (err error) {
	c.mu.Lock()
	if c.state == "running" {
		c.mu.Unlock()
		return nil
	}
	if c.removed {
		c.mu.Unlock()
		return derr(ErrNotFound, "No such container: %s", c.Name)
	}
	c.mu.Unlock()
	e := c.e
	o := c.opts
	var node *Node
	c.hostname = o.Hostname
	if c.hostname == "" {
		c.hostname = c.ID[:12]
	}
	defer func() {
		if err != nil {
			c.teardown(announced{})
		}
	}()
	switch o.Network.Kind {
	case ModeHost:
		node = &Node{Name: c.Name, ns: e.host.ns, nl: e.host.nl, shared: true}
		c.hostname = NodeHost
	case ModeContainer:
		target, terr := e.Container(o.Network.Container)
		if terr != nil {
			return terr
		}
		if target.ID == c.ID {
			return e.release().ownNetNSError()
		}
		tn := target.Node()
		if tn == nil {
			return e.release().notRunningError(target)
		}
		if tn.shared {
			node = &Node{Name: c.Name, ns: tn.ns, nl: tn.Netlink(), shared: true}
		} else {
			ns, oerr := netns.OpenPID(target.Pid())
			if oerr != nil {
				return oerr
			}
			node = &Node{Name: c.Name, ns: ns}
		}
		c.hostname = target.hostname
	case ModeNone, ModeBridge:
		n, nerr := newContainerNode(c.Name)
		if nerr != nil {
			return fmt.Errorf("making the namespace of container %s: %w", c.Name, nerr)
		}
		node = n
	}
	node.utsPID = c.Pid
	c.mu.Lock()
	c.node = node
	c.sandboxed = true
	c.mu.Unlock()
	if o.Network.Kind == ModeBridge {
		netName := o.Network.Network
		if netName == "" {
			netName = "bridge"
		}
		n, nerr := e.Network(netName)
		if nerr != nil {
			if netName == "bridge" && e.opts.Bridge == "none" {
				n = nil // -b none: default-mode containers get no eth0
			} else {
				return nerr
			}
		}
		if n != nil {
			// Its port rules are announced (see package batch) before
			// the veth is made, which takes a while, so that a batch of
			// rules waits for them when many containers start at once.
			var t *batch.Ticket
			if len(portsOf(o)) > 0 {
				t = e.fw.expect(1)
				defer t.Release()
			}
			// The veth and the published ports are made at the same
			// time: neither needs the other, and each mostly waits for
			// the kernel (rtnl, iptables-restore).
			ep, rerr := c.reserve(n, o.IP)
			if rerr != nil {
				return e.release().setupError(rerr)
			}
			published := make(chan error, 1)
			go func() { published <- c.publish(n, ep.addr, ep.ID, t) }()
			// A container that runs no program has nothing that could
			// miss its network: its main process starts meanwhile too.
			var launched chan error
			if o.Program == "" {
				launched = make(chan error, 1)
				go func() { launched <- c.launch() }()
			}
			aerr := c.plumb(ep, true)
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
				if perr == nil {
					c.unpublishAll(n, ep.addr)
				}
				n.pool.Release(ep.addr)
				return e.release().setupError(aerr)
			}
			if perr != nil {
				return e.release().setupError(perr)
			}
			if launched != nil {
				return c.running()
			}
		}
	}
	return c.startProcess()
}

// attach connects the container to a network: an address from IPAM, a veth
// pair with ethN inside the container and vethXXXXXXX on the bridge, and the
// default route via the gateway when gateway is set.
//
// Equivalent to: ip link add vethX type veth peer name ethN netns CTR;
// ip link set vethX master BR up;
// ip netns exec CTR sysctl -w net.ipv6.conf.ethN.disable_ipv6=1;
// ip -n CTR addr add IP/BITS dev ethN;
// ip -n CTR link set ethN up; ip -n CTR route add default via GW
func (c *Container) attach(n *Network, req netip.Addr, gateway bool) (*endpoint, error) {
	ep, err := c.reserve(n, req)
	if err != nil {
		return nil, err
	}
	if err := c.plumb(ep, gateway); err != nil {
		n.pool.Release(ep.addr)
		return nil, err
	}
	return ep, nil
}

// reserve takes the container's address on network n from IPAM (req if
// valid) and returns its endpoint, not yet plumbed. Release ep.addr if it
// is not plumbed after all.
func (c *Container) reserve(n *Network, req netip.Addr) (*endpoint, error) {
	var addr netip.Addr
	if req.IsValid() {
		if rerr := n.pool.Request(req); rerr != nil {
			return nil, derr(ErrConflict, "Address already in use")
		}
		addr = req
	} else {
		a, aerr := n.pool.RequestAny()
		if aerr != nil {
			return nil, derr(ErrConflict, "no available IPv4 addresses on this network's address pools: %s (%s)", n.Name, n.ID)
		}
		addr = a
	}
	c.mu.Lock()
	ifname := fmt.Sprintf("eth%d", len(c.endpoints))
	c.mu.Unlock()
	return &endpoint{ID: newID(), net: n, ifname: ifname, hostVeth: "veth" + newID()[:7], addr: addr, mac: c.e.release().containerMAC(addr), reqIP: req}, nil
}

// plumb makes a reserved endpoint's veth pair and configures the
// container's end (see attach), then records the endpoint. On error
// nothing of it remains but its address, which the caller releases.
func (c *Container) plumb(ep *endpoint, gateway bool) (err error) {
	e, n, addr, ifname := c.e, ep.net, ep.addr, ep.ifname
	c.mu.Lock()
	node := c.node
	c.mu.Unlock()
	hc, err := e.host.borrow()
	if err != nil {
		return err
	}
	defer e.host.giveBack(hc)
	hh := hc.Handle
	// The bridge is looked up each time, not remembered: the lookup also
	// makes the kernel apply a carrier change of the bridge it has not
	// yet (link events wait up to a second). A docker0 whose last port
	// just went loses its carrier, and with it its ARP entries, before
	// the new port brings the carrier back; otherwise a container run
	// again on the same address with a new MAC (Docker 28's random MACs)
	// would meet the old container's ARP entry on the host.
	br, err := hh.LinkByName(n.Bridge)
	if err != nil {
		return fmt.Errorf("finding bridge %s: %w", n.Bridge, err)
	}
	master := br.Attrs().Index
	pair := link.VethPair{Host: ep.hostVeth, Master: master, MTU: e.linkMTU(n), TxQueues: link.DefaultTxQueues(), Peer: ifname, PeerMAC: ep.mac, PeerNS: node.ns.Fd()}
	var hostEnd netlink.Link // once made
	defer func() {
		if err != nil && hostEnd != nil {
			hh.LinkDel(hostEnd)
		}
	}()
	// The container side is configured from a thread inside its
	// namespace, with a short-lived handle (see Node.config).
	err = node.config(func(h *netlink.Handle) error {
		// IPv6 off on the new interface, as Docker does (see
		// noIPv6Default), and on its host end (see hostIPv6Off), then
		// the veth, its host end a port of the bridge.
		restore, err := noIPv6Default(&e.sysctls)
		if err != nil {
			return fmt.Errorf("turning IPv6 off for %s in container %s: %w", ifname, c.Name, err)
		}
		restoreHost, err := e.hostV6.off()
		if err != nil {
			restore()
			return err
		}
		ix, err := hc.AddVeth(pair)
		if err == nil {
			// Made: rolled back from here on, even if a restore fails.
			hostEnd = &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: ep.hostVeth, Index: ix.Host}}
		}
		if rerr := restoreHost(); err == nil && rerr != nil {
			err = rerr
		}
		if rerr := restore(); err == nil && rerr != nil {
			err = rerr
		}
		if err != nil {
			return fmt.Errorf("adding veth %s for container %s: %w", ep.hostVeth, c.Name, err)
		}
		if e.opts.NoUserlandProxy {
			// Equivalent to: bridge link set dev vethX hairpin on
			if err := hh.LinkSetHairpin(hostEnd, true); err != nil {
				return fmt.Errorf("setting hairpin on %s: %w", ep.hostVeth, err)
			}
		}
		eth := netlink.Link(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: ifname, Index: ix.Peer}})
		if ix.Peer == 0 {
			// A kernel that did not echo the new link (see link.Conn.AddVeth).
			if eth, err = h.LinkByName(ifname); err != nil {
				return fmt.Errorf("finding %s in container %s: %w", ifname, c.Name, err)
			}
		}
		if err := h.AddrAdd(eth, &netlink.Addr{IPNet: ipNet(netip.PrefixFrom(addr, n.Subnet.Bits()))}); err != nil {
			return fmt.Errorf("adding %s to %s in container %s: %w", addr, ifname, c.Name, err)
		}
		if err := h.LinkSetUp(eth); err != nil {
			return fmt.Errorf("setting %s up in container %s: %w", ifname, c.Name, err)
		}
		// The host end goes up right after, so that the bridge enables
		// its port once (see link.Conn.AddVeth).
		// Equivalent to: ip link set vethX up
		if err := hh.LinkSetUp(hostEnd); err != nil {
			return fmt.Errorf("setting %s up: %w", ep.hostVeth, err)
		}
		if gateway && !n.Internal {
			gw := n.Gateway
			if n.DefaultGW.IsValid() {
				gw = n.DefaultGW
			}
			// Equivalent to: ip route add default via GW
			if err := h.RouteAdd(&netlink.Route{Gw: gw.AsSlice()}); err != nil {
				return fmt.Errorf("adding default route via %s in container %s: %w", gw, c.Name, err)
			}
		}
		// The container's end came up before its peer: it sends nothing
		// until the kernel has seen its carrier (see link.WaitOperUp).
		link.WaitOperUp(h, ifname)
		return nil
	})
	if err != nil {
		return err
	}
	// So are the host end and the bridge.
	link.WaitOperUp(hh, ep.hostVeth, n.Bridge)
	if err := e.fw.addEndpoint(n, addr); err != nil {
		return err
	}
	e.mu.Lock()
	n.endpoints[c.ID] = ep
	e.mu.Unlock()
	c.mu.Lock()
	c.endpoints = append(c.endpoints, ep)
	c.mu.Unlock()
	return nil
}

// detach undoes attach.
func (c *Container) detach(ep *endpoint, t *batch.Ticket) error {
	e := c.e
	var errs []error
	if !e.discarding.Load() {
		errs = append(errs, e.fw.delEndpoint(ep.net, ep.addr))
		// Equivalent to: ip link del vethX (its peer goes with it)
		errs = append(errs, e.veths.Delete(ep.hostVeth, t))
	}
	ep.net.pool.Release(ep.addr)
	e.mu.Lock()
	delete(ep.net.endpoints, c.ID)
	e.mu.Unlock()
	c.mu.Lock()
	for i, x := range c.endpoints {
		if x == ep {
			c.endpoints = append(c.endpoints[:i], c.endpoints[i+1:]...)
			break
		}
	}
	c.mu.Unlock()
	return errors.Join(errs...)
}

// startProcess starts the main process inside the container's namespace,
// waits for it to report readiness and marks the container running.
func (c *Container) startProcess() error {
	if err := c.launch(); err != nil {
		return err
	}
	return c.running()
}

// launch starts the main process inside the container's namespace and
// waits for it to report readiness.
func (c *Container) launch() error {
	o := c.opts
	comm := o.Comm
	if comm == "" {
		comm = o.Program
	}
	if comm == "" {
		comm = "sh"
	}
	cfg := initproc.Config{
		Mode: initproc.ModeInit, RemountSys: true, Hostname: c.hostname,
		Comm: comm, Program: o.Program, Args: o.Args,
	}
	var cmd *exec.Cmd
	var err error
	if o.Program == "" {
		// A container that runs no program (busybox) gets the light
		// waiter, where there is one: re-executing labrun costs its
		// package initialisation for every container.
		// Where the waiter cannot be loaded (a kernel that refuses to
		// execute memfds), labrun is re-executed instead.
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
		return err
	}
	ready, err := proc.NewReadiness()
	if err != nil {
		return err
	}
	defer ready.Close()
	var stderr strings.Builder
	c.mu.Lock()
	node := c.node
	c.mu.Unlock()
	var p *os.Process
	var wait func() *os.ProcessState
	if waiter {
		// The waiter writes nothing: it needs no pipe (a descriptor held,
		// and copied into every process labrun starts, for as long as the
		// container runs). It remounts nothing, so it needs no mount
		// namespace of its own (whose copy and teardown, an expedited RCU
		// grace period on exit, would cost more than the rest of its
		// life). It is spawned (see netns.Spawn): a lab starts one per
		// container, while labrun holds the descriptors of all the others.
		p, err = node.ns.Spawn(netns.Spawn{Exe: exe, Args: cmd.Args, Env: cmd.Env, Extra: []*os.File{ready.Child()}}, netns.StartOptions{NewUTS: true})
		wait = func() *os.ProcessState {
			st, _ := p.Wait()
			return st
		}
	} else {
		cmd.ExtraFiles = []*os.File{ready.Child()}
		cmd.Stderr = &proc.HeadWriter{W: &stderr, N: 4096}
		err = node.ns.Start(cmd, netns.StartOptions{NewUTS: true, NewMount: true})
		if err == nil {
			p = cmd.Process
			wait = func() *os.ProcessState {
				cmd.Wait()
				return cmd.ProcessState
			}
		}
	}
	ready.Started()
	if err != nil {
		return fmt.Errorf("starting container %s: %w", c.Name, err)
	}
	done := make(chan struct{})
	c.mu.Lock()
	c.proc = p
	c.pid = p.Pid
	c.done = done
	c.exited = false
	c.mu.Unlock()
	go c.reap(wait, done)

	timeout := o.ReadyTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	if rerr := ready.Wait(timeout); rerr != nil {
		p.Kill()
		<-done
		msg := strings.TrimSpace(stderr.String())
		if errors.Is(rerr, proc.ErrNotReady) {
			return fmt.Errorf("container %s: main process not ready after %s", c.Name, timeout)
		}
		if msg == "" {
			msg = "main process exited before it was ready"
		}
		return fmt.Errorf("container %s: %s", c.Name, msg)
	}
	return nil
}

// running marks the container running once its main process is ready.
func (c *Container) running() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.exited {
		// The program exited right after reporting readiness: reap saw a
		// container that was not running yet, so stop it here.
		return fmt.Errorf("container %s: main process exited at start (exit code %d)", c.Name, c.exitCode)
	}
	c.state = "running"
	c.startedAt = time.Now()
	return nil
}

// killLaunched kills a main process that launch started for a container
// whose start failed afterwards, and waits for it.
func (c *Container) killLaunched() {
	c.mu.Lock()
	p, done := c.proc, c.done
	c.mu.Unlock()
	if p != nil {
		p.Kill()
		<-done
	}
}

// reap waits for the main process; when it exits by itself, the container
// stops as Docker's does (network released, --rm honoured).
func (c *Container) reap(wait func() *os.ProcessState, done chan struct{}) {
	code := proc.ExitCode(wait())
	c.mu.Lock()
	c.exitCode = code
	stopping := c.stopping
	wasRunning := c.state == "running"
	c.exited = true
	close(done)
	c.mu.Unlock()
	if !stopping && wasRunning {
		c.teardown(announced{})
		c.mu.Lock()
		c.state = "exited"
		c.finishedAt = time.Now()
		c.mu.Unlock()
		if c.opts.Remove {
			c.e.Remove(c.ID, true)
		}
	}
}

// Stop stops a running container: SIGTERM, then SIGKILL after timeout.
//
// Equivalent to: docker stop -t TIMEOUT NAME
func (c *Container) Stop(timeout time.Duration) error {
	return c.stop(timeout, true)
}

func (c *Container) stop(timeout time.Duration, honourRm bool) error {
	c.mu.Lock()
	if c.state != "running" {
		c.mu.Unlock()
		return nil
	}
	c.stopping = true
	p, done := c.proc, c.done
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
	t := announced{veths: c.e.veths.Expect(len(c.endpoints))}
	if len(c.bindings) > 0 {
		t.rules = c.e.fw.expect(1)
	}
	c.mu.Unlock()
	defer t.release()
	// Kill the whole tree, so that nothing of the container outlives it.
	proc.KillTree(p)
	<-done
	err := c.teardown(t)
	c.mu.Lock()
	c.state = "exited"
	c.finishedAt = time.Now()
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
	bindings := c.bindings
	c.bindings = nil
	eps := append([]*endpoint(nil), c.endpoints...)
	node := c.node
	c.node = nil
	c.pid = 0
	c.mu.Unlock()
	for _, x := range execs {
		if x.Process != nil {
			x.Process.Kill()
		}
	}
	for _, p := range proxies {
		errs = append(errs, p.Close())
	}
	// The port rules and the veths go at the same time: deleting either
	// waits for the kernel (an RCU grace period), and each is batched with
	// other containers' deletions (firewall.Programmer, link.Deleter).
	unpublished := make(chan error, 1)
	go func() { unpublished <- c.unpublish(bindings, eps, t.rules) }()
	for _, ep := range eps {
		errs = append(errs, c.detach(ep, t.veths))
	}
	errs = append(errs, <-unpublished)
	if node != nil {
		errs = append(errs, node.close())
	}
	return errors.Join(errs...)
}

// Remove removes a container; a running one only with force.
//
// Equivalent to: docker rm [-f] NAME
func (e *Engine) Remove(ref string, force bool) error {
	c, err := e.Container(ref)
	if err != nil {
		return err
	}
	if c.State() == "running" {
		if !force {
			return derr(ErrConflict, "cannot remove container \"/%s\": container is running: stop the container before removing or force remove", c.Name)
		}
		c.stop(0, false)
	}
	e.mu.Lock()
	c.removed = true
	for i, x := range e.containers {
		if x == c {
			e.containers = append(e.containers[:i], e.containers[i+1:]...)
			break
		}
	}
	e.mu.Unlock()
	return nil
}

// Exec runs argv inside a running container (its network and UTS
// namespaces, a /sys of its own). The command is started, not waited for.
//
// Equivalent to: docker exec NAME ARGV...
func (c *Container) Exec(env []string, argv ...string) (*exec.Cmd, error) {
	node := c.Node()
	if node == nil {
		return nil, derr(ErrNotRunning, "container %s is not running", c.ID)
	}
	if len(argv) == 0 {
		return nil, derr(ErrInvalid, "no command specified")
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, derr(ErrInvalid, "OCI runtime exec failed: exec failed: unable to start container process: exec: %q: executable file not found in $PATH: unknown", argv[0])
	}
	return execCommand(env, initproc.Config{Mode: initproc.ModeExec, RemountSys: true, Args: argv, UTSFromPID: c.Pid()})
}

// StartExec starts a command made by Exec inside the container and records
// it for docker top; it is killed when the container stops.
func (c *Container) StartExec(cmd *exec.Cmd) error {
	node := c.Node()
	if node == nil {
		return derr(ErrNotRunning, "container %s is not running", c.ID)
	}
	if err := startExec(node.ns, cmd, netns.StartOptions{NewMount: true}); err != nil {
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

// portsOf lists the container ports to publish: -p bindings, and with -P
// every exposed port not already bound, on an ephemeral host port.
func portsOf(o RunOptions) []ports.Binding {
	bs := append([]ports.Binding(nil), o.Publish...)
	if o.PublishAll {
		seen := map[ports.Port]bool{}
		for _, b := range bs {
			seen[b.Container] = true
		}
		for _, p := range append(append([]ports.Port(nil), o.Expose...), o.ExtraExpose...) {
			if !seen[p] {
				seen[p] = true
				bs = append(bs, ports.Binding{Container: p})
			}
		}
	}
	return bs
}
