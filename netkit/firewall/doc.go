// Package firewall describes Docker's iptables rules as data, era by era, and
// programs them into a network namespace with one iptables-restore per call.
//
// It exists so that the engine never spells an iptables rule itself: every
// rule Docker would write for an engine event (driver start, network create
// or delete, endpoint, published port) is computed here by a pure function of
// typed settings ([Config], [Network], and the -p parser's ports.Binding) as
// a list of [Op] values, which can be printed, diffed, unit-tested without
// privileges and golden-tested against `iptables-save`. A [Programmer] bound
// to one namespace and one [Family] applies such lists. It is not a general
// iptables library: it knows Docker's bridge driver rules for IPv4 and IPv6
// (iptables and ip6tables), and the NAT rules of the embedded DNS server in
// a container's namespace ([ResolverNAT]), and nothing else (no swarm, no
// gateway modes other than nat).
//
// [Config] and [Network] are also the settings of Docker 29's nftables back
// end (dockerd --firewall-backend=nftables), which lives in the subpackage
// netkit/firewall/nft: the engine describes its networks once, for either
// back end.
//
// # Eras
//
// Docker's rule set changed twice; Config.Release's release.Era selects
// one:
//
//   - release.Era27 (the zero value): Docker 20.10 to 27.x. Per-network
//     rules live in the filter FORWARD chain; DOCKER-ISOLATION-STAGE-1/2
//     and DOCKER-USER end with -j RETURN; every published port also gets a
//     hairpin MASQUERADE rule.
//   - release.Era28: Docker 28.3 to 28.5. Per-network rules move to
//     DOCKER-FORWARD, DOCKER-CT and DOCKER-BRIDGE; per-port ACCEPT rules are
//     inserted at the top of DOCKER above a per-network default DROP; a
//     raw-table rule per endpoint drops packets routed to a container from
//     elsewhere.
//   - release.Era29: Docker 29.x. As 28, without the isolation chains (their
//     job is done by the raw and DOCKER DROP rules) and with DOCKER-INTERNAL
//     for --internal networks.
//
// # Chain layout
//
// Era 27 (arrows are jumps; chains Docker creates are upper case DOCKER-*):
//
//	nat PREROUTING  -m addrtype --dst-type LOCAL                 -> DOCKER
//	nat OUTPUT      ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -> DOCKER
//	                (no loopback exclusion with the userland proxy off)
//	nat POSTROUTING per network: -s SUBNET ! -o BR -j MASQUERADE
//	                per port:    -s CTR -d CTR --dport P -j MASQUERADE (hairpin)
//	nat DOCKER      per network: -i BR -j RETURN (proxy on: skip DNAT)
//	                per port:    [-d HOSTIP] [! -i BR] --dport HP -j DNAT
//
//	filter FORWARD  -> DOCKER-USER                       (always first)
//	                -> DOCKER-ISOLATION-STAGE-1
//	                per network, newest first:
//	                -o BR conntrack RELATED,ESTABLISHED -j ACCEPT
//	                -o BR -> DOCKER
//	                -i BR ! -o BR -j ACCEPT
//	                -i BR -o BR -j ACCEPT   (icc=false: -j DROP, appended)
//	filter DOCKER   per port: -d CTR ! -i BR -o BR --dport P -j ACCEPT
//	DOCKER-ISOLATION-STAGE-1  -i BR ! -o BR -> DOCKER-ISOLATION-STAGE-2 ... -j RETURN
//	DOCKER-ISOLATION-STAGE-2  -o BR -j DROP ... -j RETURN
//	DOCKER-USER               -j RETURN
//
// Eras 28 and 29:
//
//	filter FORWARD         -> DOCKER-USER, -> DOCKER-FORWARD
//	filter DOCKER-FORWARD  -> DOCKER-CT, -> DOCKER-ISOLATION-STAGE-1 (28) or
//	                       -> DOCKER-INTERNAL (29), -> DOCKER-BRIDGE, then per
//	                       network -i BR -j ACCEPT (oldest first)
//	filter DOCKER-CT       per network: -o BR conntrack RELATED,ESTABLISHED -j ACCEPT
//	filter DOCKER-BRIDGE   per network: -o BR -> DOCKER
//	filter DOCKER          per port ACCEPT (newest first), then per network
//	                       ! -i BR -o BR -j DROP
//	raw PREROUTING         per endpoint: -d CTR ! -i BR -j DROP
//
// The chain names are pinned as constants ([ChainDocker], [ChainUser], …):
// they are Docker's, and users' scripts and the lab's checks match on them.
//
// # IPv6
//
// Docker writes the same chains and rules to ip6tables for a network with
// an IPv6 subnet (Network.Subnet6), built here by the same builders:
// [Config.Start6], [Config.AddNetwork6] and [Config.RemoveNetwork6] for
// the engine and its networks, and AddEndpoint and AddBindings with an
// IPv6 container address. Every Op carries its family (Rule.Family), and
// a Programmer of Options.Family IPv6 runs ip6tables-restore and
// ip6tables-save. The rules differ from IPv4 in their text (/128 host
// masks, "! -d ::1/128" in the nat OUTPUT jump, "--to-destination
// [ADDR]:PORT", the two --internal DROP rules also match the other
// interface) and per era (docs/docker.md §1.5):
//
//   - 27: ip6tables is on by default (--ip6tables; [Config.NoIP6Tables]
//     turns it off); the chains and FORWARD DROP at start whatever IPv6
//     forwarding was; every non-internal network, IPv6 or not, gets its
//     ip6tables isolation rules; DOCKER-USER with its RETURN.
//   - 28 and 29: ip6tables rules only for networks with IPv6; FORWARD DROP
//     only when the engine turned IPv6 forwarding on ([ForwardDrop6]);
//     DNAT skips link-local sources ("! -s fe80::/10"); no raw rule for a
//     port on ::1.
//
// # Operations and removal
//
// Every function that builds operations documents its shell equivalent. The
// builders follow Docker's own sequence of iptables calls, so that the
// resulting chain order is Docker's (see the golden files in testdata). Where
// Docker checks before it acts (add a rule only if it is missing, move a jump
// to the top of FORWARD), the operation says so by its kind ([AppendUnique],
// [InsertUnique], [EnsureFirst], [NewChain]); the [Programmer] resolves those
// against the namespace's current rules.
//
// Removal is the exact inverse of addition: [Config.RemoveBindings] deletes
// the very rules [Config.AddBindings] added, [Config.RemoveNetwork] those of
// [Config.AddNetwork] that belong to the network. What stays after the last
// container and network are gone is exactly the engine's own chains and
// rules, as with Docker (no stale DNAT). Rules that several networks share
// (the nat jumps to DOCKER, the FORWARD jumps to the isolation and user
// chains, DOCKER-USER itself) belong to the engine and are never removed.
package firewall
