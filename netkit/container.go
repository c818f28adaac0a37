package netkit

import (
	"io"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/labrun/labrun/netkit/names"
	"github.com/labrun/labrun/netkit/ports"
)

// Container is a container of the engine: a main process in a network
// namespace of its own (bridge, none), of the host (host mode) or of another
// container (container: mode). Its life is a small state machine (ctrState:
// created, running, stopped, removed) that moves only through moveLocked.
//
// Locking: the fields above mu are set by Create and never change (e only
// when an engine restart carries the container to the next engine, before
// that engine is shared). mu guards every field below it. The engine's mu
// is taken before a container's, never while holding one (Engine.Remove and
// the engine's lookups hold both); no container lock is held across a
// kernel request or a wait for a process.
type Container struct {
	ID      string
	Name    string
	Created time.Time
	opts    RunOptions
	e       *Engine
	// Warnings are the daemon's warnings for docker run (e.g. published
	// ports discarded in host mode).
	Warnings []string

	mu         sync.Mutex
	state      ctrState
	node       *Node
	main       *os.Process // the main process, once launched
	pid        int         // its PID while running; 0 otherwise
	hostname   string
	endpoints  []*endpoint
	bindings   []ports.Binding // published ports while running
	portsNet   *Network        // the network whose endpoint carries them (its first non-internal one)
	portsAddr  netip.Addr      // the container's address on portsNet
	portsAddr6 netip.Addr      // and its IPv6 address there, if any
	proxies    []io.Closer
	execs      []*exec.Cmd
	startedAt  time.Time
	finishedAt time.Time
	exitCode   int
	exitAs     *int          // the status StopAs records instead of the kill's
	stopping   bool          // a stop is under way: the reaper leaves the teardown to it
	done       chan struct{} // closed when the main process has been reaped
	exited     bool          // the current main process has been reaped
	sandboxed  bool          // a start got as far as Docker's sandbox (see Start)
	lastStart  startOutcome  // how the last start ended (inspect shows what it left)
	names      nameService   // its name service (see dns.go)
}

// startOutcome is how a container's last start ended: what Docker's
// inspect shows after it depends on how far it got (moby/moby
// daemon/container_operations.go connectToNetwork, v28.5.2).
type startOutcome int

const (
	startedOK           startOutcome = iota // or never started
	failedBeforeSandbox                     // no network, --ip refused: no endpoint, no NetworkID
	failedInSandbox                         // after the sandbox: a taken port
)

// Options returns the options the container was created with.
func (c *Container) Options() RunOptions { return c.opts }

// State returns "created", "running" or "exited", as Docker names them.
func (c *Container) State() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.statusLocked()
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
	if c.state != stateRunning {
		return nil
	}
	return c.node
}

// Hostname returns the container's hostname.
func (c *Container) Hostname() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hostname
}

func (c *Container) setHostname(h string) {
	c.mu.Lock()
	c.hostname = h
	c.mu.Unlock()
}

// ShortID returns the first 12 hex digits of the ID.
func (c *Container) ShortID() string { return c.ID[:12] }

// Ports returns the published ports (empty when not running), in Docker's
// order, as docker port shows them: each binding's host address and port
// resolved by the engine (HostIP set, HostPortEnd 0).
func (c *Container) Ports() []ports.Binding {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ports.Binding(nil), c.bindings...)
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
		// In moby/moby v28.5.2 runconfig/hostconfig.go
		// validateNetContainerMode's order.
		switch {
		case o.Hostname != "":
			return nil, derr(ErrInvalid, "conflicting options: hostname and the network mode")
		case len(o.Links) > 0:
			return nil, derr(ErrInvalid, "conflicting options: container type network can't be used with links. This would result in undefined behavior")
		case len(o.DNS) > 0:
			return nil, derr(ErrInvalid, "conflicting options: dns and the network mode")
		case len(o.ExtraHosts) > 0:
			return nil, derr(ErrInvalid, "conflicting options: custom host-to-IP mapping and the network mode")
		}
		if len(o.Publish) > 0 || o.PublishAll {
			return nil, derr(ErrInvalid, "conflicting options: port publishing and the container type network mode")
		}
		if len(o.ExtraExpose) > 0 {
			return nil, derr(ErrInvalid, "conflicting options: port exposing and the container type network mode")
		}
	case ModeHost:
		if len(o.Links) > 0 {
			return nil, derr(ErrInvalid, "conflicting options: host type networking can't be used with links. This would result in undefined behavior")
		}
		if len(o.Publish) > 0 || o.PublishAll {
			warnings = append(warnings, "Published ports are discarded when using host network mode")
			o.Publish, o.PublishAll = nil, false
		}
	case ModeNone:
	case ModeBridge:
	}
	if w := e.forwardWarning(o.Network.Kind); w != "" {
		warnings = append(warnings, w)
	}
	if (o.IP.IsValid() || o.IP6.IsValid()) && o.Network.Kind != ModeBridge {
		return nil, derr(ErrInvalid, "user specified IP address is supported on user defined networks only")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil, derr(ErrNotRunning, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
	}
	if o.Network.Kind == ModeBridge {
		netName := o.Network.String() // the network's name, "bridge" for the default
		// A network that does not exist fails the start, not the
		// create: the container stays (moby/moby daemon/create.go
		// validateNetworkingConfig ignores it, v28.5.2). Before API
		// 1.44 the start checks --ip too (see Container.Start).
		n, _ := e.networkLocked(netName)
		for _, ip := range []netip.Addr{o.IP, o.IP6} {
			if ip.IsValid() && n != nil && e.opts.EndpointSettingsErrors() {
				if err := e.checkIP(n, ip); err != nil {
					return nil, err
				}
			}
		}
	}
	id := names.ID()
	if o.Name == "" {
		for {
			o.Name = names.Random()
			if _, err := e.containerLocked(o.Name); err != nil {
				break
			}
		}
	} else {
		clean, ok := names.Container(o.Name)
		if !ok {
			return nil, derr(ErrInvalid, "Invalid container name (%s), only %s are allowed", o.Name, names.ContainerChars)
		}
		o.Name = clean
		for _, x := range e.containers {
			if x.Name == o.Name && !x.removedNow() {
				return nil, derr(ErrConflict, "Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", o.Name, x.ID)
			}
		}
	}
	if o.Network.Kind == ModeContainer {
		if o.Network.Container == o.Name {
			return nil, e.ownNetNSError()
		}
		if _, err := e.containerLocked(o.Network.Container); err != nil {
			return nil, err
		}
	}
	links, err := e.linkChildrenLocked(o)
	if err != nil {
		return nil, err
	}
	o.Links = links
	if len(links) > 0 && !o.userDefined() && o.Network.Kind == ModeBridge && e.opts.LinksDeprecated() {
		warnings = append(warnings, "Links on the default bridge network are deprecated and will be removed in a future release. Use a custom network instead.")
	}
	c := &Container{ID: id, Name: o.Name, Created: time.Now(), opts: o, e: e, state: stateCreated, Warnings: warnings}
	e.containers = append(e.containers, c)
	return c, nil
}

// checkIP checks docker run's --ip on bridge network n: from API 1.44
// (Docker 25), at create, as ipam.EndpointIPError says, under "invalid
// config for network N: " (moby/moby daemon/create.go
// validateNetworkingConfig, v25.0.0 to v28.5.2); before, at start, one
// reason, as it is: the network's, then the address's, which IPAM refuses
// (moby/moby v24.0.0 daemon/container_operations.go
// validateNetworkingConfig, and libnetwork/endpoint.go
// assignAddressVersion).
func (e *Engine) checkIP(n *Network, ip netip.Addr) error {
	if e.opts.EndpointSettingsErrors() {
		if err := e.endpointError(n, ip, false); err != nil {
			return derr(ErrInvalid, "invalid config for network %s: %s", n.Name, err)
		}
		return nil
	}
	subnet, static := n.subnetOf(ip) // --ip or --ip6
	if n.Default {
		return derr(ErrInvalid, "user specified IP address is supported on user defined networks only")
	}
	if !static {
		return derr(ErrInvalid, "user specified IP address is supported only when connecting to networks with user configured subnets")
	}
	if !subnet.Contains(ip) {
		return derr(ErrInvalid, "Invalid address %s: It does not belong to any of this network's subnets", ip)
	}
	return nil
}

// portsOf lists the container ports to publish (see ports.ToPublish).
func portsOf(o RunOptions) []ports.Binding {
	return ports.ToPublish(o.Publish, o.PublishAll, o.Expose, o.ExtraExpose)
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
			if !e.opts.RemoveErrorNamed() {
				return derr(ErrConflict, "You cannot remove a running container %s. Stop the container before attempting removal or force remove", c.ID)
			}
			name := "/" + c.Name
			if e.opts.RemoveErrorNamesRef() {
				name = ref
			}
			return derr(ErrConflict, "cannot remove container %q: container is running: stop the container before removing or force remove", name)
		}
		c.stop(0, false)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c.mu.Lock()
	err = c.moveLocked(stateRemoved)
	already := c.state == stateRemoved
	c.mu.Unlock()
	if already && err != nil {
		return nil // a concurrent removal won
	}
	if err != nil {
		return err // started again meanwhile
	}
	for i, x := range e.containers {
		if x == c {
			e.containers = append(e.containers[:i], e.containers[i+1:]...)
			break
		}
	}
	// Its files go with it, as /var/lib/docker/containers/ID does.
	return e.lab.etc.Remove(c.ID)
}
