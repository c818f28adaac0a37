// Package netkit rebuilds the networking part of a Docker host on the real
// Linux kernel, inside a lab of network namespaces that it made: the
// article's classroom world (a Docker host, a client on its LAN, a gateway and
// an internet server) and an engine that does what dockerd's network
// controller does on the host: docker0 and user-defined bridges, veth pairs,
// IPAM, port publishing with NAT rules and a userland proxy, the four
// network modes, and macvlan and ipvlan networks (driver).
//
// netkit knows nothing of scenario files, Docker's command line or output
// formats beyond the engine's own JSON shapes; a plain Go test can use it
// alone. Nothing it does touches the root network namespace: every node is
// an anonymous namespace held by a descriptor, and every process it starts
// dies with labrun.
//
// Sub-packages: netns (the only code that enters namespaces), initproc (the
// processes that run inside them), proc (reading, walking and killing
// processes), link (veth pairs, bridge ports and batch deletion on a
// borrowed netlink connection), proxy (the userland proxy that docker-proxy
// is), ipam and ports (pure allocation and
// parsing), firewall (Docker's iptables rules as data), batch (the pure
// group commit that merges concurrent rule and link deletions).
package netkit
