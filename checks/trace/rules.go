package trace

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
)

// This file turns what an event names (a family, a table, a chain and a
// rule handle) into the rule's text, as the lab's firewall back end has
// it: for the tables iptables-nft manages (ip and ip6 filter, nat, raw,
// mangle, security), the rule as `iptables -S` prints it, found by its
// position in its chain; for every other table (Docker 29's
// docker-bridges and docker-dns), the rule in nft's syntax, rendered from
// the kernel's expressions. Base chains also tell the walk their hook.

// chainKey names a chain in a namespace.
type chainKey struct {
	family       uint8
	table, chain string
}

// chainInfo is what the book knows of one chain.
type chainInfo struct {
	// hook is the chain's hook (unix.NF_INET_PRE_ROUTING, ...), or -1 for
	// a regular chain.
	hook int
	// handles are its rules' handles, in order; texts their texts.
	handles []uint64
	texts   []string
}

// book is a namespace's rule book, read once after the trace.
type book struct {
	chains map[chainKey]*chainInfo
}

// iptablesTables are the tables iptables-nft owns.
var iptablesTables = map[string]bool{"filter": true, "nat": true, "raw": true, "mangle": true, "security": true}

// isIPTables reports whether the table is one iptables-nft manages, whose
// rules are shown as iptables -S prints them.
func isIPTables(family uint8, table string) bool {
	return (family == unix.NFPROTO_IPV4 || family == unix.NFPROTO_IPV6) && iptablesTables[table]
}

// readBook lists the chains of ns, except the trace's own, with the hooks
// of the base chains, and the rules and texts of the chains that events
// name (iptables-save runs only for a family whose iptables tables they
// name).
//
// Equivalent to: nft -a list ruleset; iptables-save; ip6tables-save
func readBook(ns *netns.NS, events []Event) (*book, error) {
	named := map[chainKey]bool{}
	for _, ev := range events {
		named[chainKey{ev.Family, ev.Table, ev.Chain}] = true
	}
	c, err := nftConn(ns)
	if err != nil {
		return nil, err
	}
	defer c.CloseLasting()
	chains, err := c.ListChains()
	if err != nil {
		return nil, fmt.Errorf("listing chains: %w", err)
	}
	b := &book{chains: map[chainKey]*chainInfo{}}
	saves := map[uint8]map[string]map[string][]string{} // family, table, chain: -A lines
	for _, ch := range chains {
		if isOwnTable(ch.Table.Name) {
			continue
		}
		fam := uint8(ch.Table.Family)
		info := &chainInfo{hook: -1}
		if ch.Hooknum != nil {
			info.hook = int(*ch.Hooknum)
		}
		k := chainKey{fam, ch.Table.Name, ch.Name}
		b.chains[k] = info
		if !named[k] {
			continue
		}
		rules, err := c.GetRules(ch.Table, ch)
		if err != nil {
			return nil, fmt.Errorf("listing the rules of chain %s: %w", ch.Name, err)
		}
		var lines []string
		if isIPTables(fam, ch.Table.Name) {
			if saves[fam] == nil {
				saves[fam] = iptablesSave(ns, fam)
			}
			lines = saves[fam][ch.Table.Name][ch.Name]
		}
		for i, r := range rules {
			info.handles = append(info.handles, r.Handle)
			text := ""
			if len(lines) == len(rules) {
				text = lines[i]
			} else {
				// iptables-save could not be read, or disagrees
				// with the kernel: nft's syntax is the truth.
				text = renderRule(r)
			}
			info.texts = append(info.texts, text)
		}
	}
	return b, nil
}

// rule returns the text of rule handle in a chain, or "".
func (b *book) rule(k chainKey, handle uint64) string {
	ch := b.chains[k]
	if ch == nil {
		return ""
	}
	for i, h := range ch.handles {
		if h == handle {
			return ch.texts[i]
		}
	}
	return ""
}

// hook returns the hook of a base chain, or -1.
func (b *book) hook(k chainKey) int {
	if ch := b.chains[k]; ch != nil {
		return ch.hook
	}
	return -1
}

// iptablesSave reads the rules iptables-nft shows for family in ns, by
// table and chain: the -A lines of `iptables-save`. It returns nil when
// the program is missing or fails, and the caller falls back on nft's
// syntax.
func iptablesSave(ns *netns.NS, family uint8) map[string]map[string][]string {
	prog := "iptables-save"
	if family == unix.NFPROTO_IPV6 {
		prog = "ip6tables-save"
	}
	path, err := exec.LookPath(prog)
	if err != nil {
		return map[string]map[string][]string{}
	}
	var out bytes.Buffer
	cmd := exec.Command(path)
	cmd.Stdout = &out
	if ns.Start(cmd, netns.StartOptions{}) != nil {
		return map[string]map[string][]string{}
	}
	if cmd.Wait() != nil {
		return map[string]map[string][]string{}
	}
	return parseSave(out.Bytes())
}

// parseSave splits iptables-save's output into its -A lines by table and
// chain, in order.
func parseSave(b []byte) map[string]map[string][]string {
	out := map[string]map[string][]string{}
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
			out[table] = map[string][]string{}
		case strings.HasPrefix(line, "-A "):
			chain, _, _ := strings.Cut(line[3:], " ")
			out[table][chain] = append(out[table][chain], line)
		}
	}
	return out
}

// tableName is how a step names a table: iptables' own by name alone
// (filter, nat; ip6 filter for IPv6), others with their family (ip
// docker-bridges).
func tableName(family uint8, table string) string {
	if isIPTables(family, table) {
		if family == unix.NFPROTO_IPV6 {
			return "ip6 " + table
		}
		return table
	}
	return familyName(family) + " " + table
}

func familyName(family uint8) string {
	switch family {
	case unix.NFPROTO_IPV4:
		return "ip"
	case unix.NFPROTO_IPV6:
		return "ip6"
	case unix.NFPROTO_INET:
		return "inet"
	case unix.NFPROTO_BRIDGE:
		return "bridge"
	case unix.NFPROTO_ARP:
		return "arp"
	case unix.NFPROTO_NETDEV:
		return "netdev"
	}
	return fmt.Sprintf("family %d", family)
}

// policyText is a base chain's policy as its back end writes it:
// `-P FORWARD DROP` for iptables, `policy drop` for nft.
func policyText(family uint8, table, chain string, v Verdict) string {
	if isIPTables(family, table) {
		return "-P " + chain + " " + strings.ToUpper(v.String())
	}
	return "policy " + v.String()
}
