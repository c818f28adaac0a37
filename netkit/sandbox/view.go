package sandbox

import (
	"net/netip"
	"strings"
)

// Endpoint is one endpoint of a container as the name service sees it.
type Endpoint struct {
	Network  string
	Default  bool // the default bridge: no resolver, no names
	Internal bool // --internal: no way out
	Addr     netip.Addr
	// Addr6 is its IPv6 address on a network with IPv6, or zero.
	Addr6 netip.Addr
	// Names are the container's DNS names on the network (moby/moby
	// daemon/container_operations.go buildEndpointDNSNames, v28.5.2).
	Names []string
}

// Directory is what the engine tells a container's name service.
type Directory interface {
	// Own returns the container's endpoints, in join order.
	Own() []Endpoint
	// Peers returns the endpoints on network of every running
	// container, this one included.
	Peers(network string) []Endpoint
}

// View answers a container's resolver (resolver.Sandbox) from a
// Directory, at each query: connects and disconnects show at once.
type View struct{ Dir Directory }

// userNets are the user-defined networks of the container, in join order.
func (v View) userNets() []Endpoint {
	var out []Endpoint
	for _, ep := range v.Dir.Own() {
		if !ep.Default {
			out = append(out, ep)
		}
	}
	return out
}

// Networks lists the user-defined networks the container is on.
func (v View) Networks() []string {
	var out []string
	for _, ep := range v.userNets() {
		out = append(out, ep.Network)
	}
	return out
}

// Lookup answers from the first of the container's networks, in join
// order, that has the name, in any case (moby/moby libnetwork/sandbox.go
// ResolveName, v28.5.2).
func (v View) Lookup(name, network string) (v4, v6 []netip.Addr, known bool) {
	for _, own := range v.userNets() {
		if network != "" && own.Network != network {
			continue
		}
		for _, p := range v.Dir.Peers(own.Network) {
			for _, n := range p.Names {
				if strings.EqualFold(n, name) {
					known = true
					if p.Addr.Is4() {
						v4 = append(v4, p.Addr)
					} else {
						v6 = append(v6, p.Addr)
					}
					if p.Addr6.IsValid() {
						v6 = append(v6, p.Addr6)
					}
					break
				}
			}
		}
		if known {
			return v4, v6, true
		}
	}
	return nil, nil, false
}

// Reverse names an address of the container's networks by its
// container's first DNS name and the network: web.app (moby/moby
// libnetwork/network.go ResolveIP, v28.5.2).
func (v View) Reverse(a netip.Addr) (string, bool) {
	for _, own := range v.userNets() {
		for _, p := range v.Dir.Peers(own.Network) {
			if (p.Addr == a || p.Addr6 == a) && len(p.Names) > 0 {
				return p.Names[0] + "." + own.Network, true
			}
		}
	}
	return "", false
}

// ExternalAccess reports whether an endpoint of the container leads out
// (a network that is not --internal): only then are the host's resolvers
// asked.
func (v View) ExternalAccess() bool {
	for _, ep := range v.Dir.Own() {
		if !ep.Internal {
			return true
		}
	}
	return false
}
