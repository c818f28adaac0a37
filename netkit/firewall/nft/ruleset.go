// Package nft describes Docker 29's nftables back end (dockerd
// --firewall-backend=nftables) as data and programs it into a network
// namespace over netlink, with github.com/google/nftables: no nft binary.
//
// It exists so that an engine started with the nftables back end shows the
// tables Docker 29 writes, `table ip docker-bridges` and `table ip6
// docker-bridges` (docs/docker.md §1.4), and behaves as the iptables back
// end does: DNAT of published ports, a MASQUERADE of each network's
// traffic leaving it, an accept per published port and a drop of
// everything else routed to a container, and a raw-hook drop of packets
// routed to a container from outside its bridge.
//
// The state of the tables is a [State]: the engine's networks, published
// ports and endpoints. [Build] and [Build6] turn it into a [Ruleset] per
// table (maps, chains and rules as data), which [Ruleset.String] renders
// in `nft list ruleset`'s form (the golden tests pin it) and a
// [Programmer] writes to the kernel. Each change replaces the whole table
// in one netlink transaction, so the table is never seen half-built; its
// counters start again from zero.
//
// What the rules are: Docker 29.8.1's (moby/moby v2.0.0-beta.24
// daemon/libnetwork/drivers/bridge/internal/nftabler: nftabler.go,
// network.go, endpoint.go, port.go), in the order it lists them, checked
// against the real engine's `nft list ruleset` (cmd/labrun/fidelity with
// -engine nftables): the default network, user-defined networks, icc and
// masquerading off, --internal, the userland proxy off, ports on a
// loopback or an IPv6 host address, and a network with IPv6. Each table
// holds the networks with a subnet of its family (firewall.Network's
// Subnet, Subnet6) and the endpoints and ports of container addresses of
// its family: the ip6 table of an engine with IPv4 networks only holds
// the base chains alone, as Docker's does.
//
// [DNSTable] is the one other table Docker writes with this back end,
// `table ip docker-dns` in a container's namespace: the NAT of its
// embedded DNS server (package netkit/resolver).
package nft

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/ports"
)

// TableName is the name of the tables Docker 29 programs (families ip and
// ip6).
const TableName = "docker-bridges"

// State is what the engine has published: the input of Build. The zero
// value is an engine with no network. Its settings are the iptables back
// end's (package firewall): of Config only NoUserlandProxy matters here
// (the table is Docker 29's whatever Config.Release says; dockerd has no
// nftables back end before 29).
type State struct {
	// Config is the engine's settings.
	Config firewall.Config
	// Networks in creation order.
	Networks []firewall.Network
	// Endpoints in attachment order.
	Endpoints []Endpoint
	// Ports in publication order.
	Ports []Publication
}

// Endpoint is a container's address on a bridge. A container with an IPv4
// and an IPv6 address on a network is two Endpoints.
type Endpoint struct {
	Bridge string
	Addr   netip.Addr
}

// Publication is one of a container's published bindings: the container's
// endpoint and the binding. Its rules are in the table of the container
// address's family: Docker pairs a binding on 0.0.0.0 with the container's
// IPv4 address and one on :: with its IPv6 address, when it has one. A
// binding's zero HostIP means every host address (0.0.0.0, or :: for an
// IPv6 container); a HostIP of the other family than the container's gets
// the accept rule of the container's port and no NAT (docker-proxy serves
// it), as in Docker.
type Publication struct {
	Endpoint
	ports.Binding
}

// Ruleset is a table: its family (FamilyIPv4 or FamilyIPv6; "" is
// FamilyIPv4), its name ("" is TableName), its verdict maps and its
// chains, in listing order.
type Ruleset struct {
	Family string
	Name   string
	Maps   []Map
	Chains []Chain
}

// ref is the table's family and name, defaults filled in.
func (rs Ruleset) ref() tableRef {
	r := tableRef{family: rs.Family, name: rs.Name}
	if r.family == "" {
		r.family = FamilyIPv4
	}
	if r.name == "" {
		r.name = TableName
	}
	return r
}

// Map is a verdict map from interface names to jumps.
type Map struct {
	Name     string
	Elements []Element
}

// Element is one "IFNAME : jump CHAIN" of a map.
type Element struct {
	Ifname, Chain string
}

// Chain is a chain; Hook is "" for a regular chain.
type Chain struct {
	Name string
	// Type, Hook and Priority of a base chain ("filter", "forward",
	// "filter"); its policy is always accept.
	Type, Hook, Priority string
	Rules                []Rule
}

// Rule is a list of statements and an optional comment.
type Rule struct {
	Stmts   []Stmt
	Comment string
}

// Chain and map names (Docker's; scripts and checks refer to them).
const (
	mapForwardIn      = "filter-forward-in-jumps"
	mapForwardOut     = "filter-forward-out-jumps"
	mapPostroutingIn  = "nat-postrouting-in-jumps"
	mapPostroutingOut = "nat-postrouting-out-jumps"

	chainForward     = "filter-FORWARD"
	chainNATOutput   = "nat-OUTPUT"
	chainNATPost     = "nat-POSTROUTING"
	chainNATPre      = "nat-PREROUTING"
	chainDNAT        = "nat-prerouting-and-output"
	chainRawPre      = "raw-PREROUTING"
	prefixForwardIn  = "filter-forward-in__"
	prefixForwardOut = "filter-forward-out__"
	prefixPostIn     = "nat-postrouting-in__"
	prefixPostOut    = "nat-postrouting-out__"
)

// Families of Docker's two tables.
const (
	FamilyIPv4 = "ip"
	FamilyIPv6 = "ip6"
)

// Build returns the table ip docker-bridges for state s.
//
// Equivalent to (one network, docker0, 172.17.0.2 with -p 8080:80): the
// table of docs/docker.md §1.4, as `nft -f` would load it.
func Build(s State) Ruleset { return build(FamilyIPv4, s) }

// Build6 returns the table ip6 docker-bridges for state s: Docker creates
// it whenever ip6tables is on (its default), and fills it as Build fills
// the ip table, for the networks with an IPv6 subnet and their IPv6
// endpoints and ports. The DNAT of a port leaves out link-local sources
// (moby/moby docker-v29.7.2 daemon/libnetwork/drivers/bridge/internal/
// nftabler/port.go setPerPortDNAT), and a port on ::1 gets no raw rule
// (filterPortMappedOnLoopback).
//
// Equivalent to (a network with --ipv6 --subnet fd00:db8:1::/64,
// fd00:db8:1::2 with -p 8080:80): the table of docs/docker.md §1.5, as
// `nft -f` would load it.
func Build6(s State) Ruleset { return build(FamilyIPv6, s) }

// ofFamily reports whether a is an address of table family fam.
func ofFamily(fam string, a netip.Addr) bool {
	return a.IsValid() && (a.Is4() || a.Is4In6()) == (fam == FamilyIPv4)
}

// subnet is n's subnet of table family fam, masked, or the zero Prefix.
func subnet(fam string, n firewall.Network) netip.Prefix {
	p := n.Subnet
	if fam == FamilyIPv6 {
		p = n.Subnet6
	}
	if !ofFamily(fam, p.Addr()) {
		return netip.Prefix{}
	}
	return p.Masked()
}

// host is a as a one-address prefix.
func host(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }

// build returns the table of family fam for state s: Docker's nftabler
// writes the same rules in both tables, each for the networks with a
// subnet of its family (network.go configure).
func build(fam string, s State) Ruleset {
	var own []firewall.Network
	nets := map[string]firewall.Network{}
	for _, n := range s.Networks {
		if subnet(fam, n).IsValid() {
			own = append(own, n)
			nets[n.Bridge] = n
		}
	}
	rs := baseTable(fam, s.Config.NoUserlandProxy, own)
	var dnat []Rule
	for _, p := range s.Ports {
		// Docker's setPerPortDNAT: no rule for a port of an internal
		// network, an unmapped port, or a host address of the other
		// family (docker-proxy alone serves it).
		if n, ok := nets[p.Bridge]; !ok || n.Internal || !ofFamily(fam, p.Addr) || !p.nat() {
			continue
		}
		var st []Stmt
		if !s.Config.NoUserlandProxy {
			st = append(st, Iface{Key: "iifname", Op: "!=", Name: p.Bridge})
		}
		if fam == FamilyIPv6 {
			st = append(st, IPAddr{Field: "saddr", Op: "!=", Prefix: netip.MustParsePrefix("fe80::/10")})
		}
		if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
			st = append(st, IPAddr{Field: "daddr", Op: "==", Prefix: host(p.HostIP)})
		}
		st = append(st, L4Port{Proto: p.Container.Proto, Field: "dport", Port: p.HostPort}, Counter{},
			DNAT{Addr: p.Addr, Port: p.Container.Num})
		dnat = append(dnat, Rule{Stmts: st, Comment: "DNAT"})
	}
	rs.Chains[chainIndex(rs, chainDNAT)].Rules = dnat
	rs.Chains[chainIndex(rs, chainRawPre)].Rules = rawRules(fam, s, nets)
	for _, n := range own {
		rs.Chains = append(rs.Chains, networkChains(fam, s, n)...)
	}
	return rs
}

// nat reports whether the binding is NATed: a host port, and a host
// address of the container's family (every address when HostIP is the
// zero value).
func (p Publication) nat() bool {
	if !p.Addr.IsValid() || p.HostPort == 0 {
		return false
	}
	fam := FamilyIPv4
	if !ofFamily(fam, p.Addr) {
		fam = FamilyIPv6
	}
	return !p.HostIP.IsValid() || ofFamily(fam, p.HostIP)
}

// baseTable is the table of family fam as Docker's Nftabler.init makes
// it, with a map element per network of nets: its maps and base chains,
// declared in the order of their names (Docker's template ranges over Go
// maps), and the empty nat-prerouting-and-output.
func baseTable(fam string, hairpin bool, nets []firewall.Network) Ruleset {
	rs := Ruleset{Family: fam}
	maps := []string{mapForwardIn, mapForwardOut, mapPostroutingIn, mapPostroutingOut}
	prefixes := []string{prefixForwardIn, prefixForwardOut, prefixPostIn, prefixPostOut}
	for i, m := range maps {
		mp := Map{Name: m}
		for _, n := range nets {
			mp.Elements = append(mp.Elements, Element{Ifname: n.Bridge, Chain: prefixes[i] + n.Bridge})
		}
		rs.Maps = append(rs.Maps, mp)
	}
	localDst := []Stmt{Fib{Addr: "daddr", Type: "local"}, Counter{}, Verdict{Kind: "jump", Chain: chainDNAT}}
	output := localDst
	if !hairpin {
		// Docker writes 127.0.0.1/8, which nft lists as 127.0.0.0/8.
		loopback := netip.MustParsePrefix("127.0.0.0/8")
		if fam == FamilyIPv6 {
			loopback = netip.MustParsePrefix("::1/128")
		}
		output = append([]Stmt{IPAddr{Field: "daddr", Op: "!=", Prefix: loopback}}, localDst...)
	}
	rs.Chains = append(rs.Chains,
		Chain{Name: chainForward, Type: "filter", Hook: "forward", Priority: "filter", Rules: []Rule{
			{Stmts: []Stmt{Vmap{Key: "oifname", Map: mapForwardIn}}},
			{Stmts: []Stmt{Vmap{Key: "iifname", Map: mapForwardOut}}},
		}},
		Chain{Name: chainNATOutput, Type: "nat", Hook: "output", Priority: "dstnat", Rules: []Rule{{Stmts: output}}},
		Chain{Name: chainNATPost, Type: "nat", Hook: "postrouting", Priority: "srcnat", Rules: []Rule{
			{Stmts: []Stmt{Vmap{Key: "iifname", Map: mapPostroutingOut}}},
			{Stmts: []Stmt{Vmap{Key: "oifname", Map: mapPostroutingIn}}},
		}},
		Chain{Name: chainNATPre, Type: "nat", Hook: "prerouting", Priority: "dstnat", Rules: []Rule{{Stmts: localDst}}},
		Chain{Name: chainDNAT},
		Chain{Name: chainRawPre, Type: "filter", Hook: "prerouting", Priority: "raw"},
	)
	return rs
}

func chainIndex(rs Ruleset, name string) int {
	for i, c := range rs.Chains {
		if c.Name == name {
			return i
		}
	}
	panic("nft: no chain " + name)
}

// rawRules are raw-PREROUTING's rules of table family fam, in the order
// Docker adds them (one rule group, appended): each endpoint's DROP
// DIRECT ACCESS when it joins, then the DROP REMOTE LOOPBACK of each of
// its ports published on an IPv4 loopback address
// (filterPortMappedOnLoopback), when the ports are mapped; ports of an
// endpoint not in s.Endpoints come last.
func rawRules(fam string, s State, nets map[string]firewall.Network) []Rule {
	loopback := func(p Publication) (Rule, bool) {
		if fam != FamilyIPv4 || !ofFamily(fam, p.Addr) || !p.nat() || !p.HostIP.IsLoopback() {
			return Rule{}, false
		}
		return Rule{Stmts: []Stmt{Iface{Key: "iifname", Op: "!=", Name: "lo"},
			IPAddr{Field: "daddr", Op: "==", Prefix: netip.PrefixFrom(p.HostIP, 32)},
			L4Port{Proto: p.Container.Proto, Field: "dport", Port: p.HostPort},
			Counter{}, Verdict{Kind: "drop"}}, Comment: "DROP REMOTE LOOPBACK"}, true
	}
	var raw []Rule
	done := make([]bool, len(s.Ports))
	for _, ep := range s.Endpoints {
		if n, ok := nets[ep.Bridge]; !ok || n.Internal || !ofFamily(fam, ep.Addr) {
			continue
		}
		raw = append(raw, Rule{Stmts: []Stmt{IPAddr{Field: "daddr", Op: "==", Prefix: host(ep.Addr)},
			Iface{Key: "iifname", Op: "!=", Name: ep.Bridge}, Counter{}, Verdict{Kind: "drop"}}, Comment: "DROP DIRECT ACCESS"})
		for i, p := range s.Ports {
			if p.Endpoint != ep || done[i] {
				continue
			}
			done[i] = true
			if r, ok := loopback(p); ok {
				raw = append(raw, r)
			}
		}
	}
	for i, p := range s.Ports {
		if n, ok := nets[p.Bridge]; done[i] || !ok || n.Internal {
			continue
		}
		if r, ok := loopback(p); ok {
			raw = append(raw, r)
		}
	}
	return raw
}

// networkChains are one network's four chains in the table of family fam,
// jumped to through the maps, as Docker's nftabler network.configure and
// setPerPortRules fill them.
func networkChains(fam string, s State, n firewall.Network) []Chain {
	br := n.Bridge
	established := Rule{Stmts: []Stmt{CtState{}, Counter{}, Verdict{Kind: "accept"}}}
	in := Chain{Name: prefixForwardIn + br}
	out := Chain{Name: prefixForwardOut + br}
	postIn := Chain{Name: prefixPostIn + br}
	postOut := Chain{Name: prefixPostOut + br}
	iccVerdict := Verdict{Kind: "accept"}
	if n.NoICC {
		iccVerdict = Verdict{Kind: "drop"}
	}
	if n.Internal {
		// Traffic stays on the bridge; no NAT, no port.
		in.Rules = []Rule{established,
			{Stmts: []Stmt{Iface{Key: "iifname", Op: "!=", Name: br}, Counter{}, Verdict{Kind: "drop"}}, Comment: "INTERNAL NETWORK INGRESS"},
			{Stmts: []Stmt{Counter{}, iccVerdict}, Comment: "ICC"}}
		out.Rules = []Rule{established,
			{Stmts: []Stmt{Iface{Key: "oifname", Op: "!=", Name: br}, Counter{}, Verdict{Kind: "drop"}}, Comment: "INTERNAL NETWORK EGRESS"}}
		return []Chain{in, out, postIn, postOut}
	}
	in.Rules = []Rule{established, {Stmts: []Stmt{Iface{Key: "iifname", Op: "==", Name: br}, Counter{}, iccVerdict}, Comment: "ICC"}}
	for _, p := range s.Ports {
		// Docker's setPerPortForwarding: every binding of a container of
		// the table's family, on whatever host address, once per
		// container port.
		if p.Bridge != br || !ofFamily(fam, p.Addr) {
			continue
		}
		r := Rule{Stmts: []Stmt{IPAddr{Field: "daddr", Op: "==", Prefix: host(p.Addr)},
			L4Port{Proto: p.Container.Proto, Field: "dport", Port: p.Container.Num}, Counter{}, Verdict{Kind: "accept"}}}
		if !containsRule(in.Rules, r) {
			in.Rules = append(in.Rules, r)
		}
	}
	in.Rules = append(in.Rules, Rule{Stmts: []Stmt{Counter{}, Verdict{Kind: "drop"}}, Comment: "UNPUBLISHED PORT DROP"})
	out.Rules = []Rule{established, {Stmts: []Stmt{Counter{}, Verdict{Kind: "accept"}}, Comment: "OUTGOING"}}
	// With com.docker.network.host_ipv4 (host_ipv6), SNAT to it
	// replaces MASQUERADE.
	hostIP := n.HostIPv4
	if fam == FamilyIPv6 {
		hostIP = n.HostIPv6
	}
	var nat Stmt = Masquerade{}
	natComment := "MASQUERADE"
	if hostIP.IsValid() {
		nat, natComment = SNAT{Addr: hostIP}, "SNAT"
	}
	if !n.NoIPMasq {
		postOut.Rules = []Rule{{Stmts: []Stmt{Iface{Key: "oifname", Op: "!=", Name: br},
			IPAddr{Field: "saddr", Op: "==", Prefix: subnet(fam, n)}, Counter{}, nat}, Comment: natComment}}
	}
	if s.Config.NoUserlandProxy {
		// Hairpin mode: traffic from the host to the bridge, and a
		// container reaching its own published port, are masqueraded.
		postIn.Rules = append(postIn.Rules, Rule{Stmts: []Stmt{Fib{Addr: "saddr", Type: "local"}, Counter{}, nat},
			Comment: natComment + " FROM HOST"})
		for _, p := range s.Ports {
			if p.Bridge != br || !ofFamily(fam, p.Addr) || !p.nat() {
				continue
			}
			// Docker 29.8.1 fails the container's start when a second
			// host port maps the same container port ("rule exists");
			// labrun keeps one rule.
			r := Rule{Stmts: []Stmt{IPAddr{Field: "saddr", Op: "==", Prefix: host(p.Addr)},
				IPAddr{Field: "daddr", Op: "==", Prefix: host(p.Addr)},
				L4Port{Proto: p.Container.Proto, Field: "dport", Port: p.Container.Num}, Counter{}, Masquerade{}}, Comment: "MASQ TO OWN PORT"}
			if !containsRule(postIn.Rules, r) {
				postIn.Rules = append(postIn.Rules, r)
			}
		}
	}
	return []Chain{in, out, postIn, postOut}
}

func containsRule(rs []Rule, r Rule) bool {
	for _, x := range rs {
		if x.String() == r.String() {
			return true
		}
	}
	return false
}

// String renders the table as nft 1.0.6 (Debian 12's) prints it in `nft
// list ruleset` (tabs, one element per line, counters at zero); the
// listing of both tables is Build(s).String() + Build6(s).String().
func (rs Ruleset) String() string {
	var b strings.Builder
	b.WriteString(rs.ref().String() + " {\n")
	for _, m := range rs.Maps {
		b.WriteString("\tmap " + m.Name + " {\n\t\ttype ifname : verdict\n")
		if len(m.Elements) > 0 {
			var els []string
			for _, e := range sortedElements(m.Elements) {
				els = append(els, strconv.Quote(e.Ifname)+" : jump "+e.Chain)
			}
			b.WriteString("\t\telements = { " + strings.Join(els, ",\n\t\t\t     ") + " }\n")
		}
		b.WriteString("\t}\n\n")
	}
	for i, c := range rs.Chains {
		b.WriteString("\tchain " + c.Name + " {\n")
		if c.Hook != "" {
			b.WriteString("\t\ttype " + c.Type + " hook " + c.Hook + " priority " + priorityText(c.Hook, c.Priority) + "; policy accept;\n")
		}
		for _, r := range c.Rules {
			b.WriteString("\t\t" + r.String() + "\n")
		}
		b.WriteString("\t}\n")
		if i < len(rs.Chains)-1 {
			b.WriteString("\n")
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// priorityText is a base chain's priority as nft 1.0.6 lists it: dstnat
// and srcnat by name only on the hooks nft names them for (prerouting and
// postrouting), else as numbers; nat-OUTPUT, declared with dstnat, lists
// as -100 (newer nft, which Docker's own goldens use, names it).
func priorityText(hook, prio string) string {
	switch {
	case prio == "dstnat" && hook != "prerouting":
		return "-100"
	case prio == "srcnat" && hook != "postrouting":
		return "100"
	}
	return prio
}

// sortedElements orders a map's elements as nft lists them: by key, an
// interface name compared as the host-endian (little-endian on the
// machines labrun runs on) 16-byte number it is to nft, so the last
// byte of the longer name weighs most.
func sortedElements(els []Element) []Element {
	out := slices.Clone(els)
	slices.SortStableFunc(out, func(a, b Element) int {
		x, y := ifname(a.Ifname), ifname(b.Ifname)
		for i := len(x) - 1; i >= 0; i-- {
			if x[i] != y[i] {
				return int(x[i]) - int(y[i])
			}
		}
		return 0
	})
	return out
}

// String renders the rule as nft does.
func (r Rule) String() string {
	var parts []string
	for _, s := range r.Stmts {
		parts = append(parts, s.text())
	}
	if r.Comment != "" {
		parts = append(parts, "comment "+strconv.Quote(r.Comment))
	}
	return strings.Join(parts, " ")
}
