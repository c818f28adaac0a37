package firewall

import (
	"github.com/labrun/labrun/netkit/release"
)

// era is the table of differences between Docker releases. Everything not in
// it is common to all eras; the two FORWARD layouts (27, and 28+) are the one
// structural difference and have a builder each.
type era struct {
	// filterChains are the filter user chains created at driver init, in
	// creation order (nat DOCKER is always created first).
	filterChains []string
	// isolationReturn: DOCKER-ISOLATION-STAGE-1/2 end with -j RETURN (≤27).
	isolationReturn bool
	// natJumpsAtStart: the nat PREROUTING/OUTPUT jumps to DOCKER are added at
	// driver init (28+); before, with each non-internal network, if missing.
	natJumpsAtStart bool
	// forwardJumps are the jumps moved to the top of DOCKER-FORWARD at driver
	// init, in this order (so listed in reverse); nil for the classic layout.
	forwardJumps []string
	// userReturn: DOCKER-USER gets a final -j RETURN (≤28.2).
	userReturn bool
	// skipDNAT: with the proxy on and masquerading, nat DOCKER starts with
	// -i BR -j RETURN so that bridge traffic to published ports reaches
	// docker-proxy (≤28).
	skipDNAT bool
	// isolation: inter-network isolation rules in DOCKER-ISOLATION-STAGE-1/2
	// (≤28).
	isolation bool
	// internalChain holds the DROP rules of --internal networks.
	internalChain string
	// acceptFirst: per-port ACCEPT is inserted at the top of filter DOCKER,
	// above the per-network default DROP (28+); appended before.
	acceptFirst bool
	// hairpinAlways: the per-port hairpin MASQUERADE exists with the proxy on
	// too (≤27); from 28 only in hairpin mode.
	hairpinAlways bool
	// sctpChecksum: SCTP ports get a mangle CHECKSUM --checksum-fill rule
	// (≤27; 28 only with DOCKER_IPTABLES_SCTP_CHECKSUM=1, 29 never).
	sctpChecksum bool
	// loopbackDrop: a port published on an IPv4 loopback address gets a raw
	// DROP for packets not from lo (28+).
	loopbackDrop bool
	// endpointDrop: each endpoint gets a raw DROP for packets routed to it
	// from outside its bridge (28.2+).
	endpointDrop bool
	// userChainAtStart: the controller sets up DOCKER-USER when it starts,
	// networks or not (28+; moby/moby libnetwork/controller.go New,
	// setupUserChains, v28.5.2), not only after each network create.
	userChainAtStart bool
	// forwardDrop6AtStart: the ip6tables FORWARD policy is set to DROP when
	// the driver starts, whether or not the engine turned IPv6 forwarding
	// on (≤27: moby/moby v27.5.1 libnetwork/drivers/bridge/
	// setup_ip_forwarding.go setupIPForwarding); from 28 only when it did,
	// on its first IPv6 network (ForwardDrop6).
	forwardDrop6AtStart bool
	// isolateEveryNetwork6: every non-internal network, IPv6 or not, gets
	// its ip6tables isolation rules (≤27: moby/moby v27.5.1
	// libnetwork/drivers/bridge/bridge_linux.go isolateNetwork checks only
	// EnableIP6Tables); from 28 only a network with an IPv6 subnet.
	isolateEveryNetwork6 bool
	// skipLinkLocal6: an IPv6 DNAT rule does not take link-local sources,
	// "! -s fe80::/10" (28+; moby/moby v28.5.2 libnetwork/drivers/bridge/
	// internal/iptabler/port.go setPerPortNAT).
	skipLinkLocal6 bool
}

var eras = map[release.Era]era{
	release.Era27: {
		filterChains:    []string{ChainDocker, ChainIsolation1, ChainIsolation2},
		isolationReturn: true,
		userReturn:      true,
		skipDNAT:        true,
		isolation:       true,
		internalChain:   ChainIsolation1,
		hairpinAlways:   true,
		sctpChecksum:    true,

		forwardDrop6AtStart:  true,
		isolateEveryNetwork6: true,
	},
	release.Era28: {
		filterChains:     []string{ChainDocker, ChainForward, ChainBridge, ChainCT, ChainIsolation1, ChainIsolation2},
		natJumpsAtStart:  true,
		forwardJumps:     []string{ChainBridge, ChainIsolation1, ChainCT},
		skipDNAT:         true,
		isolation:        true,
		internalChain:    ChainIsolation1,
		acceptFirst:      true,
		loopbackDrop:     true,
		endpointDrop:     true,
		userChainAtStart: true,
		skipLinkLocal6:   true,
	},
	release.Era29: {
		filterChains:     []string{ChainDocker, ChainForward, ChainBridge, ChainCT, ChainInternal},
		natJumpsAtStart:  true,
		forwardJumps:     []string{ChainBridge, ChainInternal, ChainCT},
		internalChain:    ChainInternal,
		acceptFirst:      true,
		loopbackDrop:     true,
		endpointDrop:     true,
		userChainAtStart: true,
		skipLinkLocal6:   true,
	},
}

func (c Config) era() era {
	r, ok := eras[c.Release.Era]
	if !ok {
		return eras[release.Era27]
	}
	return r
}

func (c Config) hairpin() bool { return c.NoUserlandProxy }

// builder collects operations of one family and remembers which rules
// belong to the object being built (a network, an endpoint, ports) rather
// than to the engine, so that removal deletes exactly those.
type builder struct {
	fam   Family
	ops   []Op
	owned []bool
	seen  map[string]bool // for ports: rules already added in this batch
}

func (b *builder) own(o Op) {
	o.Rule.Family = b.fam
	if b.seen != nil {
		k := o.Rule.Table + " " + o.Rule.String()
		if b.seen[k] {
			return
		}
		b.seen[k] = true
	}
	b.ops = append(b.ops, o)
	b.owned = append(b.owned, true)
}

func (b *builder) share(o Op) {
	o.Rule.Family = b.fam
	b.ops = append(b.ops, o)
	b.owned = append(b.owned, false)
}

// inverse returns Deletes of the owned rules, last added first.
func (b *builder) inverse() []Op {
	var out []Op
	for i := len(b.ops) - 1; i >= 0; i-- {
		o := b.ops[i]
		if !b.owned[i] {
			continue
		}
		switch o.Kind {
		case Append, AppendUnique, Insert, InsertUnique, EnsureFirst:
			out = append(out, Op{Kind: Delete, Rule: o.Rule})
		}
	}
	return out
}

func rule(kind OpKind, table, chain string, spec ...string) Op {
	return Op{Kind: kind, Rule: Rule{Table: table, Chain: chain, Spec: spec}}
}

func chainOp(kind OpKind, table, chain string) Op {
	return Op{Kind: kind, Rule: Rule{Table: table, Chain: chain}}
}

// Start returns what the bridge driver does to the firewall when the engine
// starts: create Docker's chains and, if the engine turned IP forwarding on,
// set the FORWARD policy to DROP. DOCKER-USER is not created here: Docker's
// controller creates it after each network (see AddNetwork).
//
// Equivalent to (era 27):
//
//	iptables -t nat -N DOCKER
//	iptables -N DOCKER
//	iptables -N DOCKER-ISOLATION-STAGE-1
//	iptables -N DOCKER-ISOLATION-STAGE-2
//	iptables -A DOCKER-ISOLATION-STAGE-1 -j RETURN
//	iptables -A DOCKER-ISOLATION-STAGE-2 -j RETURN
//	iptables -P FORWARD DROP                  # IPForwardFlipped only
//
// Eras 28 and 29 create DOCKER-FORWARD, DOCKER-BRIDGE, DOCKER-CT and
// DOCKER-ISOLATION-STAGE-1/2 (28) or DOCKER-INTERNAL (29), append the nat
// jumps to DOCKER (see natJumps), and then:
//
//	iptables -I FORWARD -j DOCKER-FORWARD
//	iptables -I DOCKER-FORWARD -j DOCKER-BRIDGE
//	iptables -I DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1   # 29: DOCKER-INTERNAL
//	iptables -I DOCKER-FORWARD -j DOCKER-CT
//
// and set up DOCKER-USER (see userChain), as the controller does when it
// starts, whether or not there is a network.
func (c Config) Start() []Op { return c.start(IPv4) }

// off reports whether the engine writes no rules of family f
// (--iptables=false, --ip6tables=false).
func (c Config) off(f Family) bool {
	if f == IPv6 {
		return c.NoIP6Tables
	}
	return c.NoIPTables
}

// start is Start for either family: Docker sets up the same chains in
// iptables and ip6tables (moby/moby v28.5.2 libnetwork/drivers/bridge/
// internal/iptabler/iptabler.go NewIptabler, setupIPChains).
func (c Config) start(f Family) []Op {
	if c.off(f) {
		return nil
	}
	r := c.era()
	b := &builder{fam: f}
	b.share(chainOp(NewChain, TableNAT, ChainDocker))
	for _, ch := range r.filterChains {
		b.share(chainOp(NewChain, TableFilter, ch))
	}
	if r.isolationReturn {
		b.share(rule(AppendUnique, TableFilter, ChainIsolation1, "-j", "RETURN"))
		b.share(rule(AppendUnique, TableFilter, ChainIsolation2, "-j", "RETURN"))
	}
	if r.natJumpsAtStart {
		c.natJumps(b)
	}
	if r.forwardJumps != nil {
		b.share(rule(EnsureFirst, TableFilter, chainFORWARD, "-j", ChainForward))
		for _, j := range r.forwardJumps {
			b.share(rule(EnsureFirst, TableFilter, ChainForward, "-j", j))
		}
	}
	if (f == IPv4 && c.IPForwardFlipped) || (f == IPv6 && r.forwardDrop6AtStart) {
		b.share(forwardDrop(f))
	}
	if r.userChainAtStart {
		c.userChain(b)
	}
	return b.ops
}

// ForwardDrop is what the bridge driver does when it turned IPv4
// forwarding on: it drops forwarded packets unless a rule accepts them.
//
// Equivalent to: iptables -P FORWARD DROP
func ForwardDrop() []Op { return []Op{forwardDrop(IPv4)} }

func forwardDrop(f Family) Op {
	return Op{Kind: Policy, Rule: Rule{Family: f, Table: TableFilter, Chain: chainFORWARD}, Policy: "DROP"}
}

// loopback is the family's loopback network as iptables-save prints it.
func loopback(f Family) string {
	if f == IPv6 {
		return "::1/128"
	}
	return "127.0.0.0/8"
}

// natJumps sends locally addressed packets to nat DOCKER, once.
//
// Equivalent to:
//
//	iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
//	iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
//
// (OUTPUT without "! -d 127.0.0.0/8" when the userland proxy is off; for
// ip6tables "! -d ::1/128").
func (c Config) natJumps(b *builder) {
	out := []string{"!", "-d", loopback(b.fam), "-m", "addrtype", "--dst-type", "LOCAL", "-j", ChainDocker}
	if c.hairpin() {
		out = out[3:]
	}
	b.share(rule(AppendUnique, TableNAT, chainPrerouting, "-m", "addrtype", "--dst-type", "LOCAL", "-j", ChainDocker))
	b.share(rule(AppendUnique, TableNAT, chainOutput, out...))
}

// AddNetwork returns the operations of creating bridge network n, followed
// by the controller's DOCKER-USER arrangement that Docker runs after every
// network create. It returns nil unless n has an IPv4 subnet.
//
// Equivalent to (era 27, default options, in this order):
//
//	iptables -t nat -I POSTROUTING -s SUBNET ! -o BR -j MASQUERADE
//	iptables -t nat -I DOCKER -i BR -j RETURN
//	iptables -I FORWARD -i BR -o BR -j ACCEPT
//	iptables -I FORWARD -i BR ! -o BR -j ACCEPT
//	iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER        # if missing
//	iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER  # if missing
//	iptables -I FORWARD -o BR -j DOCKER
//	iptables -I FORWARD -o BR -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
//	iptables -D FORWARD -j DOCKER-ISOLATION-STAGE-1; iptables -I FORWARD -j DOCKER-ISOLATION-STAGE-1
//	iptables -I DOCKER-ISOLATION-STAGE-1 -i BR ! -o BR -j DOCKER-ISOLATION-STAGE-2
//	iptables -I DOCKER-ISOLATION-STAGE-2 -o BR -j DROP
//	iptables -N DOCKER-USER                                                      # if missing
//	iptables -A DOCKER-USER -j RETURN                                            # if missing
//	iptables -D FORWARD -j DOCKER-USER; iptables -I FORWARD -j DOCKER-USER
//
// Variants: ip-masq off drops the MASQUERADE and RETURN rules; the userland
// proxy off drops the RETURN rule and inserts
// "-t nat -I POSTROUTING -o BR -m addrtype --src-type LOCAL -j MASQUERADE";
// icc off appends "-A FORWARD -i BR -o BR -j DROP" instead of the ICC
// ACCEPT; --internal replaces the NAT and FORWARD rules with
// "-I DOCKER-ISOLATION-STAGE-1 ! -d SUBNET -i BR -j DROP" and
// "-I DOCKER-ISOLATION-STAGE-1 ! -s SUBNET -o BR -j DROP" plus the ICC rule.
// Eras 28 and 29: see the package documentation's chain layout.
func (c Config) AddNetwork(n Network) []Op { return c.network(IPv4, n).ops }

// RemoveNetwork returns the operations of deleting bridge network n: a
// Delete of every rule AddNetwork added for n, in reverse order. Rules shared
// with other networks (nat jumps to DOCKER, FORWARD jumps to the isolation
// and user chains, DOCKER-USER) stay, as with Docker.
//
// Equivalent to: iptables -D … for each of n's rules.
func (c Config) RemoveNetwork(n Network) []Op { return c.network(IPv4, n).inverse() }

// network builds n's rules of family f (an empty builder when there are
// none): the same builders for both families, as in Docker, which runs
// one setupIPTables per family (moby/moby v28.5.2 libnetwork/drivers/
// bridge/internal/iptabler/network.go ReapplyNetworkLevelRules).
func (c Config) network(f Family, n Network) *builder {
	b := &builder{fam: f}
	if c.off(f) || n.Bridge == "" {
		return b
	}
	if !n.subnet(f).IsValid() {
		if f == IPv6 && c.era().isolateEveryNetwork6 {
			// ≤27: the IPv4-only network's ip6tables isolation rules.
			c.isolate(b, n)
			c.userChain(b)
		}
		return b
	}
	if c.era().forwardJumps == nil {
		c.classicNetwork(b, n)
	} else {
		c.forwardChainNetwork(b, n)
	}
	c.isolate(b, n)
	c.userChain(b)
	return b
}

// natRules returns the network's masquerading rule and the hairpin-mode rule
// for locally originated traffic of b's family, SNAT instead when the
// network has a host address of that family (host_ipv4, host_ipv6).
func natRules(b *builder, n Network) (masq, local []string) {
	br, subnet := n.Bridge, n.subnet(b.fam).String()
	target := []string{"-j", "MASQUERADE"}
	if a := n.hostIP(b.fam); a.IsValid() {
		target = []string{"-j", "SNAT", "--to-source", a.String()}
	}
	masq = append([]string{"-s", subnet, "!", "-o", br}, target...)
	local = append([]string{"-o", br, "-m", "addrtype", "--src-type", "LOCAL"}, target...)
	return masq, local
}

// internalRules returns the two DROP rules that keep an --internal network's
// traffic on its bridge, in Docker's insertion order (incoming first). The
// IPv6 ones also match the other interface ("! -o BR", "! -i BR"):
// moby/moby v28.5.2 libnetwork/drivers/bridge/internal/iptabler/network.go
// setupInternalNetworkRules (the same in v27.5.1 and docker-v29.7.2).
func internalRules(b *builder, n Network) (in, out []string) {
	br, subnet := n.Bridge, n.subnet(b.fam).String()
	if b.fam == IPv6 {
		return []string{"!", "-d", subnet, "-i", br, "!", "-o", br, "-j", "DROP"},
			[]string{"!", "-s", subnet, "!", "-i", br, "-o", br, "-j", "DROP"}
	}
	return []string{"!", "-d", subnet, "-i", br, "-j", "DROP"},
		[]string{"!", "-s", subnet, "-o", br, "-j", "DROP"}
}

// classicNetwork builds era 27's network rules, in Docker's call order
// (setupIPTablesInternal, ProgramChain nat, ProgramChain filter,
// EnsureJumpRule).
func (c Config) classicNetwork(b *builder, n Network) {
	br := n.Bridge
	iccAccept := []string{"-i", br, "-o", br, "-j", "ACCEPT"}
	iccDrop := []string{"-i", br, "-o", br, "-j", "DROP"}
	icc := func() {
		if n.NoICC {
			b.own(rule(AppendUnique, TableFilter, chainFORWARD, iccDrop...))
		} else {
			b.own(rule(InsertUnique, TableFilter, chainFORWARD, iccAccept...))
		}
	}
	if n.Internal {
		in, out := internalRules(b, n)
		b.own(rule(InsertUnique, TableFilter, ChainIsolation1, in...))
		b.own(rule(InsertUnique, TableFilter, ChainIsolation1, out...))
		icc()
	} else {
		masq, local := natRules(b, n)
		if !n.NoIPMasq {
			b.own(rule(InsertUnique, TableNAT, chainPostrouting, masq...))
			if !c.hairpin() {
				b.own(rule(InsertUnique, TableNAT, ChainDocker, "-i", br, "-j", "RETURN"))
			}
		}
		if c.hairpin() {
			b.own(rule(InsertUnique, TableNAT, chainPostrouting, local...))
		}
		icc()
		b.own(rule(InsertUnique, TableFilter, chainFORWARD, "-i", br, "!", "-o", br, "-j", "ACCEPT"))
		c.natJumps(b)
		b.own(rule(InsertUnique, TableFilter, chainFORWARD, "-o", br, "-j", ChainDocker))
		b.own(rule(InsertUnique, TableFilter, chainFORWARD, "-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"))
	}
	b.share(rule(EnsureFirst, TableFilter, chainFORWARD, "-j", ChainIsolation1))
}

// forwardChainNetwork builds the network rules of eras 28 and 29, in Docker's
// call order (setupNonInternalNetworkRules, setDefaultForwardRule, ct rule,
// bridge jump; or setupInternalNetworkRules).
//
// Equivalent to (default options):
//
//	iptables -t nat -I POSTROUTING -s SUBNET ! -o BR -j MASQUERADE
//	iptables -t nat -I DOCKER -i BR -j RETURN                    # 28 only
//	iptables -A DOCKER-FORWARD -i BR -j ACCEPT
//	iptables -A DOCKER ! -i BR -o BR -j DROP
//	iptables -A DOCKER-CT -o BR -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
//	iptables -A DOCKER-BRIDGE -o BR -j DOCKER
func (c Config) forwardChainNetwork(b *builder, n Network) {
	r, br := c.era(), n.Bridge
	if n.Internal {
		in, out := internalRules(b, n)
		b.own(rule(InsertUnique, TableFilter, r.internalChain, in...))
		b.own(rule(InsertUnique, TableFilter, r.internalChain, out...))
		if n.NoICC {
			b.own(rule(AppendUnique, TableFilter, ChainForward, "-i", br, "-o", br, "-j", "DROP"))
		} else {
			b.own(rule(AppendUnique, TableFilter, ChainForward, "-i", br, "-o", br, "-j", "ACCEPT"))
		}
		return
	}
	masq, local := natRules(b, n)
	if !n.NoIPMasq {
		b.own(rule(InsertUnique, TableNAT, chainPostrouting, masq...))
		if r.skipDNAT && !c.hairpin() {
			b.own(rule(InsertUnique, TableNAT, ChainDocker, "-i", br, "-j", "RETURN"))
		}
	}
	if c.hairpin() {
		b.own(rule(InsertUnique, TableNAT, chainPostrouting, local...))
	}
	if n.NoICC {
		b.own(rule(AppendUnique, TableFilter, ChainForward, "-i", br, "-o", br, "-j", "DROP"))
		b.own(rule(AppendUnique, TableFilter, ChainForward, "-i", br, "!", "-o", br, "-j", "ACCEPT"))
	} else {
		b.own(rule(AppendUnique, TableFilter, ChainForward, "-i", br, "-j", "ACCEPT"))
	}
	b.own(rule(AppendUnique, TableFilter, ChainDocker, "!", "-i", br, "-o", br, "-j", "DROP"))
	b.own(rule(AppendUnique, TableFilter, ChainCT, "-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"))
	b.own(rule(AppendUnique, TableFilter, ChainBridge, "-o", br, "-j", ChainDocker))
}

// isolate adds the inter-network isolation rules (eras 27 and 28). An
// --internal network gets none: its own DROP rules already keep its
// traffic on its bridge (libnetwork's isolateNetwork returns early for
// internal networks; observed on Docker 20.10).
//
// Equivalent to (27; 28 appends the STAGE-1 rule instead):
//
//	iptables -I DOCKER-ISOLATION-STAGE-1 -i BR ! -o BR -j DOCKER-ISOLATION-STAGE-2
//	iptables -I DOCKER-ISOLATION-STAGE-2 -o BR -j DROP
func (c Config) isolate(b *builder, n Network) {
	r, br := c.era(), n.Bridge
	if !r.isolation || n.Internal {
		return
	}
	stage1 := InsertUnique
	if r.forwardJumps != nil {
		stage1 = AppendUnique
	}
	b.own(rule(stage1, TableFilter, ChainIsolation1, "-i", br, "!", "-o", br, "-j", ChainIsolation2))
	b.own(rule(InsertUnique, TableFilter, ChainIsolation2, "-o", br, "-j", "DROP"))
}

// userChain is the controller's arrangeUserFilterRule, run after every
// network create.
//
// Equivalent to:
//
//	iptables -N DOCKER-USER                      # if missing
//	iptables -A DOCKER-USER -j RETURN            # if missing; before 28.3 only
//	iptables -D FORWARD -j DOCKER-USER; iptables -I FORWARD -j DOCKER-USER
func (c Config) userChain(b *builder) {
	b.share(chainOp(NewChain, TableFilter, ChainUser))
	if c.era().userReturn {
		b.share(rule(AppendUnique, TableFilter, ChainUser, "-j", "RETURN"))
	}
	b.share(rule(EnsureFirst, TableFilter, chainFORWARD, "-j", ChainUser))
}
