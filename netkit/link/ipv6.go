package link

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
)

// This file is the IPv6 side of a network's bridge and of a container's
// interface on a network with IPv6 (docs/docker.md §1.5).

// Bridge6 is the IPv6 side of a network's bridge.
type Bridge6 struct {
	Name string
	// Docker: Docker made the bridge (or it is docker0), whatever its
	// networks' families: router advertisements go off (moby/moby
	// v28.5.2 libnetwork/drivers/bridge/setup_device_linux.go
	// setupDefaultSysctl).
	Docker bool
	// Gateway is the gateway's address of a network with IPv6 (zero:
	// IPv4 only), added without duplicate address detection when NoDAD
	// (release.Release.BridgeNoDAD), after Forward (the host's IPv6
	// forwarding) has run.
	Gateway netip.Prefix
	NoDAD   bool
	Forward func() error
}

// SetBridgeIPv6 sets up the IPv6 side of bridge b (moby/moby v28.5.2
// libnetwork/drivers/bridge/setup_ipv6_linux.go setupBridgeIPv6). A
// kernel without IPv6 has nothing to set for an IPv4-only bridge.
//
// Equivalent to: sysctl -w net.ipv6.conf.BR.accept_ra=0;
// sysctl -w net.ipv6.conf.BR.disable_ipv6=0;
// ip -6 addr add GW/BITS dev BR [nodad]
func SetBridgeIPv6(ns *netns.NS, h *netlink.Handle, b Bridge6) error {
	if b.Docker {
		if err := ns.WriteSysctl("net/ipv6/conf/"+b.Name+"/accept_ra", "0"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if !b.Gateway.IsValid() {
		return nil
	}
	if err := b.Forward(); err != nil {
		return err
	}
	if err := ns.WriteSysctl("net/ipv6/conf/"+b.Name+"/disable_ipv6", "0"); err != nil {
		return fmt.Errorf("turning IPv6 on on %s: %w", b.Name, err)
	}
	br, err := h.LinkByName(b.Name)
	if err != nil {
		return fmt.Errorf("finding bridge %s: %w", b.Name, err)
	}
	addrs, err := h.AddrList(br, netlink.FAMILY_V6)
	if err != nil {
		return fmt.Errorf("reading the addresses of %s: %w", b.Name, err)
	}
	gw := b.Gateway
	for _, a := range addrs {
		if bits, _ := a.Mask.Size(); a.IP.Equal(gw.Addr().AsSlice()) && bits == gw.Bits() {
			return nil
		}
	}
	if err := h.AddrAdd(br, Addr6(gw, b.NoDAD)); err != nil {
		return fmt.Errorf("adding %s to %s: %w", gw, b.Name, err)
	}
	return nil
}

// Addr6 is IPv6 address p as netlink adds it, flagged nodad (IFA_F_NODAD)
// when nodad: a container's (moby/moby v28.5.2 libnetwork/osl/
// interface_linux.go setInterfaceIPv6), from 28 the bridge's too.
func Addr6(p netip.Prefix, nodad bool) *netlink.Addr {
	a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 128)}}
	if nodad {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

// Forwarding6 reports whether the namespace forwards IPv6: both
// net.ipv6.conf.default.forwarding and net.ipv6.conf.all.forwarding are 1
// (moby/moby v2.0.0-beta.24 daemon/libnetwork/drivers/bridge/
// setup_ip_forwarding.go checkIPv6Forwarding).
//
// Equivalent to: sysctl -n net.ipv6.conf.default.forwarding net.ipv6.conf.all.forwarding
func Forwarding6(ns *netns.NS) (bool, error) {
	for _, key := range []string{"net/ipv6/conf/default/forwarding", "net/ipv6/conf/all/forwarding"} {
		v, err := ns.ReadSysctl(key)
		if err != nil || v != "1" {
			return false, err
		}
	}
	return true, nil
}

// Forward6 turns IPv6 forwarding on, default then all, each where it is
// off, and reports whether it changed either (moby/moby v28.5.2
// libnetwork/drivers/bridge/setup_ip_forwarding.go setupIPv6Forwarding).
//
// Equivalent to: sysctl -w net.ipv6.conf.default.forwarding=1 net.ipv6.conf.all.forwarding=1
func Forward6(ns *netns.NS) (changed bool, err error) {
	for _, key := range []string{"net/ipv6/conf/default/forwarding", "net/ipv6/conf/all/forwarding"} {
		v, err := ns.ReadSysctl(key)
		if err != nil {
			return changed, err
		}
		if v != "1" {
			if err := ns.WriteSysctl(key, "1"); err != nil {
				return changed, err
			}
			changed = true
		}
	}
	return changed, nil
}
