// Package resolver is Docker's embedded DNS server (the 127.0.0.11 of every
// container on a user-defined network), and the small server of the lab's
// own name service, both on github.com/miekg/dns.
//
// A [Server] answers one container's queries on a UDP socket and a TCP
// listener that the caller opened in the container's network namespace
// (Docker listens on 127.0.0.11, two random ports, which the NAT rules of
// firewall.ResolverNAT or nft.DNSTable map to port 53). It answers as
// moby/moby libnetwork/resolver.go (v28.5.2; v27.5.1 where the era
// differs) does:
//
//   - A and AAAA of a name known on one of the container's networks
//     (its [Sandbox] says which): the addresses, TTL 600, shuffled, RA set,
//     AA clear, truncated to 512 bytes or the EDNS0 size over UDP; the
//     other family's query gets an empty NOERROR (NODATA), never forwarded.
//     "name.network" resolves name on that network (sandbox.go
//     ResolveName); the name part is case-insensitive.
//   - PTR of a container address (in-addr.arpa, ip6.arpa):
//     "name.network.", TTL 600.
//   - MX of a known name: an empty NOERROR.
//   - Anything else: forwarded to at most three upstream servers, in
//     order, over the client's protocol, one attempt each with a 4 s
//     timeout; SERVFAIL and REFUSED move on to the next, any other answer
//     (NXDOMAIN included) is passed through as it came. Nothing answered:
//     SERVFAIL. The server never makes an NXDOMAIN itself.
//   - With ndots set by the user, an unknown single-label A or AAAA gets an
//     empty NOERROR instead of being forwarded.
//
// Upstreams are dialled from the host's namespace or the container's
// ([Upstream.HostNS]) by the caller's dialer: the server itself never
// switches namespaces. Host upstreams are skipped while no endpoint of the
// container has external access (an --internal network).
//
// A [ZoneServer] ([ServeZone]) answers, as a provider's resolver would
// (RA set, AA clear), for a fixed set of names: their A, AAAA and PTR records, NXDOMAIN for every other name.
// The lab runs one as the upstream its containers' resolvers forward to.
//
// The package is not a general DNS server: no recursion, no caching, no
// zone transfers, no swarm service records (SRV is forwarded).
package resolver
