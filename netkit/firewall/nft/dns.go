package nft

import (
	"net/netip"

	"github.com/labrun/labrun/netkit/ports"
)

// DNSTableName is the table Docker's embedded DNS server programs in a
// container's network namespace with the nftables back end (family ip).
const DNSTableName = "docker-dns"

// DNSTable returns the table ip docker-dns of a container whose embedded
// DNS server listens on udp and tcp (two ports of one address,
// 127.0.0.11): queries to ADDR:53 are DNATed to the server's ports, its
// replies SNATed back to port 53. Docker writes it with the nftables back
// end (28.x with DOCKER_FIREWALL_BACKEND=nftables, 29 with
// --firewall-backend=nftables); the rules are appended, so udp is listed
// first (the iptables back end lists tcp first, see firewall.ResolverNAT).
// A Programmer replaces the whole table, as a resolver restart does.
//
// Equivalent to (resolver_unix.go setupNftablesNAT, moby/moby v28.5.2):
//
//	nft add table ip docker-dns
//	nft add chain ip docker-dns dns-dnat '{ type nat hook output priority dstnat; }'
//	nft add rule ip docker-dns dns-dnat ip daddr ADDR udp dport 53 counter dnat to ADDR:UDPPORT
//	nft add rule ip docker-dns dns-dnat ip daddr ADDR tcp dport 53 counter dnat to ADDR:TCPPORT
//	nft add chain ip docker-dns dns-snat '{ type nat hook postrouting priority srcnat; }'
//	nft add rule ip docker-dns dns-snat ip saddr ADDR udp sport UDPPORT counter snat to :53
//	nft add rule ip docker-dns dns-snat ip saddr ADDR tcp sport TCPPORT counter snat to :53
func DNSTable(udp, tcp netip.AddrPort) Ruleset {
	// Docker takes the address of every rule from the UDP socket.
	a := udp.Addr()
	host := netip.PrefixFrom(a, a.BitLen())
	var dnat, snat []Rule
	for _, s := range []struct {
		proto ports.Proto
		port  uint16
	}{{ports.UDP, udp.Port()}, {ports.TCP, tcp.Port()}} {
		dnat = append(dnat, Rule{Stmts: []Stmt{IPAddr{Field: "daddr", Op: "==", Prefix: host},
			L4Port{Proto: s.proto, Field: "dport", Port: 53}, Counter{}, DNAT{Addr: a, Port: s.port}}})
		snat = append(snat, Rule{Stmts: []Stmt{IPAddr{Field: "saddr", Op: "==", Prefix: host},
			L4Port{Proto: s.proto, Field: "sport", Port: s.port}, Counter{}, SNAT{Port: 53}}})
	}
	return Ruleset{Family: FamilyIPv4, Name: DNSTableName, Chains: []Chain{
		{Name: "dns-dnat", Type: "nat", Hook: "output", Priority: "dstnat", Rules: dnat},
		{Name: "dns-snat", Type: "nat", Hook: "postrouting", Priority: "srcnat", Rules: snat},
	}}
}
