package driver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/names"
	"github.com/labrun/labrun/netkit/netns"
)

// Drivers are the macvlan and ipvlan drivers of one engine: their networks
// and the parents they made, on the host whose connections lend lends.
// Its methods are safe for concurrent use.
type Drivers struct {
	lend link.Lender
	sys  *netns.Sysctls // containers' sysctls (see link.NoIPv6Default)

	mu    sync.Mutex
	nets  []*Network
	kinds map[string]bool // link types asked of the kernel (see link.Supported)
}

// New returns the drivers of an engine on the host whose netlink
// connections l lends; sys, if not nil, opens containers' sysctls.
func New(l link.Lender, sys *netns.Sysctls) *Drivers {
	return &Drivers{lend: l, sys: sys, kinds: map[string]bool{}}
}

// withHost runs fn with a borrowed connection to the host's namespace.
func (d *Drivers) withHost(fn func(h *netlink.Handle) error) error {
	c, err := d.lend.Borrow()
	if err != nil {
		return err
	}
	defer d.lend.GiveBack(c)
	return fn(c.Handle)
}

// supported asks the kernel once whether it has link type kind. Caller
// holds d.mu.
func (d *Drivers) supported(h *netlink.Handle, kind string) (bool, error) {
	if ok, asked := d.kinds[kind]; asked {
		return ok, nil
	}
	ok, err := link.Supported(h, kind)
	if err == nil {
		d.kinds[kind] = ok
	}
	return ok, err
}

func exists(h *netlink.Handle) func(string) bool {
	return func(name string) bool {
		_, err := h.LinkByName(name)
		return err == nil
	}
}

// Create registers network id with driver configuration cfg, making its
// parent if the network needs one made (see plan): an 802.1Q
// sub-interface, or a dummy when no parent was given. The kernel's
// support for the parent's link type is checked first: without it nothing
// is made, and the error is the kernel's "operation not supported" in
// Docker's words (createVlanLink: "failed to create eth0.50 vlan link:
// operation not supported"; createDummyLink: the kernel's error alone).
//
// Equivalent to: ip link add link eth0 name eth0.50 type vlan id 50 && ip link set eth0.50 up
// (or ip link add dm-ID type dummy && ip link set dm-ID up), or nothing.
func (d *Drivers) Create(id string, cfg Config) (*Network, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := &Network{ID: id, Config: cfg}
	err := d.withHost(func(h *netlink.Handle) error {
		p, err := plan(id, cfg, d.nets, exists(h))
		if err != nil {
			return err
		}
		n.Parent, n.CreatedParent = p.Parent, p.Created
		switch p.Make {
		case MakeVLAN:
			ok, err := d.supported(h, link.KindVLAN)
			if err != nil {
				return err
			}
			lower, lerr := h.LinkByName(p.Lower)
			switch {
			case !ok:
				err = syscall.EOPNOTSUPP
			case lerr != nil:
				return fmt.Errorf("failed to find master interface %s on the Docker host: %w", p.Lower, lerr)
			default:
				err = link.AddVLAN(h, p.Parent, lower.Attrs().Index, p.VID)
			}
			if err != nil {
				return fmt.Errorf("failed to create %s vlan link: %w", p.Parent, err)
			}
		case MakeDummy:
			ok, err := d.supported(h, link.KindDummy)
			if err != nil {
				return err
			}
			if !ok {
				return syscall.EOPNOTSUPP
			}
			return link.AddDummy(h, p.Parent)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.nets = append(d.nets, n)
	return n, nil
}

// Restore registers a network that an earlier engine created, as the
// driver restores its networks from its store: nothing is made.
func (d *Drivers) Restore(n *Network) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !slices.Contains(d.nets, n) {
		d.nets = append(d.nets, n)
	}
}

// Delete unregisters network n and removes the parent the driver made for
// it, when n is its last network (see removesParent): a dummy, or an
// 802.1Q sub-interface, never a link whose name is not NAME.VID or that
// has no lower device (moby/moby libnetwork/drivers/macvlan/
// macvlan_network.go DeleteNetwork and macvlan_setup.go delVlanLink,
// v28.5.2). As in Docker, a parent that will not go is left, and the
// network goes all the same: only a host that cannot be asked is an error.
//
// Equivalent to: ip link del eth0.50 (or ip link del dm-ID), or nothing.
func (d *Drivers) Delete(n *Network) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	err := d.withHost(func(h *netlink.Handle) error {
		l, lerr := h.LinkByName(n.Parent)
		if !removesParent(n, d.nets, lerr == nil) {
			return nil
		}
		dummy := n.Parent == DummyName(n.Config.Driver, n.ID)
		if dummy && l.Attrs().ParentIndex != 0 || !dummy && l.Attrs().ParentIndex == 0 {
			return nil
		}
		if _, _, err := ParseVLAN(n.Parent, exists(h)); !dummy && err != nil {
			return nil
		}
		h.LinkDel(l) // Docker logs its failure at debug level
		return nil
	})
	if i := slices.Index(d.nets, n); i >= 0 {
		d.nets = slices.Delete(d.nets, i, i+1)
	}
	return err
}

// Sandbox is a container's namespace as Join needs it (netkit's node).
type Sandbox interface {
	NS() *netns.NS
	// Config runs fn on a thread inside the namespace, with a netlink
	// handle bound to it.
	Config(fn func(h *netlink.Handle) error) error
}

// Join describes a container's endpoint on a network.
type Join struct {
	Sandbox Sandbox
	// Ifname is its name in the container (ethN); Addr its address.
	Ifname string
	Addr   netip.Prefix
	// MAC is a macvlan child's address (an ipvlan child has its
	// parent's).
	MAC net.HardwareAddr
	// Gateway is the network's gateway, if it has one; Default: the
	// endpoint gives the container its default route (see Config.Route).
	Gateway netip.Addr
	Default bool
}

// Endpoint is a container's link on a macvlan or ipvlan network.
type Endpoint struct {
	sandbox Sandbox
	ifname  string
	route   Route
}

// Gateway is the endpoint's gateway as docker inspect shows it: its
// route's next hop, or "" (the driver's SetGateway).
func (ep *Endpoint) Gateway() string {
	if !ep.route.Via.IsValid() {
		return ""
	}
	return ep.route.Via.String()
}

// Join gives the container j.Sandbox its link on network n: a child of the
// parent, made in the host under a free vethXXXXXXX name, moved into the
// container and renamed ethN, with its address, up, and its default route
// (moby/moby libnetwork/drivers/macvlan/macvlan_joinleave.go Join,
// macvlan_setup.go createMacVlan, their ipvlan twins, and libnetwork/osl,
// v28.5.2). A child type the kernel lacks is refused before anything is made,
// with Docker's words for the kernel's refusal ("failed to create the
// ipvlan port: operation not supported"), as is a parent that is gone.
//
// Equivalent to: ip link add vethX link PARENT [address MAC] type macvlan mode MODE
// (or type ipvlan mode MODE FLAG); ip link set vethX netns CTR;
// ip -n CTR link set vethX name ethN; ip -n CTR addr add ADDR dev ethN;
// ip -n CTR link set ethN up; ip -n CTR route add default via GW (or dev ethN)
func (d *Drivers) Join(n *Network, j Join) (*Endpoint, error) {
	kind := n.Config.Driver.String()
	ep := &Endpoint{sandbox: j.Sandbox, ifname: j.Ifname, route: n.Config.Route(j.Gateway)}
	child := link.Child{MAC: j.MAC}
	switch n.Config.Driver {
	case Macvlan:
		child.Macvlan = []netlink.MacvlanMode{netlink.MACVLAN_MODE_BRIDGE, netlink.MACVLAN_MODE_PRIVATE,
			netlink.MACVLAN_MODE_VEPA, netlink.MACVLAN_MODE_PASSTHRU}[n.Config.Macvlan]
	case IPvlan:
		mode := []netlink.IPVlanMode{netlink.IPVLAN_MODE_L2, netlink.IPVLAN_MODE_L3, netlink.IPVLAN_MODE_L3S}[n.Config.IPvlan]
		child.IPvlan, child.Flag, child.MAC = &mode, netlink.IPVlanFlag(n.Config.Flag), nil
	}
	err := d.withHost(func(hh *netlink.Handle) error {
		d.mu.Lock()
		ok, err := d.supported(hh, kind)
		d.mu.Unlock()
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("failed to create the %s port: %w", kind, syscall.EOPNOTSUPP)
		}
		parent, err := hh.LinkByName(n.Parent)
		if err != nil {
			return fmt.Errorf("the requested parent interface %s was not found on the Docker host", n.Parent)
		}
		child.Parent = parent.Attrs().Index
		for range 3 { // netutils.GenerateIfaceName's tries
			if child.Name = "veth" + names.ID()[:7]; !exists(hh)(child.Name) {
				break
			}
		}
		if err := link.AddChild(hh, child); err != nil {
			// One parent carries children of one kind at a time.
			return fmt.Errorf("failed to create the %s port: %w", kind, err)
		}
		made := &netlink.GenericLink{LinkAttrs: netlink.LinkAttrs{Name: child.Name}}
		route := Route{}
		if j.Default {
			route = ep.route
		}
		moved := 0 // the child's ifindex in the container, once there
		if err := j.Sandbox.Config(func(h *netlink.Handle) error { return d.configure(hh, h, made, j, route, &moved) }); err != nil {
			if l, lerr := hh.LinkByName(child.Name); lerr == nil {
				hh.LinkDel(l)
			}
			if moved != 0 {
				j.Sandbox.Config(func(h *netlink.Handle) error {
					return h.LinkDel(&netlink.GenericLink{LinkAttrs: netlink.LinkAttrs{Index: moved}})
				})
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ep, nil
}

// configure moves the child made in the host (hh) into the container (h,
// from a thread inside it), with IPv6 off as Docker turns it off on a
// network without IPv6 (see link.NoIPv6Default), and sets it up there with
// the default route r, if any. moved gets the child's ifindex in the
// container once it is there.
func (d *Drivers) configure(hh, h *netlink.Handle, made netlink.Link, j Join, r Route, moved *int) error {
	restore := func() error { return nil }
	if d.sys != nil {
		var err error
		if restore, err = link.NoIPv6Default(d.sys); err != nil {
			return fmt.Errorf("turning IPv6 off for %s: %w", j.Ifname, err)
		}
	}
	l, err := hh.LinkByName(made.Attrs().Name)
	if err == nil {
		err = hh.LinkSetNsFd(l, j.Sandbox.NS().Fd())
	}
	if rerr := restore(); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("moving %s into the container: %w", made.Attrs().Name, err)
	}
	if l, err = h.LinkByName(made.Attrs().Name); err == nil {
		*moved = l.Attrs().Index
		err = h.LinkSetName(l, j.Ifname)
	}
	if err != nil {
		return fmt.Errorf("renaming %s to %s: %w", made.Attrs().Name, j.Ifname, err)
	}
	if l, err = h.LinkByName(j.Ifname); err != nil {
		return fmt.Errorf("finding %s: %w", j.Ifname, err)
	}
	ipn := &net.IPNet{IP: j.Addr.Addr().AsSlice(), Mask: net.CIDRMask(j.Addr.Bits(), j.Addr.Addr().BitLen())}
	if err := h.AddrAdd(l, &netlink.Addr{IPNet: ipn}); err != nil {
		return fmt.Errorf("adding %s to %s: %w", j.Addr, j.Ifname, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("setting %s up: %w", j.Ifname, err)
	}
	var nr *netlink.Route
	switch {
	case r.Dev:
		nr = &netlink.Route{LinkIndex: l.Attrs().Index, Scope: netlink.SCOPE_LINK}
	case r.Via.IsValid():
		nr = &netlink.Route{LinkIndex: l.Attrs().Index, Gw: r.Via.AsSlice()}
	}
	if nr != nil {
		if err := h.RouteAdd(nr); err != nil {
			return fmt.Errorf("adding the default route on %s: %w", j.Ifname, err)
		}
	}
	link.WaitOperUp(h, j.Ifname)
	return nil
}

// Leave removes the endpoint's link from the container (a link gone with
// its namespace is not an error).
//
// Equivalent to: ip -n CTR link del ethN
func (ep *Endpoint) Leave() error {
	err := ep.sandbox.Config(func(h *netlink.Handle) error {
		l, err := h.LinkByName(ep.ifname)
		if err != nil {
			return nil
		}
		return h.LinkDel(l)
	})
	if errors.Is(err, netns.ErrClosed) {
		return nil
	}
	return err
}
