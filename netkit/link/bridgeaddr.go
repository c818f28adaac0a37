package link

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// SetBridgeIPv4 gives the bridge name the IPv4 address want as Docker's
// bridge driver does when it sets a network up (moby/moby
// libnetwork/drivers/bridge/setup_ipv4_linux.go setupBridgeIPv4 and
// selectIPv4Address, v28.5.2; the same in 29): of the bridge's IPv4
// addresses it takes the first one inside want's subnet, or else the
// first one; if that is not want, it is deleted and want added. So a
// daemon started again with another --bip replaces docker0's address (one
// address, not all: others an administrator added stay), and one started
// again with the same address changes nothing.
//
// Equivalent to: ip addr del OLD dev NAME; ip addr add WANT dev NAME
func SetBridgeIPv4(h *netlink.Handle, name string, want netip.Prefix) error {
	br, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("finding bridge %s: %w", name, err)
	}
	addrs, err := h.AddrList(br, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("reading the addresses of %s: %w", name, err)
	}
	wantNet := &net.IPNet{IP: want.Addr().AsSlice(), Mask: net.CIDRMask(want.Bits(), 32)}
	var cur *netlink.Addr
	for i := range addrs {
		if cur == nil || wantNet.Contains(addrs[i].IP) && !wantNet.Contains(cur.IP) {
			cur = &addrs[i]
		}
	}
	if cur != nil {
		if bits, _ := cur.Mask.Size(); cur.IP.Equal(wantNet.IP) && bits == want.Bits() {
			return nil
		}
		if err := h.AddrDel(br, cur); err != nil {
			return fmt.Errorf("removing %s from %s: %w", cur.IPNet, name, err)
		}
	}
	if err := h.AddrAdd(br, &netlink.Addr{IPNet: wantNet}); err != nil {
		return fmt.Errorf("adding %s to %s: %w", want, name, err)
	}
	return nil
}

// BridgeIPv4 reports whether the link name exists and its first IPv4
// address, if it has one: what the daemon finds of a bridge it starts
// with (moby/moby v28.5.2 daemon/daemon_unix.go selectBIP).
//
// Equivalent to: ip -4 addr show dev NAME
func BridgeIPv4(h *netlink.Handle, name string) (exists bool, have netip.Prefix, err error) {
	br, err := h.LinkByName(name)
	if err != nil {
		return false, netip.Prefix{}, nil
	}
	addrs, err := h.AddrList(br, netlink.FAMILY_V4)
	if err != nil {
		return true, netip.Prefix{}, fmt.Errorf("reading addresses of %s: %w", name, err)
	}
	if len(addrs) > 0 {
		a, _ := netip.AddrFromSlice(addrs[0].IP.To4())
		bits, _ := addrs[0].Mask.Size()
		have = netip.PrefixFrom(a, bits)
	}
	return true, have, nil
}

// OnLinkIPv4 returns the namespace's on-link IPv4 routes (no gateway),
// which Docker 27+ never hands out as a network's subnet (moby/moby
// v28.5.2 libnetwork/netutils InferReservedNetworks); nil if they cannot
// be read.
//
// Equivalent to: ip -4 route show scope link
func OnLinkIPv4(h *netlink.Handle) []netip.Prefix {
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, r := range routes {
		if r.Dst == nil || r.Gw != nil {
			continue
		}
		a, _ := netip.AddrFromSlice(r.Dst.IP.To4())
		bits, _ := r.Dst.Mask.Size()
		out = append(out, netip.PrefixFrom(a, bits))
	}
	return out
}
