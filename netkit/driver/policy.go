package driver

import (
	"net/netip"

	"github.com/labrun/labrun/netkit/release"
)

// SkipGateway reports whether IPAM reserves no gateway address for a
// network of cfg when --gateway does not name one (a given gateway is
// always reserved). Up to 27 the drivers had no say: IPAM reserved the
// subnet's first address. 28 asks the driver (GetSkipGwAlloc): macvlan
// skips it for internal networks (--internal, or no parent), ipvlan also
// for l3 and l3s, whose default route names no next hop. 29 never
// reserves one: a gateway is the user's to give, outside the network
// (moby/moby daemon/libnetwork/drivers/{macvlan,ipvlan}, docker-v29.7.2).
// Seen on 28.5.2 and 29.8.1: without --gateway, 28's first container is
// .2 with the route via .1, 29's is .1 with no default route.
func SkipGateway(r release.Release, cfg Config) bool {
	switch {
	case r.Era >= release.Era29:
		return true
	case r.Era == release.Era28:
		return cfg.Internal || cfg.Driver == IPvlan && cfg.IPvlan != L2
	}
	return false
}

// OptionsFirst reports whether a network's bad driver options are refused
// before IPAM looks at its subnet: in 28 only, where IPAM's question to
// the driver (GetSkipGwAlloc) parses them; before and after, the driver
// parses them when it creates the network, after IPAM.
func OptionsFirst(r release.Release) bool { return r.Era == release.Era28 }

// Route is a container's default route on a network. The zero value is
// none.
type Route struct {
	// Via is the next hop; Dev: a route to the interface itself, with no
	// next hop (ipvlan l3 and l3s).
	Via netip.Addr
	Dev bool
}

// Route returns the default route the driver gives a container on the
// network with cfg, whose gateway (IPAM's) is gw, if any: none on an
// internal network; "default dev ethN" in ipvlan l3 and l3s; else "default
// via GW" when there is a gateway (Join of macvlan_joinleave.go and
// ipvlan_joinleave.go: SetGateway, AddStaticRoute CONNECTED). Docker
// inspect's Gateway is Via.
func (c Config) Route(gw netip.Addr) Route {
	switch {
	case c.Internal:
		return Route{}
	case c.Driver == IPvlan && c.IPvlan != L2:
		return Route{Dev: true}
	}
	return Route{Via: gw}
}
