// Package gateway picks, as Docker's sandbox does, which of a container's
// networks gives it its default routes and carries its published ports
// (the order of a sandbox's endpoints and the choice among them, per
// release), and sets those routes on a netlink handle. It knows
// candidates and interfaces, not containers, networks or ports.
package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
)

// Endpoint is one of a container's endpoints as the choice sees it.
type Endpoint struct {
	// Network is the network's name; among equals the smaller wins.
	Network string
	// Internal: an --internal network, sorted last (it has no gateway).
	Internal bool
	// Ifname is its interface in the container (eth1).
	Ifname string
	// Gw4 and Gw6 are its IPv4 and IPv6 gateways, if it has them.
	Gw4, Gw6 netip.Addr
}

// Order returns the indexes of eps in a sandbox's order: --internal
// networks last, then by network name (moby/moby v27.5.1 and v28.5.2
// libnetwork/sandbox.go Endpoint.Less; no endpoint has a --gw-priority
// here).
func Order(eps []Endpoint) []int {
	idx := make([]int, len(eps))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if eps[a].Internal != eps[b].Internal {
			if eps[a].Internal {
				return 1
			}
			return -1
		}
		return strings.Compare(eps[a].Network, eps[b].Network)
	})
	return idx
}

// Choice is what the sandbox picked: the default routes, and the index of
// the endpoint whose network carries the published ports (-1: none).
type Choice struct {
	V4, V6 Default
	Ports  int
}

// Choose picks, in the sandbox's order, the endpoints that give the IPv4
// and the IPv6 default route; the IPv4 one carries the ports (the IPv6
// one where there is none):
//   - before Docker 28, the first endpoint with an IPv4 gateway gives both,
//     the IPv6 one where it has one (moby/moby v27.5.1
//     libnetwork/sandbox.go getGatewayEndpoint, updateGateway);
//   - from 28, the first dual-stack endpoint gives both; without one, the
//     first with an IPv4 gateway and the first with an IPv6 one
//     (moby/moby v28.5.2 libnetwork/default_gateway.go
//     selectGatewayEndpoint).
func Choose(eps []Endpoint, from28 bool) Choice {
	ep4, ep6 := -1, -1
	for _, i := range Order(eps) {
		e := eps[i]
		has4, has6 := e.Gw4.IsValid() && !e.Internal, e.Gw6.IsValid() && !e.Internal
		if has4 && (has6 || !from28) {
			ep4, ep6 = i, i
			if !has6 {
				ep6 = -1
			}
			break
		}
		if has4 && ep4 < 0 {
			ep4 = i
		}
		if has6 && ep6 < 0 && from28 {
			ep6 = i
		}
	}
	ch := Choice{Ports: ep4}
	if ep4 >= 0 {
		ch.V4 = Default{Gw: eps[ep4].Gw4, Ifname: eps[ep4].Ifname}
	}
	if ep6 >= 0 {
		ch.V6 = Default{Gw: eps[ep6].Gw6, Ifname: eps[ep6].Ifname}
	}
	if ep4 < 0 {
		ch.Ports = ep6
	}
	return ch
}

// Default is a default route: via Gw, out of interface Ifname. The zero
// value is none.
type Default struct {
	Gw     netip.Addr
	Ifname string
}

// SetDefaults makes v4 and v6 the IPv4 and IPv6 default routes of the
// namespace of h; a zero one removes that family's default route.
//
// Equivalent to: ip route replace default via GW dev IF (or ip route del
// default); the same with -6
func SetDefaults(h *netlink.Handle, v4, v6 Default) error {
	for i, d := range []Default{v4, v6} {
		any := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}[i]
		route := &netlink.Route{Family: []int{netlink.FAMILY_V4, netlink.FAMILY_V6}[i],
			Dst: &net.IPNet{IP: any.Addr().AsSlice(), Mask: net.CIDRMask(0, any.Addr().BitLen())}}
		if !d.Gw.IsValid() {
			if err := h.RouteDel(route); err != nil && !errors.Is(err, syscall.ESRCH) && !errors.Is(err, syscall.ENOENT) {
				return fmt.Errorf("removing the default route: %w", err)
			}
			continue
		}
		l, err := h.LinkByName(d.Ifname)
		if err != nil {
			return fmt.Errorf("finding %s: %w", d.Ifname, err)
		}
		route.Gw, route.LinkIndex = d.Gw.AsSlice(), l.Attrs().Index
		if err := h.RouteReplace(route); err != nil {
			return fmt.Errorf("setting the default route via %s: %w", d.Gw, err)
		}
	}
	return nil
}
