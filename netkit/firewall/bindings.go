package firewall

import (
	"net/netip"
	"strconv"

	"github.com/labrun/labrun/netkit/ports"
)

// AddEndpoint returns the operations of attaching a container with address
// addr to network n, of addr's family: an IPv6 address gets ip6tables
// rules (call it once per address of a dual-stack container, as Docker's
// AddEndpoint programs each family: moby/moby v28.5.2 libnetwork/drivers/
// bridge/internal/iptabler/endpoint.go). Only eras 28+ have per-endpoint
// rules, and not on --internal networks; it returns nil otherwise.
//
// Equivalent to: iptables -t raw -A PREROUTING -d ADDR/32 ! -i BR -j DROP
// (ip6tables … -d ADDR/128 for an IPv6 address)
func (c Config) AddEndpoint(n Network, addr netip.Addr) []Op {
	return c.endpoint(n, addr).ops
}

// RemoveEndpoint returns the exact inverse of AddEndpoint.
//
// Equivalent to: iptables -t raw -D PREROUTING -d ADDR/32 ! -i BR -j DROP
func (c Config) RemoveEndpoint(n Network, addr netip.Addr) []Op {
	return c.endpoint(n, addr).inverse()
}

// familyOf is the family of a container's address.
func familyOf(a netip.Addr) Family {
	if a.Is6() && !a.Is4In6() {
		return IPv6
	}
	return IPv4
}

func (c Config) endpoint(n Network, addr netip.Addr) *builder {
	f := familyOf(addr)
	b := &builder{fam: f}
	if c.off(f) || !c.era().endpointDrop || n.Internal || !addr.IsValid() || addr.Is4In6() {
		return b
	}
	b.own(rule(Append, TableRaw, chainPrerouting, "-d", host(addr), "!", "-i", n.Bridge, "-j", "DROP"))
	return b
}

// AddBindings returns the operations of publishing bindings bs of one
// container, whose address on network n is ctr, with rules of ctr's family
// (ip6tables for an IPv6 container address). Pass all of a container's
// bindings to one call, in the order Docker programs them: a rule that two
// bindings share (two host ports for one container port) is then added
// once, as Docker does. A binding's HostIP is the host address it is
// published on; the zero Addr and 0.0.0.0 mean every address (no -d
// match); HostPort 0 means no NAT (no DNAT rule); HostPortEnd is ignored
// (the engine has picked the host port); for an IPv6 container the zero
// Addr and :: mean every address. Bindings on an --internal network and
// those whose host address is of the other family than the container's
// get no rules (Docker serves an IPv6 host address of an IPv4 container
// with docker-proxy only).
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
// IPv6 rules have the same shapes with /128 host masks and DNAT targets in
// brackets ("--to-destination [fd00:db8:1::2]:80"); from 28 the DNAT rule
// skips link-local sources ("! -s fe80::/10"), and a port on ::1 gets no
// raw rule (moby/moby v28.5.2 libnetwork/drivers/bridge/internal/iptabler/
// port.go setPerPortNAT, filterPortMappedOnLoopback; v27.5.1
// libnetwork/drivers/bridge/port_mapping_linux.go).
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
	b := &builder{fam: familyOf(ctr), seen: map[string]bool{}}
	if c.off(b.fam) || n.Internal || !ctr.IsValid() || ctr.Is4In6() {
		return b
	}
	for _, p := range bs {
		c.binding(b, n, ctr, p)
	}
	return b
}

func (c Config) binding(b *builder, n Network, ctrIP netip.Addr, p ports.Binding) {
	if p.HostIP.IsValid() && familyOf(p.HostIP) != b.fam {
		return
	}
	r, br := c.era(), n.Bridge
	proto := string(p.Container.Proto)
	if proto == "" {
		proto = string(ports.TCP)
	}
	cport := strconv.Itoa(int(p.Container.Num))
	hport := strconv.Itoa(int(p.HostPort))
	match := []string{"-p", proto, "-m", proto}

	if r.loopbackDrop && p.HostPort != 0 && p.HostIP.IsLoopback() && b.fam == IPv4 {
		spec := append([]string{"-d", host(p.HostIP), "!", "-i", "lo"}, match...)
		b.own(rule(Append, TableRaw, chainPrerouting, append(spec, "--dport", hport, "-j", "DROP")...))
	}
	var dnat, masq []string
	if p.HostPort != 0 {
		if b.fam == IPv6 && r.skipLinkLocal6 {
			dnat = append(dnat, "!", "-s", "fe80::/10")
		}
		if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
			dnat = append(dnat, "-d", host(p.HostIP))
		}
		if !c.hairpin() {
			dnat = append(dnat, "!", "-i", br)
		}
		to := netip.AddrPortFrom(ctrIP, p.Container.Num).String() // [v6]:port
		dnat = append(append(dnat, match...), "--dport", hport, "-j", "DNAT", "--to-destination", to)
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

// host formats an address as a /32 (IPv6: a /128), as iptables-save prints
// it.
func host(a netip.Addr) string { return netip.PrefixFrom(a, a.BitLen()).String() }
