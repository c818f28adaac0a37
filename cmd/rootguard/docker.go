package main

import (
	"net/netip"
	"regexp"
	"strings"
)

// What a real Docker Engine owns in the root namespace (see the package doc
// for why -ignore-docker leaves it out).
var (
	// dockerLink: the default bridge, user-defined network bridges
	// (br-<first 12 hex digits of the network ID>), and the host ends of
	// containers' veth pairs (veth<hex>).
	dockerLink = regexp.MustCompile(`^(docker0|br-[0-9a-f]{12}|veth[0-9a-f]+)$`)
	// dockerChain: DOCKER, DOCKER-USER, DOCKER-ISOLATION-STAGE-1, ...
	dockerChain = regexp.MustCompile(`^DOCKER(-[A-Z0-9-]+)?$`)
	// dockerShapes are the engine's rules that name none of its chains,
	// interfaces or subnets (docs/docker.md §1.1):
	// the ipset matches of 28.0.0, the raw DROP that guards a port published
	// on 127.0.0.1 (28+), and the mangle CHECKSUM fill for SCTP ports (<=28).
	dockerShapes = []*regexp.Regexp{
		regexp.MustCompile(` --match-set docker-[a-z0-9-]+ `),
		regexp.MustCompile(`^raw -A PREROUTING -d 127\.0\.0\.1/32 ! -i lo -p [a-z]+ -m [a-z]+ --dport \d+ -j DROP$`),
		regexp.MustCompile(`^mangle -A POSTROUTING -p sctp (-m sctp )?--sport \d+ -j CHECKSUM --checksum-fill$`),
	}
)

// dockerSubnets returns the subnets of the addresses on Docker's interfaces
// in any of the snapshots (both sides of a comparison, so that a network the
// engine created or removed meanwhile counts). Link-local subnets are left
// out: every interface has one, and they say nothing about the engine.
func dockerSubnets(snaps ...snapshot) []netip.Prefix {
	seen := map[netip.Prefix]bool{}
	var res []netip.Prefix
	for _, s := range snaps {
		for _, l := range s["addresses"] {
			f := strings.Fields(l)
			if len(f) < 3 || !dockerLink.MatchString(f[0]) {
				continue
			}
			p, err := netip.ParsePrefix(f[2])
			if err != nil || p.Addr().IsLinkLocalUnicast() {
				continue
			}
			p = p.Masked()
			if !seen[p] {
				seen[p] = true
				res = append(res, p)
			}
		}
	}
	return res
}

// withoutDocker returns s without the lines owned by a Docker Engine whose
// networks are subnets, and how many lines it left out.
func withoutDocker(s snapshot, subnets []netip.Prefix) (snapshot, int) {
	keep := map[string]func(string) bool{
		"links":     func(l string) bool { return !dockerLink.MatchString(l) },
		"addresses": func(l string) bool { return !dockerLink.MatchString(firstField(l)) },
		"routes":    func(l string) bool { return !dockerLink.MatchString(valueOf(strings.Fields(l), "dev")) },
		"iptables":  func(l string) bool { return !dockerRule(l, subnets) },
		"ip6tables": func(l string) bool { return !dockerRule(l, subnets) },
	}
	res := snapshot{}
	dropped := 0
	for name, lines := range s {
		k := keep[name]
		if k == nil {
			res[name] = lines
			continue
		}
		var kept []string
		for _, l := range lines {
			if k(l) {
				kept = append(kept, l)
			} else {
				dropped++
			}
		}
		res[name] = kept
	}
	return res, dropped
}

// dockerRule reports whether an iptables line as normIptables writes it
// ("TABLE :CHAIN POLICY" or "TABLE -A CHAIN ARGS...") belongs to the engine.
func dockerRule(l string, subnets []netip.Prefix) bool {
	f := strings.Fields(l)
	if len(f) < 2 {
		return false
	}
	f = f[1:] // the table
	if strings.HasPrefix(f[0], ":") {
		return dockerChain.MatchString(f[0][1:])
	}
	if len(f) < 2 {
		return false
	}
	if dockerChain.MatchString(f[1]) { // -A DOCKER ...
		return true
	}
	for _, re := range dockerShapes {
		if re.MatchString(l) {
			return true
		}
	}
	for i := 2; i+1 < len(f); i++ {
		arg := f[i+1]
		switch f[i] {
		case "-j", "-g":
			if dockerChain.MatchString(arg) {
				return true
			}
		case "-i", "-o":
			if dockerLink.MatchString(arg) {
				return true
			}
		case "-s", "-d":
			p, err := netip.ParsePrefix(arg)
			if err != nil {
				a, aerr := netip.ParseAddr(arg)
				if aerr != nil {
					continue
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			for _, sub := range subnets {
				if p.Bits() >= sub.Bits() && sub.Contains(p.Addr()) {
					return true
				}
			}
		}
	}
	return false
}

func firstField(l string) string {
	if f := strings.Fields(l); len(f) > 0 {
		return f[0]
	}
	return ""
}

// valueOf returns the word after key in f ("dev eth0" -> "eth0"), or "".
func valueOf(f []string, key string) string {
	for i := 0; i+1 < len(f); i++ {
		if f[i] == key {
			return f[i+1]
		}
	}
	return ""
}
