// Package trace shows the way one connection's packets take through a lab,
// rule by rule, as the kernel itself reports it: nf_tables tracing (`meta
// nftrace set 1`, the events `nft monitor trace` prints) in every network
// namespace the packets cross, read over netlink and written in the lab's
// own names — nodes, interfaces, bridge ports, and each rule as the lab's
// firewall back end has it (`iptables -S` text for iptables-nft's tables,
// nft's syntax for Docker 29's nftables tables).
//
// It exists so that "why does this curl work, or not?" has an answer that
// needs no counters and no tcpdump on three interfaces: the walk names the
// chain and rule that accepted or dropped the packet, every rewrite (DNAT,
// SNAT, MASQUERADE, and with the reply the reverse NAT conntrack applies),
// the route chosen, the bridge port it left by, and the end: delivered to
// a listening program, refused, dropped, no route.
//
// It is not a packet generator and changes nothing for good. A trace makes
// one connection (a TCP handshake, a GET, or one ICMP echo) from the node
// it is asked to, sends nothing else, and marks only that connection's
// packets: tables of its own (`table inet labrun-trace-1a2b`, and `table
// bridge labrun-trace-1a2b` where there is a bridge) whose chains, at priority
// -350 before anything of Docker's, set nftrace on packets of the traced
// source port (or echo identifier) in either direction. The tables are
// removed before Run returns, whatever happens, so the namespaces' rule
// sets are again exactly what they were; reading the walk afterwards only
// lists rules, interfaces, routes and sockets.
//
// # How a walk is assembled
//
// Each namespace's events arrive on a netlink socket of its own (made
// inside the namespace through netkit/netns, the one door), in the order
// the kernel met the rules. The trace's own chains mark where a packet
// enters (prerouting, or a bridge port), is sent (output), is delivered
// (input, observed last) and leaves (postrouting and the bridge's
// postrouting, observed last, after SNAT), which cuts each namespace's
// events into passes. The passes are chained by the interfaces that join
// the namespaces (the two ends of a veth pair, or the Ethernet source
// address across a bridge the trace does not watch), and a packet is
// recognised in every namespace by what NAT leaves alone: TCP's flags and
// sequence numbers, an echo's identifier, IPv4's identification field.
//
// Only a connection's first packet (and with Reply its answer) is walked;
// the events of the rest of the connection are read and ignored.
package trace
