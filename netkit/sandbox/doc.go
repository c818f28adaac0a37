// Package sandbox is a container's share of Docker's name service, which
// Docker keeps per sandbox (the container's network namespace): the
// resolv.conf, hosts and hostname it sees, written to a lab's directory
// and bind-mounted in its commands (moby/moby
// daemon/container_operations_unix.go, v28.5.2), and its embedded DNS
// server at 127.0.0.11 with the NAT rules that lead to it (moby/moby
// libnetwork/sandbox_dns_unix.go and resolver_unix.go, v28.5.2), answering
// from a view of the engine's names.
//
// It is not the engine: what a container is attached to and what names
// its peers have comes from a Directory that netkit's engine implements.
// What the files say is netkit/etcfiles'; how queries are answered is
// netkit/resolver's; the rules are netkit/firewall's and its nft's.
package sandbox
