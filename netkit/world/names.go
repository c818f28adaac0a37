package world

import (
	"fmt"
	"net/netip"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/resolver"
	"github.com/labrun/labrun/netkit/sandbox"
)

// Resolver is the classroom world's name server, on the internet node, as
// a provider's resolver would be: every node's resolv.conf names it, and so
// the resolv.conf of every container (Docker's ExtServers).
var Resolver = InternetAddr.Addr()

// Zone are the names the classroom world's resolver answers; it answers
// NXDOMAIN for every other name. Nothing is ever asked outside the world.
var Zone = Default().Resolver().Zone

// Vars are the variables that name the classroom world's addresses
// (World.Vars): HOST_IP, CLIENT_IP, GATEWAY_IP and INTERNET_IP, and the
// same with IP6 for the IPv6 ones.
func Vars() map[string]string { return Default().Vars() }

// ResolvConf is the resolv.conf of every node of the classroom world.
func ResolvConf() string { return Default().ResolvConf() }

// ResolvConf is the resolv.conf of every node: it names the world's
// resolver, or nothing when the world has none.
func (w *World) ResolvConf() string {
	if r := w.Resolver(); r != nil {
		a, _ := r.Addr(false)
		return "nameserver " + a.Addr().String() + "\n"
	}
	return ""
}

// Hosts is the hosts file of node name, as Debian writes one.
func Hosts(name string) string {
	return "127.0.0.1\tlocalhost\n127.0.1.1\t" + name + "\n\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
}

// ServeResolver starts the classroom world's resolver in namespace ns,
// which must have the address Resolver (World.ServeResolver).
func ServeResolver(ns *netns.NS, logf func(string, ...any)) (*resolver.ZoneServer, error) {
	return Default().ServeResolver(ns, logf)
}

// ServeResolver starts the world's resolver in namespace ns, which must
// have the resolver node's first IPv4 address: its zone on port 53, UDP and
// TCP.
//
// Equivalent to: a name server on 203.0.113.10:53 in node internet
func (w *World) ServeResolver(ns *netns.NS, logf func(string, ...any)) (*resolver.ZoneServer, error) {
	r := w.Resolver()
	if r == nil {
		return nil, fmt.Errorf("starting the world's resolver: world %s has none", w.Name)
	}
	a, _ := r.Addr(false)
	udp, tcp, err := sandbox.Listen(ns, netip.AddrPortFrom(a.Addr(), 53))
	var z *resolver.ZoneServer
	if err == nil {
		z, err = resolver.ServeZone(udp, tcp, resolver.Zone{Records: r.Zone, Logf: logf})
	}
	if err != nil {
		return nil, fmt.Errorf("starting the world's resolver: %w", err)
	}
	return z, nil
}
