package firewall

import (
	"net/netip"
	"strconv"
)

// Chains of Docker's embedded DNS server, in the nat table of a container's
// network namespace (moby/moby libnetwork/resolver_unix.go, v28.5.2). Their
// names have underscores, unlike the engine's chains.
const (
	// ChainDNSOutput is DOCKER_OUTPUT: the DNAT of queries to the
	// resolver's address, port 53, to its real ports.
	ChainDNSOutput = "DOCKER_OUTPUT"
	// ChainDNSPostrouting is DOCKER_POSTROUTING: the SNAT of its replies
	// back to port 53.
	ChainDNSPostrouting = "DOCKER_POSTROUTING"
)

// ResolverNAT returns the operations Docker runs in a container's network
// namespace when its embedded DNS server starts, listening on udp and tcp
// (two ports of one address, 127.0.0.11): queries to ADDR:53 are DNATed
// to the server's ports, and its replies SNATed back to port 53. They are
// the same in every release from 20.10 to 29 with the iptables back end,
// and do not depend on the engine's --iptables (the rules live in the
// container's namespace, not the host's).
//
// The four rules are inserted, so iptables-save lists them in the reverse
// order: tcp above udp. Run again (a resolver restart in the same
// namespace), the operations empty both chains before refilling them, as
// Docker does; the jumps are added once.
//
// Equivalent to (resolver_unix.go setupIptablesNAT, moby/moby v28.5.2):
//
//	iptables -t nat -N DOCKER_OUTPUT                          # or -F if the jump exists
//	iptables -t nat -I OUTPUT -d ADDR -j DOCKER_OUTPUT
//	iptables -t nat -N DOCKER_POSTROUTING                     # or -F if the jump exists
//	iptables -t nat -I POSTROUTING -d ADDR -j DOCKER_POSTROUTING
//	iptables -t nat -I DOCKER_OUTPUT -d ADDR -p udp --dport 53 -j DNAT --to-destination ADDR:UDPPORT
//	iptables -t nat -I DOCKER_POSTROUTING -s ADDR -p udp --sport UDPPORT -j SNAT --to-source :53
//	iptables -t nat -I DOCKER_OUTPUT -d ADDR -p tcp --dport 53 -j DNAT --to-destination ADDR:TCPPORT
//	iptables -t nat -I DOCKER_POSTROUTING -s ADDR -p tcp --sport TCPPORT -j SNAT --to-source :53
func ResolverNAT(udp, tcp netip.AddrPort) []Op {
	// Docker takes the address of every rule from the UDP socket.
	a := host(udp.Addr())
	ops := []Op{
		chainOp(NewChain, TableNAT, ChainDNSOutput),
		rule(InsertUnique, TableNAT, chainOutput, "-d", a, "-j", ChainDNSOutput),
		chainOp(Flush, TableNAT, ChainDNSOutput),
		chainOp(NewChain, TableNAT, ChainDNSPostrouting),
		rule(InsertUnique, TableNAT, chainPostrouting, "-d", a, "-j", ChainDNSPostrouting),
		chainOp(Flush, TableNAT, ChainDNSPostrouting),
	}
	for _, s := range []struct {
		proto string
		port  uint16
	}{{"udp", udp.Port()}, {"tcp", tcp.Port()}} {
		port := strconv.Itoa(int(s.port))
		ops = append(ops,
			rule(Insert, TableNAT, ChainDNSOutput, "-d", a, "-p", s.proto, "-m", s.proto, "--dport", "53",
				"-j", "DNAT", "--to-destination", udp.Addr().String()+":"+port),
			rule(Insert, TableNAT, ChainDNSPostrouting, "-s", a, "-p", s.proto, "-m", s.proto, "--sport", port,
				"-j", "SNAT", "--to-source", ":53"))
	}
	return ops
}
