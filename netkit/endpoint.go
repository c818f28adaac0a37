package netkit

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/driver"
	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/names"
	"github.com/labrun/labrun/netkit/node"
)

// endpoint is a container's attachment to a bridge network.
type endpoint struct {
	ID       string
	net      *Network
	ifname   string
	hostVeth string
	addr     netip.Addr
	mac      net.HardwareAddr
	reqIP    netip.Addr // --ip
	// addr6 and reqIP6 are its IPv6 address and --ip6 on a network with
	// IPv6 (see reserve6).
	addr6, reqIP6 netip.Addr
	// aliases are its network-scoped aliases: docker run's
	// --network-alias, or network connect's --alias (never nil then).
	aliases []string
	// connected: docker network connect made it, whose CLI sends an
	// IPAMConfig, Aliases and DriverOpts even when empty.
	connected bool
	child     *driver.Endpoint // its link on a macvlan or ipvlan network
	ipamCfg   bool             // RunOptions and ConnectOptions' IPAMConfig
}

// attach connects the container to a network: an address from IPAM, a veth
// pair with ethN inside the container and vethXXXXXXX on the bridge, and the
// default route via the gateway when gateway is set; aliases are its
// network-scoped aliases.
//
// Equivalent to: ip link add vethX type veth peer name ethN netns CTR;
// ip link set vethX master BR up;
// ip netns exec CTR sysctl -w net.ipv6.conf.ethN.disable_ipv6=1;
// ip -n CTR addr add IP/BITS dev ethN;
// ip -n CTR link set ethN up; ip -n CTR route add default via GW
func (c *Container) attach(n *Network, req, req6 netip.Addr, aliases []string, gateway bool) (*endpoint, error) {
	ep, err := c.reserve(n, req, req6)
	if err != nil {
		return nil, err
	}
	ep.aliases = aliases
	if err := c.plumb(ep, gateway); err != nil {
		ep.release()
		return nil, err
	}
	return ep, nil
}

// reserve takes the container's address on network n from IPAM (req if
// valid), and on a network with IPv6 its IPv6 address (req6 if valid),
// and returns its endpoint, not yet plumbed. Release its addresses
// (ep.release) if it is not plumbed after all.
func (c *Container) reserve(n *Network, req, req6 netip.Addr) (*endpoint, error) {
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
	ep := &endpoint{ID: names.ID(), net: n, ifname: ifname, hostVeth: "veth" + names.ID()[:7], addr: addr, mac: names.ContainerMAC(addr, c.e.opts.RandomMAC()), reqIP: req}
	if err := c.reserve6(ep, req6); err != nil {
		n.pool.Release(addr)
		return nil, err
	}
	return ep, nil
}

// release frees the endpoint's addresses.
func (ep *endpoint) release() {
	ep.net.pool.Release(ep.addr)
	if ep.addr6.IsValid() {
		ep.net.IPv6.Pool.Release(ep.addr6)
	}
}

// plumb makes a reserved endpoint's veth pair and configures the
// container's end (see attach), then records the endpoint. On error
// nothing of it remains but its address, which the caller releases.
func (c *Container) plumb(ep *endpoint, gateway bool) (err error) {
	if ep.net.link != nil {
		return c.plumbChild(ep, gateway)
	}
	e, n, addr, ifname := c.e, ep.net, ep.addr, ep.ifname
	c.mu.Lock()
	nd := c.node
	c.mu.Unlock()
	hc, err := e.host.Borrow()
	if err != nil {
		return err
	}
	defer e.host.GiveBack(hc)
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
	pair := link.VethPair{Host: ep.hostVeth, Master: master, MTU: e.linkMTU(n), TxQueues: link.DefaultTxQueues(), Peer: ifname, PeerMAC: ep.mac, PeerNS: nd.NS().Fd()}
	var hostEnd netlink.Link // once made
	defer func() {
		if err != nil && hostEnd != nil {
			hh.LinkDel(hostEnd)
		}
	}()
	// The container side is configured from a thread inside its
	// namespace, with a short-lived handle (see Node.config).
	err = nd.Config(func(h *netlink.Handle) error {
		// IPv6 off on the new interface, as Docker does (see
		// link.NoIPv6Default), and on its host end (see link.HostIPv6Off), then
		// the veth, its host end a port of the bridge.
		restore, err := func() error { return nil }, error(nil) // IPv6 stays on with an IPv6 address (see link6)
		if !ep.addr6.IsValid() {
			restore, err = link.NoIPv6Default(&e.sysctls)
		}
		if err != nil {
			return fmt.Errorf("turning IPv6 off for %s in container %s: %w", ifname, c.Name, err)
		}
		restoreHost, err := e.hostV6.Off()
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
		if errors.Is(err, syscall.EADDRNOTAVAIL) && c.opts.MacAddress != nil {
			// A --mac-address no interface may have (multicast): Docker
			// names its veth's container end, by a name of its own
			// (moby/moby v28.5.2 libnetwork/osl/interface_linux.go).
			v := "veth" + names.ID()[:7]
			return fmt.Errorf("failed to add interface %s to sandbox: error setting interface %q MAC to %q: %w", v, v, ep.mac.String(), err)
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
		if err := h.AddrAdd(eth, &netlink.Addr{IPNet: node.IPNet(netip.PrefixFrom(addr, n.Subnet.Bits()))}); err != nil {
			return fmt.Errorf("adding %s to %s in container %s: %w", addr, ifname, c.Name, err)
		}
		if err := c.link6(h, eth, ep); err != nil {
			return err
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
			if err := c.route6(h, ep); err != nil {
				return err
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
	if err := e.fw.AddEndpoint(fwNet(n), addr); err != nil {
		return err
	}
	if ep.addr6.IsValid() {
		if err := e.fw.AddEndpoint(fwNet(n), ep.addr6); err != nil {
			e.fw.DelEndpoint(fwNet(n), addr)
			return err
		}
	}
	c.record(ep)
	return nil
}

// record adds a plumbed endpoint to its network and its container.
func (c *Container) record(ep *endpoint) {
	c.e.mu.Lock()
	ep.net.endpoints[c.ID] = ep
	c.e.mu.Unlock()
	c.mu.Lock()
	c.endpoints = append(c.endpoints, ep)
	c.mu.Unlock()
}

// detach undoes attach.
func (c *Container) detach(ep *endpoint, t *batch.Ticket) error {
	e := c.e
	var errs []error
	switch {
	case e.discarding.Load():
	case ep.child != nil:
		errs = append(errs, ep.child.Leave())
	default:
		errs = append(errs, e.fw.DelEndpoint(fwNet(ep.net), ep.addr))
		if ep.addr6.IsValid() {
			errs = append(errs, e.fw.DelEndpoint(fwNet(ep.net), ep.addr6))
		}
		// Equivalent to: ip link del vethX (its peer goes with it)
		errs = append(errs, e.veths.Delete(ep.hostVeth, t))
	}
	ep.release()
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
