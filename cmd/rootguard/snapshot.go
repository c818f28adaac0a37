package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// snapshot is the normalised state of a network namespace: for each section
// name, its lines. Everything in this file is pure, so it is unit-tested
// without privileges; collect.go feeds it the real command output.
type snapshot map[string][]string

// sections are the snapshot's sections, in file order.
var sections = []string{"links", "addresses", "routes", "iptables", "ip6tables", "sysctl", "netns"}

const header = "# rootguard snapshot v1: the state of a network namespace, normalised (go doc ./cmd/rootguard)"

// encode writes s as text: the header, then for each section a "== NAME" line
// followed by its lines.
func (s snapshot) encode() string {
	var b strings.Builder
	b.WriteString(header + "\n")
	for _, name := range sections {
		b.WriteString("== " + name + "\n")
		for _, l := range s[name] {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// decode parses what encode wrote.
func decode(text string) (snapshot, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) == 0 || lines[0] != header {
		return nil, fmt.Errorf("not a rootguard snapshot (first line is not %q)", header)
	}
	known := make(map[string]bool, len(sections))
	for _, name := range sections {
		known[name] = true
	}
	s := snapshot{}
	cur := ""
	for i, l := range lines[1:] {
		if name, ok := strings.CutPrefix(l, "== "); ok {
			if !known[name] {
				return nil, fmt.Errorf("line %d: unknown section %q", i+2, name)
			}
			cur = name
			continue
		}
		if cur == "" {
			return nil, fmt.Errorf("line %d: outside any section", i+2)
		}
		s[cur] = append(s[cur], l)
	}
	return s, nil
}

// unavailable is the single line recorded for a source that cannot be read.
func unavailable(reason string) []string {
	return []string{"(unavailable: " + oneLine(reason) + ")"}
}

// oneLine returns the first non-empty line of s, trimmed.
func oneLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// outputLines splits command output into lines, dropping empty ones.
func outputLines(out string) []string {
	var ls []string
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) != "" {
			ls = append(ls, l)
		}
	}
	return ls
}

// cutLinkName turns "veth1a2b@if7" or "eth0:" into the plain name.
func cutLinkName(f string) string {
	f = strings.TrimSuffix(f, ":")
	name, _, _ := strings.Cut(f, "@")
	return name
}

// normLinks takes `ip -o link show` and returns the sorted interface names.
//
//	4: eth0: <BROADCAST,...> mtu 1400 ...   ->  eth0
func normLinks(out string) []string {
	var names []string
	for _, l := range outputLines(out) {
		f := strings.SplitN(l, ": ", 3)
		if len(f) < 2 {
			continue
		}
		names = append(names, cutLinkName(f[1]))
	}
	sort.Strings(names)
	return names
}

// transientAddrFlags change by themselves (duplicate address detection,
// lifetimes running out), so they are dropped from address lines.
var transientAddrFlags = map[string]bool{"deprecated": true, "tentative": true, "optimistic": true}

// normAddrs takes `ip -o addr show` and returns sorted lines "NAME FAMILY
// ADDRESS/LEN ...", without the index, lifetimes and transient flags, and
// without IPv6 temporary (privacy) addresses, which the kernel rotates.
//
//	4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\       valid_lft forever preferred_lft forever
//	->  eth0 inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0
func normAddrs(out string) []string {
	var res []string
	for _, l := range outputLines(out) {
		l, _, _ = strings.Cut(l, `\`)
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		f = f[1:] // the index
		f[0] = cutLinkName(f[0])
		kept := f[:0]
		temporary := false
		for _, w := range f {
			temporary = temporary || w == "temporary"
			if !transientAddrFlags[w] {
				kept = append(kept, w)
			}
		}
		if !temporary {
			res = append(res, strings.Join(kept, " "))
		}
	}
	sort.Strings(res)
	return res
}

// normRoutes takes `ip -o route show` output (any number of them, one per
// family) and returns the sorted routes, without "expires Nsec" and
// "linkdown", which change with time and with the carrier.
func normRoutes(outs ...string) []string {
	var res []string
	for _, out := range outs {
		for _, l := range outputLines(out) {
			f := strings.Fields(strings.ReplaceAll(l, `\`, " "))
			kept := f[:0]
			for i := 0; i < len(f); i++ {
				switch {
				case f[i] == "linkdown":
				case f[i] == "expires" && i+1 < len(f):
					i++
				default:
					kept = append(kept, f[i])
				}
			}
			res = append(res, strings.Join(kept, " "))
		}
	}
	sort.Strings(res)
	return res
}

// counters matches packet and byte counters, "[123:4567]".
var counters = regexp.MustCompile(`^\[\d+:\d+\]$`)

// normIptables takes `iptables-save` (or ip6tables-save) output and returns
// one line per chain and per rule, each prefixed with its table:
//
//	filter :FORWARD DROP
//	filter -A FORWARD -o eth0 -j ACCEPT
//
// Comment lines, COMMIT and counters are dropped. Tables come in name order;
// within a table, first the chain declarations in name order, then the rules
// grouped by chain in name order, each chain's rules in their own order,
// which matters to the kernel and so is kept.
func normIptables(out string) []string {
	type table struct {
		decls []string
		rules map[string][]string
	}
	tables := map[string]*table{}
	var cur *table
	for _, l := range outputLines(out) {
		l = strings.TrimSpace(l)
		f := strings.Fields(l)
		if len(f) > 0 && counters.MatchString(f[0]) { // iptables-save -c
			f = f[1:]
		}
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || f[0] == "COMMIT" {
			continue
		}
		switch {
		case strings.HasPrefix(f[0], "*"):
			name := f[0][1:]
			if tables[name] == nil {
				tables[name] = &table{rules: map[string][]string{}}
			}
			cur = tables[name]
		case cur == nil:
			// A line outside any table: not iptables-save output; keep it
			// visible rather than drop it.
			if tables[""] == nil {
				tables[""] = &table{rules: map[string][]string{}}
			}
			cur = tables[""]
			cur.decls = append(cur.decls, l)
		case strings.HasPrefix(f[0], ":"):
			if n := len(f); n > 0 && counters.MatchString(f[n-1]) {
				f = f[:n-1]
			}
			cur.decls = append(cur.decls, strings.Join(f, " "))
		default:
			chain := ""
			if len(f) > 1 && (f[0] == "-A" || f[0] == "-I") {
				chain = f[1]
			}
			cur.rules[chain] = append(cur.rules[chain], strings.Join(f, " "))
		}
	}

	var res []string
	for _, tname := range sortedKeys(tables) {
		t := tables[tname]
		prefix := ""
		if tname != "" {
			prefix = tname + " "
		}
		decls := append([]string(nil), t.decls...)
		sort.Strings(decls)
		for _, d := range decls {
			res = append(res, prefix+d)
		}
		for _, chain := range sortedKeys(t.rules) {
			for _, r := range t.rules[chain] {
				res = append(res, prefix+r)
			}
		}
	}
	return res
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
