package firewall

import (
	"net/netip"
	"strconv"

	"github.com/labrun/labrun/netkit/ports"
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

// builder collects operations and remembers which rules belong to the object
// being built (a network, an endpoint, ports) rather than to the engine, so
// that removal deletes exactly those.
type builder struct {
	ops   []Op
	owned []bool
	seen  map[string]bool // for ports: rules already added in this batch
}

func (b *builder) own(o Op) {
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
func (c Config) Start() []Op {
	if c.NoIPTables {
		return nil
	}
	r := c.era()
	ops := []Op{chainOp(NewChain, TableNAT, ChainDocker)}
	for _, ch := range r.filterChains {
		ops = append(ops, chainOp(NewChain, TableFilter, ch))
	}
	if r.isolationReturn {
		ops = append(ops,
			rule(AppendUnique, TableFilter, ChainIsolation1, "-j", "RETURN"),
			rule(AppendUnique, TableFilter, ChainIsolation2, "-j", "RETURN"))
	}
	if r.natJumpsAtStart {
		ops = append(ops, c.natJumps()...)
	}
	if r.forwardJumps != nil {
		ops = append(ops, rule(EnsureFirst, TableFilter, chainFORWARD, "-j", ChainForward))
		for _, j := range r.forwardJumps {
			ops = append(ops, rule(EnsureFirst, TableFilter, ChainForward, "-j", j))
		}
	}
	if c.IPForwardFlipped {
		ops = append(ops, ForwardDrop()...)
	}
	if r.userChainAtStart {
		b := &builder{}
		c.userChain(b)
		ops = append(ops, b.ops...)
	}
	return ops
}

// ForwardDrop is what the bridge driver does when it turned IPv4
// forwarding on: it drops forwarded packets unless a rule accepts them.
//
// Equivalent to: iptables -P FORWARD DROP
func ForwardDrop() []Op {
	return []Op{{Kind: Policy, Rule: Rule{Table: TableFilter, Chain: chainFORWARD}, Policy: "DROP"}}
}

// natJumps sends locally addressed packets to nat DOCKER, once.
//
// Equivalent to:
//
//	iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
//	iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
//
// (OUTPUT without "! -d 127.0.0.0/8" when the userland proxy is off).
func (c Config) natJumps() []Op {
	out := []string{"!", "-d", "127.0.0.0/8", "-m", "addrtype", "--dst-type", "LOCAL", "-j", ChainDocker}
	if c.hairpin() {
		out = out[3:]
	}
	return []Op{
		rule(AppendUnique, TableNAT, chainPrerouting, "-m", "addrtype", "--dst-type", "LOCAL", "-j", ChainDocker),
		rule(AppendUnique, TableNAT, chainOutput, out...),
	}
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
func (c Config) AddNetwork(n Network) []Op {
	b := c.network(n)
	if b == nil {
		return nil
	}
	return b.ops
}

// RemoveNetwork returns the operations of deleting bridge network n: a
// Delete of every rule AddNetwork added for n, in reverse order. Rules shared
// with other networks (nat jumps to DOCKER, FORWARD jumps to the isolation
// and user chains, DOCKER-USER) stay, as with Docker.
//
// Equivalent to: iptables -D … for each of n's rules.
func (c Config) RemoveNetwork(n Network) []Op {
	b := c.network(n)
	if b == nil {
		return nil
	}
	return b.inverse()
}

func (c Config) network(n Network) *builder {
	if c.NoIPTables || !n.Subnet.IsValid() || !n.Subnet.Addr().Is4() || n.Bridge == "" {
		return nil
	}
	b := &builder{}
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
// for locally originated traffic, SNAT instead when HostIPv4 is set.
func natRules(n Network) (masq, local []string) {
	br, subnet := n.Bridge, n.Subnet.Masked().String()
	target := []string{"-j", "MASQUERADE"}
	if n.HostIPv4.IsValid() {
		target = []string{"-j", "SNAT", "--to-source", n.HostIPv4.String()}
	}
	masq = append([]string{"-s", subnet, "!", "-o", br}, target...)
	local = append([]string{"-o", br, "-m", "addrtype", "--src-type", "LOCAL"}, target...)
	return masq, local
}

// internalRules returns the two DROP rules that keep an --internal network's
// traffic on its bridge, in Docker's insertion order (incoming first).
func internalRules(n Network) (in, out []string) {
	br, subnet := n.Bridge, n.Subnet.Masked().String()
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
		in, out := internalRules(n)
		b.own(rule(InsertUnique, TableFilter, ChainIsolation1, in...))
		b.own(rule(InsertUnique, TableFilter, ChainIsolation1, out...))
		icc()
	} else {
		masq, local := natRules(n)
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
		for _, o := range c.natJumps() {
			b.share(o)
		}
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
		in, out := internalRules(n)
		b.own(rule(InsertUnique, TableFilter, r.internalChain, in...))
		b.own(rule(InsertUnique, TableFilter, r.internalChain, out...))
		if n.NoICC {
			b.own(rule(AppendUnique, TableFilter, ChainForward, "-i", br, "-o", br, "-j", "DROP"))
		} else {
			b.own(rule(AppendUnique, TableFilter, ChainForward, "-i", br, "-o", br, "-j", "ACCEPT"))
		}
		return
	}
	masq, local := natRules(n)
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

// AddEndpoint returns the operations of attaching a container with address
// addr to network n. Only eras 28+ have per-endpoint rules, and not on
// --internal networks; it returns nil otherwise.
//
// Equivalent to: iptables -t raw -A PREROUTING -d ADDR/32 ! -i BR -j DROP
func (c Config) AddEndpoint(n Network, addr netip.Addr) []Op {
	return c.endpoint(n, addr).ops
}

// RemoveEndpoint returns the exact inverse of AddEndpoint.
//
// Equivalent to: iptables -t raw -D PREROUTING -d ADDR/32 ! -i BR -j DROP
func (c Config) RemoveEndpoint(n Network, addr netip.Addr) []Op {
	return c.endpoint(n, addr).inverse()
}

func (c Config) endpoint(n Network, addr netip.Addr) *builder {
	b := &builder{}
	if c.NoIPTables || !c.era().endpointDrop || n.Internal || !addr.Is4() {
		return b
	}
	b.own(rule(Append, TableRaw, chainPrerouting, "-d", host(addr), "!", "-i", n.Bridge, "-j", "DROP"))
	return b
}

// AddBindings returns the operations of publishing bindings bs of one
// container, whose address on network n is ctr. Pass all of a container's
// bindings to one call, in the order Docker programs them: a rule that two
// bindings share (two host ports for one container port) is then added
// once, as Docker does. A binding's HostIP is the host address it is
// published on; the zero Addr and 0.0.0.0 mean every address (no -d
// match); HostPort 0 means no NAT (no DNAT rule); HostPortEnd is ignored
// (the engine has picked the host port). Bindings on an --internal
// network, IPv6 host addresses (Docker serves those with docker-proxy
// only) and IPv6 containers get no rules.
//
// Equivalent to (era 27, proxy on, -p 8080:80):
//
//	iptables -t nat -A DOCKER ! -i BR -p tcp -m tcp --dport 8080 -j DNAT --to-destination CTR:80
//	iptables -A DOCKER -d CTR/32 ! -i BR -o BR -p tcp -m tcp --dport 80 -j ACCEPT
//	iptables -t nat -A POSTROUTING -s CTR/32 -d CTR/32 -p tcp -m tcp --dport 80 -j MASQUERADE
//
// With a host IP, the DNAT rule gets "-d HOSTIP/32"; with the userland proxy
// off it has no "! -i BR"; SCTP ports also get
// "-t mangle -A POSTROUTING -p sctp -m sctp --sport 80 -j CHECKSUM --checksum-fill".
// Eras 28+ insert the ACCEPT at the top of DOCKER, add the hairpin
// MASQUERADE only with the proxy off, and for a port published on 127.x add
// "-t raw -A PREROUTING -d HOSTIP/32 ! -i lo -p tcp -m tcp --dport 8080 -j DROP".
//
// The operations are plain appends and inserts: applying them costs one
// iptables-restore and no read of the current rules.
func (c Config) AddBindings(n Network, ctr netip.Addr, bs ...ports.Binding) []Op {
	return c.bindings(n, ctr, bs).ops
}

// RemoveBindings returns the exact inverse of AddBindings(n, ctr, bs...): a
// Delete of each rule it added, last first.
//
// Equivalent to: iptables -D … for each rule of AddBindings.
func (c Config) RemoveBindings(n Network, ctr netip.Addr, bs ...ports.Binding) []Op {
	return c.bindings(n, ctr, bs).inverse()
}

func (c Config) bindings(n Network, ctr netip.Addr, bs []ports.Binding) *builder {
	b := &builder{seen: map[string]bool{}}
	if c.NoIPTables || n.Internal {
		return b
	}
	for _, p := range bs {
		c.binding(b, n, ctr, p)
	}
	return b
}

func (c Config) binding(b *builder, n Network, ctrIP netip.Addr, p ports.Binding) {
	if !ctrIP.Is4() || (p.HostIP.IsValid() && !p.HostIP.Is4()) {
		return
	}
	r, br := c.era(), n.Bridge
	proto := string(p.Container.Proto)
	if proto == "" {
		proto = string(ports.TCP)
	}
	ctr := ctrIP.String()
	cport := strconv.Itoa(int(p.Container.Num))
	hport := strconv.Itoa(int(p.HostPort))
	match := []string{"-p", proto, "-m", proto}

	if r.loopbackDrop && p.HostPort != 0 && p.HostIP.IsLoopback() {
		spec := append([]string{"-d", host(p.HostIP), "!", "-i", "lo"}, match...)
		b.own(rule(Append, TableRaw, chainPrerouting, append(spec, "--dport", hport, "-j", "DROP")...))
	}
	var dnat, masq []string
	if p.HostPort != 0 {
		if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
			dnat = append(dnat, "-d", host(p.HostIP))
		}
		if !c.hairpin() {
			dnat = append(dnat, "!", "-i", br)
		}
		dnat = append(append(dnat, match...), "--dport", hport, "-j", "DNAT", "--to-destination", ctr+":"+cport)
		if r.hairpinAlways || c.hairpin() {
			masq = append([]string{"-s", host(ctrIP), "-d", host(ctrIP)}, match...)
			masq = append(masq, "--dport", cport, "-j", "MASQUERADE")
		}
	}
	accept := append([]string{"-d", host(ctrIP), "!", "-i", br, "-o", br}, match...)
	accept = append(accept, "--dport", cport, "-j", "ACCEPT")

	if r.acceptFirst {
		// 28+: DNAT, hairpin MASQUERADE, then ACCEPT at the top of DOCKER.
		if dnat != nil {
			b.own(rule(Append, TableNAT, ChainDocker, dnat...))
		}
		if masq != nil {
			b.own(rule(Append, TableNAT, chainPostrouting, masq...))
		}
		b.own(rule(Insert, TableFilter, ChainDocker, accept...))
		return
	}
	// ≤27 (ChainInfo.Forward): DNAT, ACCEPT, MASQUERADE, SCTP checksum.
	if dnat != nil {
		b.own(rule(Append, TableNAT, ChainDocker, dnat...))
	}
	b.own(rule(Append, TableFilter, ChainDocker, accept...))
	if masq != nil {
		b.own(rule(Append, TableNAT, chainPostrouting, masq...))
	}
	if r.sctpChecksum && proto == string(ports.SCTP) {
		b.own(rule(Append, TableMangle, chainPostrouting, "-p", "sctp", "-m", "sctp", "--sport", cport, "-j", "CHECKSUM", "--checksum-fill"))
	}
}

// host formats an IPv4 address as a /32, as iptables-save prints it.
func host(a netip.Addr) string { return a.String() + "/32" }
