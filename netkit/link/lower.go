package link

import (
	"errors"
	"fmt"
	"math"
	"net"
	"syscall"

	"github.com/vishvananda/netlink"
)

// This file holds the links that Docker's macvlan and ipvlan drivers make
// (netkit/driver chooses them): a child of a lower device, an 802.1Q
// sub-interface of a parent, a dummy parent, and the question whether the
// kernel has such a link type at all.

// Kinds of link, as the kernel's rtnetlink names them (ip link's "type").
const (
	KindMacvlan = "macvlan"
	KindIPvlan  = "ipvlan"
	KindVLAN    = "vlan"
	KindDummy   = "dummy"
)

// Supported reports whether the kernel has link type kind, without making
// a link: it asks for one that the type itself refuses (a one-byte
// hardware address, a lower device that does not exist), so that a kernel
// that knows the type answers "invalid argument" or "no such device", and
// one that does not "operation not supported" (after trying to load the
// type's module, as a real request would). Should a kernel make the link
// all the same, it is deleted at once.
//
// Equivalent to: ip link add probe type KIND, which says "Error: Unknown
// device type." when the kernel lacks KIND, but without making the link.
func Supported(h *netlink.Handle, kind string) (bool, error) {
	attrs := netlink.LinkAttrs{Name: "lrprobe", HardwareAddr: net.HardwareAddr{0x02}, ParentIndex: math.MaxInt32}
	probe := &netlink.GenericLink{LinkAttrs: attrs, LinkType: kind}
	err := h.LinkAdd(probe)
	switch {
	case err == nil:
		if l, lerr := h.LinkByName(probe.Name); lerr == nil {
			h.LinkDel(l)
		}
		return true, nil
	case errors.Is(err, syscall.EOPNOTSUPP):
		return false, nil
	case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.ENODEV):
		return true, nil
	default:
		return false, fmt.Errorf("asking the kernel for link type %s: %w", kind, err)
	}
}

// Child is a macvlan or ipvlan link on a lower device, made down in the
// lower device's namespace. The zero value of each optional field asks for
// the kernel's default.
type Child struct {
	Name   string
	Parent int // the lower device's ifindex
	// MAC is a macvlan child's address; an ipvlan child always has its
	// parent's.
	MAC net.HardwareAddr
	// Macvlan is a macvlan child's mode, IPvlan and Flag an ipvlan one's:
	// exactly one of Macvlan and IPvlan is set.
	Macvlan netlink.MacvlanMode
	IPvlan  *netlink.IPVlanMode
	Flag    netlink.IPVlanFlag
}

// AddChild makes the child c, down.
//
// Equivalent to: ip link add NAME link PARENT [address MAC] type macvlan mode MODE,
// or ip link add NAME link PARENT type ipvlan mode MODE FLAG
func AddChild(h *netlink.Handle, c Child) error {
	attrs := netlink.LinkAttrs{Name: c.Name, ParentIndex: c.Parent, HardwareAddr: c.MAC}
	var l netlink.Link = &netlink.Macvlan{LinkAttrs: attrs, Mode: c.Macvlan}
	if c.IPvlan != nil {
		l = &netlink.IPVlan{LinkAttrs: attrs, Mode: *c.IPvlan, Flag: c.Flag}
	}
	return h.LinkAdd(l)
}

// AddVLAN makes the 802.1Q sub-interface name of the link whose index is
// parent, with VLAN id vid, and sets it up.
//
// Equivalent to: ip link add link PARENT name NAME type vlan id VID && ip link set NAME up
func AddVLAN(h *netlink.Handle, name string, parent, vid int) error {
	v := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: name, ParentIndex: parent}, VlanId: vid}
	if err := h.LinkAdd(v); err != nil {
		return err
	}
	return h.LinkSetUp(v)
}

// AddDummy makes the dummy link name and sets it up.
//
// Equivalent to: ip link add NAME type dummy && ip link set NAME up
func AddDummy(h *netlink.Handle, name string) error {
	d := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := h.LinkAdd(d); err != nil {
		return err
	}
	return h.LinkSetUp(d)
}
