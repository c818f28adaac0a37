package netkit

import (
	"errors"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/ipam"
	"github.com/labrun/labrun/netkit/link"
)

// This file is the engine's side of IPv6 on bridge networks (docs/docker.md
// §1.5): a network's IPv6 side (ipam.Net6), its bridge's address and the
// host's IPv6 forwarding, and a container's IPv6 address, route and
// inspect fields. A network without IPv6 (Network.IPv6 nil) takes none of
// these paths.

// noForwarding6 is Docker 29's refusal of a network with IPv6, with the
// nftables back end, on a host that does not forward IPv6 (moby/moby
// v2.0.0-beta.24 daemon/libnetwork/drivers/bridge/setup_ip_forwarding.go,
// checkIPv6Forwarding).
const noForwarding6 = "IPv6 global forwarding is disabled: check your host's firewalling and set sysctls " +
	"net.ipv6.conf.all.forwarding=1 and net.ipv6.conf.default.forwarding=1, or disable this check using daemon option --ip-forward=false"

// newNet6 makes the IPv6 side of a network created with --ipv6.
func (e *Engine) newNet6(r ipam.Request6) (*ipam.Net6, error) {
	n6, err := ipam.NewNet6(e.spaces6, r)
	if errors.Is(err, ipam.ErrPoolOverlap) || errors.Is(err, ipam.ErrNoIPv6Pool) || errors.Is(err, ipam.ErrPoolsExhausted) {
		return nil, derr(ErrConflict, "%s", err)
	} else if err != nil {
		return nil, derr(ErrInvalid, "%s", err)
	}
	return n6, nil
}

// bridge6 sets up the IPv6 side of network n's bridge (see
// link.SetBridgeIPv6): router advertisements off on a bridge Docker makes
// (and docker0), and for a network with IPv6 the host's IPv6 forwarding
// and the gateway's address.
func (e *Engine) bridge6(n *Network) error {
	gw, forward := netip.Prefix{}, func() error { return nil }
	if n.IPv6 != nil {
		gw, forward = netip.PrefixFrom(n.IPv6.Gateway, n.IPv6.Subnet.Bits()), e.forward6
	}
	return link.SetBridgeIPv6(e.host.NS(), e.host.Netlink(), link.Bridge6{Name: n.Bridge, Docker: n.createdBridge || n.Default,
		Gateway: gw, NoDAD: e.opts.BridgeNoDAD(), Forward: forward})
}

// forward6 turns the host's IPv6 forwarding on for a network with IPv6,
// as the bridge driver does unless --ip-forward=false, and then sets the
// ip6tables FORWARD policy to DROP; the nftables back end only checks it
// (docs/docker.md §1.5).
func (e *Engine) forward6() error {
	if e.opts.NoIPForward {
		return nil
	}
	if e.opts.FirewallBackend == "nftables" {
		if on, err := link.Forwarding6(e.host.NS()); err != nil || on {
			return err
		}
		return derr(ErrInvalid, "%s", noForwarding6)
	}
	if changed, err := link.Forward6(e.host.NS()); err != nil || !changed {
		return err
	}
	return e.fw.ForwardDrop6()
}

// subnetOf is the subnet of n of ip's family, and whether it was given
// (libnetwork's IpamConf.IsStatic): for --ip and --ip6.
func (n *Network) subnetOf(ip netip.Addr) (netip.Prefix, bool) {
	if ip.Is6() && !ip.Is4In6() {
		return n.IPv6.Prefix(), n.IPv6 != nil && n.IPv6.UserSubnet
	}
	return n.Subnet, n.UserSubnet || n.staticPool
}

// reserve6 takes endpoint ep's IPv6 address on a network with IPv6 (see
// ipam.Net6.Take): req (--ip6), or the next free one.
func (c *Container) reserve6(ep *endpoint, req netip.Addr) error {
	n := ep.net
	if n.IPv6 == nil {
		return nil
	}
	a, err := n.IPv6.Take(req, ep.mac)
	if errors.Is(err, ipam.ErrIPAlreadyAllocated) {
		return derr(ErrConflict, "Address already in use")
	} else if err != nil {
		return derr(ErrConflict, "no available IPv6 addresses on this network's address pools: %s (%s)", n.Name, n.ID)
	}
	ep.addr6, ep.reqIP6 = a, req
	return nil
}

// link6 gives the container's interface eth of endpoint ep its IPv6
// address, without duplicate address detection, as Docker does (moby/moby
// v28.5.2 libnetwork/osl/interface_linux.go setInterfaceIPv6).
//
// Equivalent to: ip -n CTR -6 addr add ADDR6/BITS dev ethN nodad
func (c *Container) link6(h *netlink.Handle, eth netlink.Link, ep *endpoint) error {
	if !ep.addr6.IsValid() {
		return nil
	}
	if err := h.AddrAdd(eth, link.Addr6(netip.PrefixFrom(ep.addr6, ep.net.IPv6.Subnet.Bits()), true)); err != nil {
		return derr(ErrInvalid, "adding %s to %s in container %s: %s", ep.addr6, ep.ifname, c.Name, err)
	}
	return nil
}

// route6 adds the container's IPv6 default route via the gateway.
//
// Equivalent to: ip -n CTR -6 route add default via GW6
func (c *Container) route6(h *netlink.Handle, ep *endpoint) error {
	if !ep.addr6.IsValid() {
		return nil
	}
	gw := ep.net.IPv6.Gateway
	if err := h.RouteAdd(&netlink.Route{Gw: gw.AsSlice()}); err != nil {
		return derr(ErrInvalid, "adding default route via %s in container %s: %s", gw, c.Name, err)
	}
	return nil
}

// settings6 sets endpoint ep's IPv6 fields in its inspect settings es:
// its address, prefix length and gateway (none on an --internal network
// where the release hides the gateway), and its --ip6.
func (ep *endpoint) settings6(es *EndpointSettings, hideGateway bool) {
	if ep.addr6.IsValid() {
		es.GlobalIPv6Address, es.GlobalIPv6PrefixLen = ep.addr6.String(), ep.net.IPv6.Subnet.Bits()
		if !hideGateway {
			es.IPv6Gateway = ep.net.IPv6.Gateway.String()
		}
	}
	if ep.reqIP6.IsValid() {
		if es.IPAMConfig == nil {
			es.IPAMConfig = &EndpointIPAMConfig{}
		}
		es.IPAMConfig.IPv6Address = ep.reqIP6.String()
	}
}

// inspect6 adds network n's IPv6 side to its inspect object j (made for
// release r): EnableIPv6, its IPAM entry, in the order of moby/moby
// v28.5.2 daemon/network.go buildIPAMResources (given subnets first, IPv4
// then IPv6, then the allocated ones), Status from 29 and the containers'
// addresses. Caller holds e.mu.
func (n *Network) inspect6(j *NetworkJSON, e *Engine) {
	n6 := n.IPv6
	if n6 == nil {
		return
	}
	r := e.opts.Release
	j.EnableIPv6 = true
	c := IPAMConfig{Subnet: n6.Subnet.String(), Gateway: n6.Gateway.String()}
	if n6.IPRange.IsValid() {
		c.IPRange = n6.IPRange.String()
	}
	switch {
	case n6.UserSubnet && !n6.UserGateway && !r.SubnetGateway():
		c.Gateway = ""
	case !n6.UserSubnet && r.Gateway6WithPrefix():
		c.Gateway = netip.PrefixFrom(n6.Gateway, n6.Subnet.Bits()).String()
	}
	if n6.UserSubnet && !(n.UserSubnet || n.staticPool) {
		j.IPAM.Config = append([]IPAMConfig{c}, j.IPAM.Config...)
	} else {
		j.IPAM.Config = append(j.IPAM.Config, c)
	}
	if j.Status != nil {
		inUse, avail := n6.Pool.Status()
		j.Status.IPAM.Subnets[n6.Subnet.String()] = SubnetStatus{IPsInUse: inUse, DynamicIPsAvailable: avail}
	}
	for id, ep := range n.endpoints {
		if nc, ok := j.Containers[id]; ok && ep.addr6.IsValid() {
			nc.IPv6Address = netip.PrefixFrom(ep.addr6, n6.Subnet.Bits()).String()
			j.Containers[id] = nc
		}
	}
}
