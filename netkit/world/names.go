package world

import (
	"fmt"
	"net/netip"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/resolver"
	"github.com/labrun/labrun/netkit/sandbox"
)

// Resolver is the world's name server, on the internet node, as a
// provider's resolver would be: every node's resolv.conf names it, and so
// the resolv.conf of every container (Docker's ExtServers).
var Resolver = InternetAddr.Addr()

// Zone are the names the world's resolver answers; it answers NXDOMAIN
// for every other name. Nothing is ever asked outside the world.
var Zone = map[string][]netip.Addr{
	"example.test":     {InternetAddr.Addr(), InternetAddr6.Addr()},
	"www.example.test": {InternetAddr.Addr(), InternetAddr6.Addr()},
}

// Vars are the variables that name the world's addresses in scenarios
// and lab shells: HOST_IP, CLIENT_IP, GATEWAY_IP and INTERNET_IP, and the
// same with IP6 for the IPv6 ones.
func Vars() map[string]string {
	return map[string]string{
		"HOST_IP": HostAddr.Addr().String(), "HOST_IP6": HostAddr6.Addr().String(),
		"CLIENT_IP": ClientAddr.Addr().String(), "CLIENT_IP6": ClientAddr6.Addr().String(),
		"GATEWAY_IP": GatewayLAN.Addr().String(), "GATEWAY_IP6": GatewayLAN6.Addr().String(),
		"INTERNET_IP": InternetAddr.Addr().String(), "INTERNET_IP6": InternetAddr6.Addr().String(),
	}
}

// ResolvConf is the resolv.conf of every node.
func ResolvConf() string { return "nameserver " + Resolver.String() + "\n" }

// Hosts is the hosts file of node name, as Debian writes one.
func Hosts(name string) string {
	return "127.0.0.1\tlocalhost\n127.0.1.1\t" + name + "\n\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
}

// ServeResolver starts the world's resolver in namespace ns, which must
// have the address Resolver: Zone on port 53, UDP and TCP.
//
// Equivalent to: a name server on 203.0.113.10:53 in node internet
func ServeResolver(ns *netns.NS, logf func(string, ...any)) (*resolver.ZoneServer, error) {
	udp, tcp, err := sandbox.Listen(ns, netip.AddrPortFrom(Resolver, 53))
	var z *resolver.ZoneServer
	if err == nil {
		z, err = resolver.ServeZone(udp, tcp, resolver.Zone{Records: Zone, Logf: logf})
	}
	if err != nil {
		return nil, fmt.Errorf("starting the world's resolver: %w", err)
	}
	return z, nil
}
