package netkit

import (
	"fmt"
	"maps"
	"net/netip"
	"strings"
	"time"

	"github.com/labrun/labrun/netkit/driver"
	"github.com/labrun/labrun/netkit/ipam"
	"github.com/labrun/labrun/netkit/names"
)

// Network is a network of the engine: the default "bridge" (docker0, or
// the -b bridge), a user-defined bridge (br-<id>), macvlan or ipvlan.
type Network struct {
	ID      string
	Name    string
	Driver  driver.Driver
	Bridge  string
	Subnet  netip.Prefix
	IPRange netip.Prefix
	Gateway netip.Addr
	// DefaultGW is --default-gateway: the containers' default route, when
	// it is not the bridge address.
	DefaultGW   netip.Addr
	Internal    bool
	Default     bool // the default "bridge" network
	ICC         bool
	Masq        bool
	HostBinding netip.Addr // default host IP for -p (--ip); zero = all
	HostIPv4    netip.Addr // com.docker.network.host_ipv4: SNAT to it instead of MASQUERADE
	Options     map[string]string
	Labels      map[string]string // --label's
	nullIPAMOpt bool              // NetworkOptions.NullIPAMOptions
	Created     time.Time
	// UserSubnet: the subnet was given with --subnet (so --ip is allowed).
	UserSubnet bool
	// UserGateway: the gateway was given with --gateway.
	UserGateway bool
	// IPv6 is the network's IPv6 side (--ipv6), nil for IPv4 only.
	IPv6 *ipam.Net6
	// staticPool: the default bridge's subnet was given (--bip,
	// --fixed-cidr, or the address of an existing bridge), not picked
	// from the default pools: libnetwork's IpamConf.IsStatic.
	staticPool bool
	// poolFromFixedCIDR: the default bridge's subnet is --fixed-cidr's,
	// given without --bip, so its IPAM request names no gateway.
	poolFromFixedCIDR bool

	pool          *ipam.Pool
	link          *driver.Network // a macvlan or ipvlan network's driver side
	createdBridge bool
	addAddress    bool
	endpoints     map[string]*endpoint // by container ID
}

// CreateNetwork creates a user-defined network (see netkit/driver for
// macvlan and ipvlan).
//
// Equivalent to: docker network create [-d DRIVER] [--subnet S] [--gateway G]
// [--ip-range R] [--internal] [-o KEY=VALUE] NAME
func (e *Engine) CreateNetwork(o NetworkOptions) (*Network, error) {
	if o.Name == "" {
		return nil, derr(ErrInvalid, "network name must not be empty")
	}
	if o.Name == "bridge" || o.Name == "host" || o.Name == "none" {
		return nil, derr(ErrConflict, "network with name %s already exists", o.Name)
	}
	e.mu.Lock()
	for _, n := range e.networks {
		if n.Name == o.Name {
			e.mu.Unlock()
			return nil, derr(ErrConflict, "network with name %s already exists", o.Name)
		}
	}
	e.mu.Unlock()
	id := names.ID()
	n := &Network{
		ID: id, Name: o.Name, Driver: o.Driver, Bridge: "br-" + id[:12],
		Internal: o.Internal, ICC: true, Masq: !e.opts.NoIPTables, Created: time.Now(),
		Options: map[string]string{}, endpoints: map[string]*endpoint{}, createdBridge: o.Driver == driver.Bridge,
		Labels: maps.Clone(o.Labels), nullIPAMOpt: o.NullIPAMOptions,
	}
	cfg, optErr := driver.Config{}, error(nil)
	if o.Driver != driver.Bridge {
		n.Bridge = ""
		if cfg, optErr = driver.ParseOptions(o.Driver, o.Options, o.Internal); optErr != nil && driver.OptionsFirst(e.opts.Release) {
			return nil, optErr
		}
	}
	for k, v := range o.Options {
		n.Options[k] = v
		switch k {
		case "com.docker.network.bridge.name":
			n.Bridge = v
		case "com.docker.network.bridge.host_binding_ipv4":
			// The default host address of the network's -p bindings
			// (moby/moby libnetwork/drivers/bridge/bridge_linux.go
			// DefaultBindingIP, v28.5.2).
			if a, err := netip.ParseAddr(v); err == nil {
				n.HostBinding = a.Unmap()
			}
		case "com.docker.network.host_ipv4":
			// The source address of the network's traffic leaving the
			// host: SNAT to it instead of MASQUERADE (moby/moby
			// libnetwork/drivers/bridge/setup_ip_tables_linux.go
			// setupIPTablesInternal, v28.5.2; seen on 28.5.2 and 29.8.1).
			if a, err := netip.ParseAddr(v); err == nil && a.Unmap().Is4() {
				n.HostIPv4 = a.Unmap()
			}
		case "com.docker.network.bridge.enable_icc":
			n.ICC = v == "true"
		case "com.docker.network.bridge.enable_ip_masquerade":
			n.Masq = v == "true" && !e.opts.NoIPTables
		}
	}
	if o.Subnet.IsValid() {
		if !o.Subnet.Addr().Is4() {
			return nil, derr(ErrInvalid, "invalid subnet %s: only IPv4 is supported by labrun", o.Subnet)
		}
		if o.Subnet != o.Subnet.Masked() {
			// Docker: the API's ValidateIPAM (moby api/types/network).
			return nil, derr(ErrInvalid, "invalid network config:\ninvalid subnet %s: it should be %s", o.Subnet, o.Subnet.Masked())
		}
		if err := e.spaces.Reserve(o.Subnet); err != nil {
			if !e.opts.PoolRequestPrefix() {
				return nil, derr(ErrConflict, "%s", ipam.ErrPoolOverlap)
			}
			return nil, derr(ErrConflict, "invalid pool request: %s", ipam.ErrPoolOverlap)
		}
		n.Subnet = o.Subnet
		n.UserSubnet = true
	} else {
		if o.Gateway.IsValid() || o.IPRange.IsValid() {
			return nil, derr(ErrInvalid, "invalid config for network %s: invalid endpoint settings:\nuser specified IP address is supported only when connecting to networks with user configured subnets", o.Name)
		}
		sub, err := e.spaces.Allocate(e.reservedPrefixes())
		if err != nil {
			return nil, derr(ErrConflict, "%s", err.Error())
		}
		n.Subnet = sub
	}
	release := func() { e.spaces.Release(n.Subnet) }
	if o.IPRange.IsValid() {
		if !n.Subnet.Contains(o.IPRange.Addr()) || o.IPRange.Bits() < n.Subnet.Bits() {
			release()
			return nil, derr(ErrInvalid, "invalid pool request: ip-range %s is not within subnet %s", o.IPRange, n.Subnet)
		}
		n.IPRange = o.IPRange.Masked()
	}
	pool, err := ipam.NewPool(n.Subnet, n.IPRange)
	if err != nil {
		release()
		return nil, derr(ErrInvalid, "%s", err.Error())
	}
	n.pool = pool
	if o.Gateway.IsValid() {
		if !n.Subnet.Contains(o.Gateway) {
			release()
			return nil, derr(ErrInvalid, "no matching subnet for gateway %s", o.Gateway)
		}
		if err := pool.Request(o.Gateway); err != nil {
			release()
			return nil, derr(ErrInvalid, "failed to allocate gateway (%s): %v", o.Gateway, err)
		}
		n.Gateway = o.Gateway
		n.UserGateway = true
	} else if o.Driver == driver.Bridge || !driver.SkipGateway(e.opts.Release, cfg) {
		gw, err := pool.RequestAny()
		if err != nil {
			release()
			return nil, derr(ErrConflict, "failed to allocate gateway: %v", err)
		}
		n.Gateway = gw
	}
	if o.Driver != driver.Bridge {
		if optErr == nil {
			n.link, optErr = e.drivers.Create(n.ID, cfg)
		}
		if optErr != nil {
			release()
			return nil, optErr // the driver's texts and sentinels
		}
		e.register(n)
		return n, nil
	}
	if o.IPv6 {
		if n.IPv6, err = e.newNet6(o.IPAM6); err != nil {
			release()
			return nil, err
		}
		release = func() { e.spaces.Release(n.Subnet); e.spaces6.Release(n.IPv6.Subnet) }
	}
	if err := e.checkForwarding(); err != nil {
		release()
		return nil, err
	}
	if err := e.addNetwork(n); err != nil {
		release()
		return nil, err
	}
	return n, nil
}

// RemoveNetwork removes a user-defined network that has no endpoints.
//
// Equivalent to: docker network rm NAME
func (e *Engine) RemoveNetwork(ref string) error {
	if ref == "host" || ref == "none" {
		return derr(ErrInvalid, "%s is a pre-defined network and cannot be removed", ref)
	}
	e.mu.Lock()
	n, err := e.networkLocked(ref)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	if n.Default {
		e.mu.Unlock()
		return derr(ErrInvalid, "bridge is a pre-defined network and cannot be removed")
	}
	if len(n.endpoints) > 0 {
		err := e.activeEndpointsError(n)
		e.mu.Unlock()
		return err
	}
	for i, x := range e.networks {
		if x == n {
			e.networks = append(e.networks[:i], e.networks[i+1:]...)
			break
		}
	}
	e.mu.Unlock()
	if n.link != nil {
		err = e.drivers.Delete(n.link)
	} else {
		err = e.fw.DelNetwork(fwNet(n))
	}
	if n.createdBridge {
		if l, lerr := e.host.Netlink().LinkByName(n.Bridge); lerr == nil {
			// Equivalent to: ip link del BR
			if derr := e.host.Netlink().LinkDel(l); derr != nil && err == nil {
				err = fmt.Errorf("removing bridge %s: %w", n.Bridge, derr)
			}
		}
	}
	e.spaces.Release(n.Subnet)
	if n.IPv6 != nil {
		e.spaces6.Release(n.IPv6.Subnet)
	}
	return err
}

// activeEndpointsError refuses to remove network n, which has endpoints:
// from 28.1 naming them, `name:"CONTAINER" id:"ENDPOINT/12"` (moby/moby
// libnetwork/network.go delete, v28.5.2). Caller holds e.mu.
func (e *Engine) activeEndpointsError(n *Network) error {
	var eps []string
	for _, c := range e.containers {
		if ep, ok := n.endpoints[c.ID]; ok {
			eps = append(eps, fmt.Sprintf("name:%q id:%q", c.Name, ep.ID[:12]))
		}
	}
	if !e.opts.ActiveEndpointNames() {
		return derr(ErrConflict, "error while removing network: network %s id %s has active endpoints", n.Name, n.ID)
	}
	return derr(ErrConflict, "error while removing network: network %s has active endpoints (%s)", n.Name, strings.Join(eps, ", "))
}

// Endpoints returns the network's endpoints keyed by container ID.
func (n *Network) attached() []*endpoint {
	var out []*endpoint
	for _, ep := range n.endpoints {
		out = append(out, ep)
	}
	return out
}

// IPsInUse and DynamicIPsAvailable as docker network inspect's Status shows.
func (n *Network) ipamStatus() (inUse, avail int) {
	return n.pool.InUse(), n.pool.DynamicAvailable()
}

// ShortID returns the first 12 hex digits of the ID.
func (n *Network) ShortID() string { return n.ID[:12] }
