package firewall

// This file is the ip6tables side of the engine-wide and per-network
// operations. The rules are built by the same builders as the IPv4 ones
// (rules.go), which Docker shares between the families too: what differs is
// the loopback exclusion of the nat OUTPUT jump (::1/128), the /128 host
// masks, bracketed DNAT targets, the link-local exclusion of DNAT (28+),
// the shapes of --internal rules, and when each era touches ip6tables at
// all (docs/docker.md §1.5). Endpoints and published ports need no entry
// point of their own: AddEndpoint and AddBindings build ip6tables rules
// for an IPv6 container address.

// Start6 returns what the bridge driver does to ip6tables when the engine
// starts with ip6tables on (the default from 27): the same chains as Start,
// and the nat jumps of eras 28+ with "! -d ::1/128". Era 27 also sets the
// ip6tables FORWARD policy to DROP there, whatever IPv6 forwarding was
// (moby/moby v27.5.1 libnetwork/drivers/bridge/setup_ip_forwarding.go
// setupIPForwarding); from 28 see ForwardDrop6.
//
// Equivalent to (era 27):
//
//	ip6tables -t nat -N DOCKER
//	ip6tables -N DOCKER
//	ip6tables -N DOCKER-ISOLATION-STAGE-1
//	ip6tables -N DOCKER-ISOLATION-STAGE-2
//	ip6tables -A DOCKER-ISOLATION-STAGE-1 -j RETURN
//	ip6tables -A DOCKER-ISOLATION-STAGE-2 -j RETURN
//	ip6tables -P FORWARD DROP
//
// and for eras 28 and 29 Start's commands with ip6tables (moby/moby
// v28.5.2 libnetwork/drivers/bridge/internal/iptabler/iptabler.go
// NewIptabler), without the policy.
func (c Config) Start6() []Op { return c.start(IPv6) }

// ForwardDrop6 is what the bridge driver of eras 28+ does when creating
// a network with IPv6 made it turn net.ipv6.conf.all (or default)
// forwarding on: it drops forwarded IPv6 packets unless a rule accepts
// them (moby/moby v28.5.2 libnetwork/drivers/bridge/setup_ip_forwarding.go
// setupIPv6Forwarding). Era 27 does it in Start6 instead.
//
// Equivalent to: ip6tables -P FORWARD DROP
func ForwardDrop6() []Op { return []Op{forwardDrop(IPv6)} }

// AddNetwork6 returns the ip6tables operations of creating bridge network
// n, followed by the controller's DOCKER-USER arrangement (era 27; 28+ do
// that in Start6). A network with an IPv6 subnet (Subnet6) gets the rules
// AddNetwork gives an IPv4 one, with its IPv6 subnet; an IPv4-only network
// gets none, except in era 27, which gives every non-internal network its
// ip6tables isolation rules (moby/moby v27.5.1 libnetwork/drivers/bridge/
// bridge_linux.go isolateNetwork).
//
// Equivalent to (era 28, default options, Subnet6 fd00:db8:1::/64):
//
//	ip6tables -t nat -I POSTROUTING -s fd00:db8:1::/64 ! -o BR -j MASQUERADE
//	ip6tables -t nat -I DOCKER -i BR -j RETURN
//	ip6tables -A DOCKER-FORWARD -i BR -j ACCEPT
//	ip6tables -A DOCKER ! -i BR -o BR -j DROP
//	ip6tables -A DOCKER-CT -o BR -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
//	ip6tables -A DOCKER-BRIDGE -o BR -j DOCKER
//	ip6tables -A DOCKER-ISOLATION-STAGE-1 -i BR ! -o BR -j DOCKER-ISOLATION-STAGE-2
//	ip6tables -I DOCKER-ISOLATION-STAGE-2 -o BR -j DROP
//
// and for era 27, an IPv4-only network:
//
//	ip6tables -I DOCKER-ISOLATION-STAGE-1 -i BR ! -o BR -j DOCKER-ISOLATION-STAGE-2
//	ip6tables -I DOCKER-ISOLATION-STAGE-2 -o BR -j DROP
//	ip6tables -N DOCKER-USER; ip6tables -A DOCKER-USER -j RETURN       # if missing
//	ip6tables -D FORWARD -j DOCKER-USER; ip6tables -I FORWARD -j DOCKER-USER
func (c Config) AddNetwork6(n Network) []Op { return c.network(IPv6, n).ops }

// RemoveNetwork6 returns the exact inverse of AddNetwork6 for n's own
// rules: a Delete of each, last first; the rules shared with other
// networks stay, as with RemoveNetwork.
//
// Equivalent to: ip6tables -D … for each of n's rules.
func (c Config) RemoveNetwork6(n Network) []Op { return c.network(IPv6, n).inverse() }
