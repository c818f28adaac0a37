// Package nft describes Docker 29's nftables back end (dockerd
// --firewall-backend=nftables) as data and programs it into a network
// namespace over netlink, with github.com/google/nftables: no nft binary.
//
// It exists so that an engine started with the nftables back end shows the
// table Docker 29 writes, `table ip docker-bridges` (docs/docker.md §1.4), and
// behaves as the iptables back end does: DNAT of published ports, a
// MASQUERADE of each network's traffic leaving it, an accept per published
// port and a drop of everything else routed to a container, and a raw-hook
// drop of packets routed to a container from outside its bridge.
//
// The state of the table is a [State]: the engine's networks, published
// ports and endpoints. [Build] turns it into a [Ruleset] (maps, chains and
// rules as data), which [Ruleset.String] renders in `nft list ruleset`'s
// form (the golden tests pin it) and a [Programmer] writes to the kernel.
// Each change replaces the whole table in one netlink transaction, so the
// table is never seen half-built; its counters start again from zero.
//
// What the rules are: the default network's rules after -p 8080:80 are
// those of Docker 29's nftabler golden file (docs/docker.md §1.4). The variants that
// docs/docker.md does not spell out (icc off, ip-masq off, --internal, the
// userland proxy off, ports on a loopback address) are labrun's reading of
// the iptables rules they replace, in the same style; their comments say
// so. It is IPv4 only, like the rest of labrun.
package nft

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/ports"
)

// TableName is the table Docker 29 programs (family ip).
const TableName = "docker-bridges"

// State is what the engine has published: the input of Build. The zero
// value is an engine with no network. Its settings are the iptables back
// end's (package firewall): of Config only NoUserlandProxy matters here
// (the table is Docker 29's whatever Config.Release says; dockerd has no
// nftables back end before 29), and a Network's HostIPv4 is not supported.
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

// Endpoint is a container's address on a bridge.
type Endpoint struct {
	Bridge string
	Addr   netip.Addr
}

// Publication is one of a container's published bindings: the container's
// endpoint and the binding. A binding's zero HostIP and 0.0.0.0 mean every
// host address; an IPv6 HostIP gets no rule (docker-proxy only).
type Publication struct {
	Endpoint
	ports.Binding
}

// Ruleset is the table: its verdict maps and its chains, in listing order.
type Ruleset struct {
	Maps   []Map
	Chains []Chain
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

// Build returns the table for state s.
//
// Equivalent to (one network, docker0, 172.17.0.2 with -p 8080:80): the
// table of docs/docker.md §1.4, as `nft -f` would load it.
func Build(s State) Ruleset {
	var rs Ruleset
	maps := []string{mapForwardIn, mapForwardOut, mapPostroutingIn, mapPostroutingOut}
	prefixes := []string{prefixForwardIn, prefixForwardOut, prefixPostIn, prefixPostOut}
	for i, m := range maps {
		mp := Map{Name: m}
		for _, n := range s.Networks {
			mp.Elements = append(mp.Elements, Element{Ifname: n.Bridge, Chain: prefixes[i] + n.Bridge})
		}
		rs.Maps = append(rs.Maps, mp)
	}
	localDst := []Stmt{Fib{Addr: "daddr", Type: "local"}, Counter{}, Verdict{Kind: "jump", Chain: chainDNAT}}
	output := localDst
	if !s.Config.NoUserlandProxy {
		output = append([]Stmt{IPAddr{Field: "daddr", Op: "!=", Prefix: netip.MustParsePrefix("127.0.0.0/8")}}, localDst...)
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
	)
	nets := map[string]firewall.Network{}
	for _, n := range s.Networks {
		nets[n.Bridge] = n
	}
	var dnat, raw []Rule
	for _, p := range s.Ports {
		n, ok := nets[p.Bridge]
		if !ok || n.Internal || p.HostPort == 0 || !p.Addr.Is4() || (p.HostIP.IsValid() && !p.HostIP.Is4()) {
			continue
		}
		var st []Stmt
		if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
			st = append(st, IPAddr{Field: "daddr", Op: "==", Prefix: netip.PrefixFrom(p.HostIP, 32)})
		}
		if !s.Config.NoUserlandProxy {
			st = append(st, Iface{Key: "iifname", Op: "!=", Name: p.Bridge})
		}
		st = append(st, L4Port{Proto: p.Container.Proto, Field: "dport", Port: p.HostPort}, Counter{},
			DNAT{Addr: p.Addr, Port: p.Container.Num})
		dnat = append(dnat, Rule{Stmts: st, Comment: "DNAT"})
		if p.HostIP.IsLoopback() {
			// labrun's reading of 28+'s raw rule for ports published on
			// 127.x (the iptables back end's filterPortMappedOnLoopback).
			raw = append(raw, Rule{Stmts: []Stmt{IPAddr{Field: "daddr", Op: "==", Prefix: netip.PrefixFrom(p.HostIP, 32)},
				Iface{Key: "iifname", Op: "!=", Name: "lo"}, L4Port{Proto: p.Container.Proto, Field: "dport", Port: p.HostPort},
				Counter{}, Verdict{Kind: "drop"}}, Comment: "DROP REMOTE LOOPBACK"})
		}
	}
	rs.Chains = append(rs.Chains, Chain{Name: chainDNAT, Rules: dnat})
	for _, ep := range s.Endpoints {
		if n, ok := nets[ep.Bridge]; !ok || n.Internal || !ep.Addr.Is4() {
			continue
		}
		raw = append(raw, Rule{Stmts: []Stmt{IPAddr{Field: "daddr", Op: "==", Prefix: netip.PrefixFrom(ep.Addr, 32)},
			Iface{Key: "iifname", Op: "!=", Name: ep.Bridge}, Counter{}, Verdict{Kind: "drop"}}, Comment: "DROP DIRECT ACCESS"})
	}
	rs.Chains = append(rs.Chains, Chain{Name: chainRawPre, Type: "filter", Hook: "prerouting", Priority: "raw", Rules: raw})
	for _, n := range s.Networks {
		rs.Chains = append(rs.Chains, networkChains(s, n)...)
	}
	return rs
}

// networkChains are one network's four chains, jumped to through the maps.
func networkChains(s State, n firewall.Network) []Chain {
	br := n.Bridge
	established := Rule{Stmts: []Stmt{CtState{}, Counter{}, Verdict{Kind: "accept"}}}
	in := Chain{Name: prefixForwardIn + br}
	out := Chain{Name: prefixForwardOut + br}
	postIn := Chain{Name: prefixPostIn + br}
	postOut := Chain{Name: prefixPostOut + br}
	icc := Rule{Stmts: []Stmt{Iface{Key: "iifname", Op: "==", Name: br}, Counter{}, Verdict{Kind: "accept"}}, Comment: "ICC"}
	if n.NoICC {
		icc = Rule{Stmts: []Stmt{Iface{Key: "iifname", Op: "==", Name: br}, Counter{}, Verdict{Kind: "drop"}}, Comment: "ICC"}
	}
	if n.Internal {
		// labrun's reading of the internal network's iptables rules:
		// traffic stays on the bridge.
		in.Rules = []Rule{icc, {Stmts: []Stmt{Counter{}, Verdict{Kind: "drop"}}, Comment: "INTERNAL NETWORK INGRESS"}}
		out.Rules = []Rule{{Stmts: []Stmt{Counter{}, Verdict{Kind: "drop"}}, Comment: "INTERNAL NETWORK EGRESS"}}
		return []Chain{in, out, postIn, postOut}
	}
	in.Rules = []Rule{established, icc}
	for _, p := range s.Ports {
		if p.Bridge != br || !p.Addr.Is4() || (p.HostIP.IsValid() && !p.HostIP.Is4()) {
			continue
		}
		r := Rule{Stmts: []Stmt{IPAddr{Field: "daddr", Op: "==", Prefix: netip.PrefixFrom(p.Addr, 32)},
			L4Port{Proto: p.Container.Proto, Field: "dport", Port: p.Container.Num}, Counter{}, Verdict{Kind: "accept"}}}
		if !containsRule(in.Rules, r) {
			in.Rules = append(in.Rules, r)
		}
	}
	in.Rules = append(in.Rules, Rule{Stmts: []Stmt{Counter{}, Verdict{Kind: "drop"}}, Comment: "UNPUBLISHED PORT DROP"})
	out.Rules = []Rule{established, {Stmts: []Stmt{Counter{}, Verdict{Kind: "accept"}}, Comment: "OUTGOING"}}
	if !n.NoIPMasq {
		postOut.Rules = []Rule{{Stmts: []Stmt{Iface{Key: "oifname", Op: "!=", Name: br},
			IPAddr{Field: "saddr", Op: "==", Prefix: n.Subnet.Masked()}, Counter{}, Masquerade{}}, Comment: "MASQUERADE"}}
	}
	if s.Config.NoUserlandProxy {
		// labrun's reading of hairpin mode: locally originated traffic
		// to the bridge, and a container reaching its own published port,
		// are masqueraded.
		postIn.Rules = append(postIn.Rules, Rule{Stmts: []Stmt{Fib{Addr: "saddr", Type: "local"}, Counter{}, Masquerade{}},
			Comment: "MASQ TO BRIDGE"})
		for _, p := range s.Ports {
			if p.Bridge != br || !p.Addr.Is4() || p.HostPort == 0 {
				continue
			}
			r := Rule{Stmts: []Stmt{IPAddr{Field: "saddr", Op: "==", Prefix: netip.PrefixFrom(p.Addr, 32)},
				IPAddr{Field: "daddr", Op: "==", Prefix: netip.PrefixFrom(p.Addr, 32)},
				L4Port{Proto: p.Container.Proto, Field: "dport", Port: p.Container.Num}, Counter{}, Masquerade{}}, Comment: "HAIRPIN MASQUERADE"}
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

// String renders the table as `nft list ruleset` prints it (tabs, one
// element per line, counters at zero).
func (rs Ruleset) String() string {
	var b strings.Builder
	b.WriteString("table ip " + TableName + " {\n")
	for _, m := range rs.Maps {
		b.WriteString("\tmap " + m.Name + " {\n\t\ttype ifname : verdict\n")
		if len(m.Elements) > 0 {
			var els []string
			for _, e := range m.Elements {
				els = append(els, strconv.Quote(e.Ifname)+" : jump "+e.Chain)
			}
			b.WriteString("\t\telements = { " + strings.Join(els, ",\n\t\t\t     ") + " }\n")
		}
		b.WriteString("\t}\n\n")
	}
	for i, c := range rs.Chains {
		b.WriteString("\tchain " + c.Name + " {\n")
		if c.Hook != "" {
			b.WriteString("\t\ttype " + c.Type + " hook " + c.Hook + " priority " + c.Priority + "; policy accept;\n")
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
