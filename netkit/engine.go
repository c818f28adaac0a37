package netkit

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/driver"
	"github.com/labrun/labrun/netkit/firewall/backend"
	"github.com/labrun/labrun/netkit/ipam"
	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/names"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/proc"
)

// Engine is the networking part of dockerd, running on the lab's host node:
// the default bridge, user-defined networks, containers and their published
// ports. Its methods are safe for concurrent use.
type Engine struct {
	lab  *Lab
	host *Node
	opts DaemonOptions

	mu             sync.Mutex
	fw             backend.Firewall
	spaces         *ipam.Spaces
	spaces6        *ipam.Spaces6 // IPv6 subnets, and from 27 the ULA pool
	networks       []*Network    // in creation order
	containers     []*Container  // in creation order
	alloc          *ports.Allocator
	veths          *link.Deleter     // deletes containers' host-side veths, in batches
	drivers        *driver.Drivers   // the macvlan and ipvlan networks
	hostV6         *link.HostIPv6Off // host-side veths start with IPv6 off
	sysctls        netns.Sysctls     // containers' /proc/sys, through private procfs instances
	flipped        bool              // the engine turned ip_forward on
	forwardPending bool              // ip_forward goes on with the first bridge network (forwardNow)
	forwardOff     func() bool       // the host's ip_forward was 0, read once (see forwardWarning)
	discarding     atomic.Bool       // the lab is closing: links and rules go with its namespaces
	started        time.Time
	stopped        bool
}

// Engine returns the running engine of the lab's first Docker host, or
// nil.
func (l *Lab) Engine() *Engine { return l.EngineOn("") }

// EngineOn returns the running engine of node ("": the lab's first Docker
// host), or nil.
func (l *Lab) EngineOn(node string) *Engine {
	name, err := l.world.DockerHost(node)
	if err != nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.engines[name]
}

// Engines returns the running engines, in the order of the world's nodes.
func (l *Lab) Engines() []*Engine {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*Engine
	for _, name := range l.world.DockerNodes() {
		if e := l.engines[name]; e != nil {
			out = append(out, e)
		}
	}
	return out
}

// Host returns the lab's first Docker host node, or nil in a world
// without one.
func (l *Lab) Host() *Node {
	name, _ := l.world.DockerHost("")
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nodes[name]
}

// Errors dockerd gives for bad daemon flags.
var (
	errBridgeAndBIP = derr(ErrInvalid, "You specified -b & --bip, mutually exclusive options. Please specify only one")
	errICCNoIPT     = derr(ErrInvalid, "You specified --iptables=false with --icc=false. ICC=false uses iptables to function. Please set --icc or --iptables to true")
	errICCNoIP6T    = derr(ErrInvalid, "You specified --ip6tables=false with --icc=false. ICC=false uses ip6tables to function. Please set --icc or --ip6tables to true")
)

// StartEngine (re)starts the engine on the host node with dockerd's flags.
// A running engine is stopped first, as a dockerd restart does: its
// containers stop (they stay, exited) and its rules go; bridges and
// user-defined networks stay. On error nothing of the new engine remains.
func (l *Lab) StartEngine(opts DaemonOptions) (*Engine, error) {
	if opts.Bridge != "" && opts.Bridge != "none" && opts.BIP.IsValid() {
		return nil, errBridgeAndBIP
	}
	if opts.NoIPTables && opts.NoICC {
		return nil, errICCNoIPT
	}
	if opts.IPv6 && opts.NoICC && !opts.IP6TablesOn(opts.IP6Tables) {
		return nil, errICCNoIP6T
	}
	name, err := l.world.DockerHost(opts.Node)
	if err != nil {
		return nil, derr(ErrNotFound, "%s", err)
	}
	opts.Node = name
	l.mu.Lock()
	old := l.engines[name]
	delete(l.engines, name)
	host := l.nodes[name]
	// What a stopped dockerd keeps on disk: user-defined networks and
	// containers, restored by the next start (even after a failed one).
	carried := l.stored[name]
	l.mu.Unlock()
	if old != nil {
		c, err := old.shutdown(stopKeep)
		_ = err
		carried = c
	}
	l.mu.Lock()
	l.stored[name] = carried
	l.mu.Unlock()
	e := &Engine{lab: l, host: host, opts: opts, spaces: ipam.NewSpaces(), started: time.Now(), veths: link.NewDeleter(host), hostV6: link.NewHostIPv6Off(host.NS())}
	e.forwardOff = sync.OnceValue(e.readForwardOff)
	e.drivers = driver.New(host, &e.sysctls)
	if e.spaces6 = new(ipam.Spaces6); opts.ULAPool() {
		// The lab's name (and another host's name) stands for the
		// engine's host ID.
		id := l.opts.Name
		if first, _ := l.world.DockerHost(""); name != first {
			id += "/" + name
		}
		e.spaces6.Base = ipam.ULABase(id)
	}
	if err := e.start(carried); err != nil {
		e.shutdown(stopRemove)
		return nil, err
	}
	l.mu.Lock()
	l.engines[name] = e
	delete(l.stored, name)
	l.mu.Unlock()
	return e, nil
}

// StopEngine stops the engine of node ("": the first Docker host), as
// stopping dockerd does.
func (l *Lab) StopEngine(node string) error {
	name, err := l.world.DockerHost(node)
	if err != nil {
		return err
	}
	l.mu.Lock()
	e := l.engines[name]
	delete(l.engines, name)
	l.mu.Unlock()
	if e == nil {
		return nil
	}
	c, err := e.shutdown(stopKeep)
	l.mu.Lock()
	l.stored[name] = c
	l.mu.Unlock()
	return err
}

func (e *Engine) logf(format string, args ...any) { e.lab.logf(format, args...) }

// Settle waits for what the engine's start left running in the background
// (ip6tables' chains: see backend.IPTables.Start), so that the host shows
// the engine's whole state.
func (e *Engine) Settle() {
	if w, ok := e.fw.(interface{ Wait() }); ok {
		w.Wait()
	}
}

// Options returns the daemon options the engine runs with.
func (e *Engine) Options() DaemonOptions { return e.opts }

// Host returns the node the engine runs on.
func (e *Engine) Host() *Node { return e.host }

func (e *Engine) start(c *carry) error {
	begin, end := uint16(49153), uint16(65535)
	if s, err := e.host.NS().ReadSysctl("net/ipv4/ip_local_port_range"); err == nil {
		if b, en, err := ports.ParseLocalPortRange(s); err == nil {
			begin, end = b, en
		}
	}
	e.alloc = ports.NewAllocator(begin, end)
	e.forwardPending = !e.opts.NoIPForward && !e.forwardAtStart()
	if !e.opts.NoIPForward && e.forwardAtStart() {
		v, err := e.host.NS().ReadSysctl("net/ipv4/ip_forward")
		if err != nil {
			return err
		}
		switch {
		case v == "1":
		case e.opts.FirewallBackend == "nftables":
			// Docker 29 never enables forwarding for the nftables back
			// end (docs/docker.md §1.4), with --iptables=false too: it
			// refuses the default bridge, so it does not start (moby/moby
			// v2.0.0-beta.24 daemon/daemon.go, daemon_unix.go), seen on
			// the real engine. With -b none it starts.
			if e.opts.Bridge != "none" {
				return derr(ErrInvalid, `Error initializing network controller: error creating default "bridge" network: %s`, noForwarding)
			}
		default:
			if err := e.host.NS().WriteSysctl("net/ipv4/ip_forward", "1"); err != nil {
				return err
			}
			e.flipped = true
		}
	}
	if e.opts.NoICC || e.opts.NoUserlandProxy {
		// Docker makes bridged traffic traverse iptables for these modes.
		// Equivalent to: sysctl -w net.bridge.bridge-nf-call-iptables=1
		if err := e.host.NS().WriteSysctl("net/bridge/bridge-nf-call-iptables", "1"); err != nil {
			return err
		}
	}
	switch {
	case e.opts.FirewallBackend == "nftables":
		// With --iptables=false too: see backend.NFTables.
		e.fw = backend.NewNFTables(e.host.NS().Fd(), e.firewallConfig(), e.opts.NoIPTables)
	case e.opts.NoIPTables && !e.opts.IP6TablesOn(e.opts.IP6Tables):
		e.fw = backend.None{}
	default:
		e.fw = backend.NewIPTables(e.host.NS(), e.firewallConfig(), e.lab.opts.Logf)
	}
	if e.opts.Bridge != "none" {
		// The default network's links first, then its rules together
		// with the engine's chains: the rules name the bridge, they do
		// not need it.
		n, err := e.defaultNetwork()
		if err != nil {
			return err
		}
		if err := e.plumbNetwork(n, func() error {
			fn := fwNet(n)
			if err := e.fw.Start(e.flipped, &fn); err != nil {
				return fmt.Errorf("programming the engine's chains and the rules of network %s: %w", n.Name, err)
			}
			return nil
		}); err != nil {
			return err
		}
	} else if err := e.fw.Start(e.flipped, nil); err != nil {
		return fmt.Errorf("programming the engine's chains: %w", err)
	}
	if c != nil {
		for _, n := range c.networks {
			fresh := *n
			fresh.endpoints = map[string]*endpoint{}
			pool, err := ipam.NewPool(n.Subnet, n.IPRange)
			if err != nil {
				return err
			}
			fresh.pool = pool
			if err := pool.Request(n.Gateway); err != nil && n.Gateway.IsValid() {
				return err
			}
			if n.IPv6 != nil {
				if fresh.IPv6, err = n.IPv6.Fresh(e.spaces6); err != nil {
					return err
				}
			}
			if err := e.spaces.Reserve(n.Subnet); err != nil {
				return err
			}
			if fresh.link != nil {
				e.drivers.Restore(fresh.link)
				e.register(&fresh)
			} else if err := e.addNetwork(&fresh); err != nil {
				return err
			}
		}
		for _, ctr := range c.containers {
			ctr.e = e
			e.containers = append(e.containers, ctr)
		}
	}
	return nil
}

// shutdownMode says what stopping an engine removes.
type shutdownMode int

const (
	// stopRemove removes the containers with their links and rules, and
	// the networks' rules: the host namespace lives on (a failed start, a
	// lab whose namespaces are pinned).
	stopRemove shutdownMode = iota
	// stopKeep is stopRemove that carries user-defined networks and
	// containers to the next engine, as dockerd's restart does.
	stopKeep
	// stopDiscard is for a closing lab whose namespaces nothing pins: its
	// containers' processes and proxies stop, but no rule and no link is
	// removed one by one, since the kernel frees them all with the
	// namespaces (iptables-save and iptables-restore would cost several
	// processes per lab for nothing).
	stopDiscard
)

// carry is what survives an engine restart.
type carry struct {
	networks   []*Network
	containers []*Container
}

// shutdown stops every container and, unless mode is stopDiscard, removes
// their links and rules and the engine's rules. With stopKeep it returns
// the user-defined networks and the containers for the next engine.
func (e *Engine) shutdown(mode shutdownMode) (*carry, error) {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil, nil
	}
	e.stopped = true
	ctrs := append([]*Container(nil), e.containers...)
	e.mu.Unlock()
	keep := mode == stopKeep
	discard := mode == stopDiscard
	if discard {
		e.discarding.Store(true)
	}
	errs := stopAll(ctrs)
	e.mu.Lock()
	nets := append([]*Network(nil), e.networks...)
	e.mu.Unlock()
	c := &carry{}
	for i := len(nets) - 1; i >= 0; i-- {
		n := nets[i]
		if e.fw != nil && !discard && n.link == nil {
			errs = append(errs, e.fw.DelNetwork(fwNet(n)))
		}
		if keep && !n.Default {
			c.networks = append([]*Network{n}, c.networks...)
		}
	}
	if e.fw != nil && !discard {
		errs = append(errs, e.fw.Stop())
	} else {
		e.Settle()
	}
	errs = append(errs, e.hostV6.Close(), e.sysctls.Close())
	if keep {
		for _, ctr := range ctrs {
			if !ctr.removedNow() {
				c.containers = append(c.containers, ctr)
			}
		}
	}
	return c, errors.Join(errs...)
}

// stopAll stops containers, several at a time: their rules and veths are
// then removed in shared batches (see link.Deleter), so that a lab of many
// containers closes in a fraction of the time one by one would take.
func stopAll(ctrs []*Container) []error {
	return proc.Each(len(ctrs), 32, func(i int) error { return ctrs[i].stop(0, false) })
}

// defaultNetwork works out the default "bridge" network from the flags
// (--bip, --fixed-cidr, -b, --default-gateway), creating docker0 when needed.
func (e *Engine) defaultNetwork() (*Network, error) {
	name := "docker0"
	if e.opts.Bridge != "" {
		name = e.opts.Bridge
	}
	n := &Network{
		ID: names.ID(), Name: "bridge", Bridge: name, Default: true,
		ICC: !e.opts.NoICC, Masq: !e.opts.NoIPMasq && !e.opts.NoIPTables,
		HostBinding: e.opts.IP, Created: time.Now(), endpoints: map[string]*endpoint{},
	}
	exists, have, err := link.BridgeIPv4(e.host.Netlink(), name)
	if err != nil {
		return nil, err
	}
	if !exists && e.opts.Bridge != "" {
		return nil, derr(ErrNotFound, "bridge device with non default name %s must be created manually", name)
	}
	c, err := ipam.DefaultBridge(ipam.BridgeFlags{BIP: e.opts.BIP, FixedCIDR: e.opts.FixedCIDR,
		DefaultGateway: e.opts.DefaultGateway, Have: have}, func() (netip.Prefix, error) { return e.spaces.Allocate(e.reservedPrefixes()) })
	if errors.Is(err, ipam.ErrPoolsExhausted) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", err, ErrInvalid)
	}
	n.Subnet, n.Gateway, n.IPRange, n.DefaultGW = c.Subnet, c.Gateway, c.IPRange, c.DefaultGW
	n.staticPool, n.poolFromFixedCIDR = c.Static, c.NoGateway
	_ = e.spaces.Reserve(n.Subnet)
	pool, err := ipam.NewPool(n.Subnet, n.IPRange)
	if err != nil {
		return nil, fmt.Errorf("making the default bridge's pool: %w", err)
	}
	n.pool = pool
	_ = pool.Request(n.Gateway) // the gateway may lie outside --fixed-cidr
	if n.DefaultGW.IsValid() {
		_ = pool.Request(n.DefaultGW)
	}
	if e.opts.IPv6 {
		if n.IPv6, err = ipam.DefaultBridge6(e.spaces6, e.opts.FixedCIDRv6, e.opts.DefaultBridgeULA(), e.opts.MACDerivedIPv6()); err != nil {
			return nil, derr(ErrInvalid, "%s", err)
		}
	}
	if !exists {
		n.createdBridge = true
	} else if !have.IsValid() || netip.PrefixFrom(c.Gateway, c.Subnet.Bits()) != have {
		n.addAddress = true
	}
	return n, nil
}

// reservedPrefixes are the host's on-link routes, which Docker 27+ never
// hands out as a network subnet.
func (e *Engine) reservedPrefixes() []netip.Prefix { return link.OnLinkIPv4(e.host.Netlink()) }

// addNetwork creates the network's bridge (if netkit owns it) and its rules,
// rolling back on error.
func (e *Engine) addNetwork(n *Network) error {
	if err := e.forwardNow(); err != nil {
		return fmt.Errorf("turning IPv4 forwarding on for network %s: %w", n.Name, err)
	}
	return e.plumbNetwork(n, func() error {
		if err := e.fw.AddNetwork(fwNet(n)); err != nil {
			return fmt.Errorf("programming rules for network %s: %w", n.Name, err)
		}
		return nil
	})
}

// plumbNetwork makes network n's bridge (or adopts it), then runs program
// (its rules) and registers n. A bridge it made goes again if either fails.
func (e *Engine) plumbNetwork(n *Network, program func() error) (err error) {
	h := e.host.Netlink()
	if n.createdBridge {
		if _, err := h.LinkByName(n.Bridge); err == nil {
			n.createdBridge = false // left over from an earlier engine: adopt it
			n.addAddress = true
		}
	}
	if n.createdBridge {
		// Equivalent to: ip link add BR type bridge && ip addr add GW/BITS dev BR && ip link set BR up
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: n.Bridge, HardwareAddr: names.BridgeMAC(e.opts.RandomMAC()), MTU: e.linkMTU(n)}}
		if err := e.hostV6.Bridge(func() error { return h.LinkAdd(br) }); err != nil {
			return fmt.Errorf("adding bridge %s: %w", n.Bridge, err)
		}
		defer func() {
			if err != nil {
				h.LinkDel(br)
			}
		}()
		n.addAddress = true
	}
	if n.addAddress {
		if err := link.SetBridgeIPv4(h, n.Bridge, netip.PrefixFrom(n.Gateway, n.Subnet.Bits())); err != nil {
			return err
		}
	}
	if err := e.bridge6(n); err != nil {
		return err
	}
	if err := e.host.LinkUp(n.Bridge); err != nil {
		return err
	}
	if e.opts.NoUserlandProxy {
		// Hairpin mode: 127.0.0.1 may be DNATed to the bridge.
		// Equivalent to: sysctl -w net.ipv4.conf.BR.route_localnet=1
		if err := e.host.NS().WriteSysctl("net/ipv4/conf/"+n.Bridge+"/route_localnet", "1"); err != nil {
			return err
		}
	}
	if err := program(); err != nil {
		return err
	}
	e.register(n)
	return nil
}

// Networks returns the engine's networks, in creation order.
func (e *Engine) Networks() []*Network {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*Network(nil), e.networks...)
}

// Network finds a network by name, full ID or ID prefix.
func (e *Engine) Network(ref string) (*Network, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.networkLocked(ref)
}

func (e *Engine) networkLocked(ref string) (*Network, error) {
	for _, n := range e.networks {
		if n.Name == ref || n.ID == ref {
			return n, nil
		}
	}
	var found *Network
	for _, n := range e.networks {
		if ref != "" && strings.HasPrefix(n.ID, ref) {
			if found != nil {
				return nil, derr(ErrInvalid, "network %s is ambiguous (%d matches found based on ID prefix)", ref, 2)
			}
			found = n
		}
	}
	if found == nil {
		return nil, derr(ErrNotFound, "network %s not found", ref)
	}
	return found, nil
}

// Containers returns the engine's containers, newest first (as docker ps
// lists them); with all false, only running ones.
func (e *Engine) Containers(all bool) []*Container {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*Container
	for i := len(e.containers) - 1; i >= 0; i-- {
		c := e.containers[i]
		if c.listed(all) {
			out = append(out, c)
		}
	}
	return out
}

// Container finds a container by name, full ID or unique ID prefix.
func (e *Engine) Container(ref string) (*Container, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.containerLocked(ref)
}

func (e *Engine) containerLocked(ref string) (*Container, error) {
	ref = strings.TrimPrefix(ref, "/")
	for _, c := range e.containers {
		if (c.Name == ref || c.ID == ref) && !c.removedNow() {
			return c, nil
		}
	}
	var found *Container
	for _, c := range e.containers {
		if ref != "" && strings.HasPrefix(c.ID, ref) && !c.removedNow() {
			if found != nil {
				return nil, derr(ErrInvalid, "multiple IDs found with provided prefix: %s", ref)
			}
			found = c
		}
	}
	if found == nil {
		return nil, derr(ErrNotFound, "No such container: %s", ref)
	}
	return found, nil
}

// sortNetworks orders networks as docker network ls does (by name).
func sortNetworks(ns []*Network) {
	sort.Slice(ns, func(i, j int) bool { return ns[i].Name < ns[j].Name })
}
