package fidelity

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	godiff "github.com/rogpeppe/go-internal/diff"
)

// side is what the normaliser knows of one engine after a case: the names
// behind its IDs, its networks' subnets, its containers' addresses and its
// ephemeral port range. Everything engine-specific in the outputs is
// rewritten from it, so that the two engines' outputs compare as text.
type side struct {
	// prefix is the case's name prefix ("fid3f9a-"), removed everywhere.
	prefix string
	// ids maps full container and network IDs to "<ctr:NAME>" and
	// "<net:NAME>" labels (names without the prefix).
	ids map[string]string
	// subnets maps network names to their IPv4 subnets.
	subnets map[string]netip.Prefix
	// ports is the ephemeral port range: numbers in it are numbered in
	// order of appearance ("<eph1>").
	portLo, portHi int
}

// mapping carries the rewriting state across one case's observations, so
// that the same ephemeral port gets the same label everywhere in the case.
type mapping struct {
	s *side
	// to maps this side's subnets onto the reference side's (labrun's):
	// the same network name, the same offset in it.
	to    map[netip.Prefix]netip.Prefix
	eph   map[string]string
	known map[string]bool // container addresses, after rewriting
}

func newMapping(s, ref *side) *mapping {
	m := &mapping{s: s, to: map[netip.Prefix]netip.Prefix{}, eph: map[string]string{}, known: map[string]bool{}}
	for name, p := range s.subnets {
		if q, ok := ref.subnets[name]; ok && q.Bits() == p.Bits() {
			m.to[p] = q
		}
	}
	return m
}

var (
	hex64RE   = regexp.MustCompile(`\b[0-9a-f]{64}\b`)
	hex12RE   = regexp.MustCompile(`\b[0-9a-f]{12}\b`)
	ipv4RE    = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)
	macRE     = regexp.MustCompile(`\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b`)
	portRE    = regexp.MustCompile(`\b\d{4,5}\b`)
	createdRE = regexp.MustCompile(`"Created": "[^"]*"`)
	// logTimeRE is the time of a line of Compose's logger (logrus).
	logTimeRE = regexp.MustCompile(`time="[^"]*"`)
	// ulaRE is the global ID of an engine's ULA pool (fd and 40 bits of
	// a hash of its host ID), which differs between the engines.
	ulaRE = regexp.MustCompile(`\bfd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:`)
)

// normalize rewrites one output of the side: the case prefix, IDs (known
// ones to labels, others to <hex64>/<hex12>), addresses into the
// reference side's subnets, MAC addresses derived from an address (02:42
// and the IPv4 address) accordingly and others to <mac>, ephemeral ports
// to <ephN> and creation times to <time>.
func (m *mapping) normalize(text string) string {
	s := m.s
	if s.prefix != "" {
		text = strings.ReplaceAll(text, s.prefix, "")
	}
	text = hex64RE.ReplaceAllStringFunc(text, func(id string) string {
		if l, ok := s.ids[id]; ok {
			return l
		}
		return "<hex64>"
	})
	short := map[string]string{}
	for id, l := range s.ids {
		short[id[:12]] = l
	}
	text = hex12RE.ReplaceAllStringFunc(text, func(id string) string {
		if l, ok := short[id]; ok {
			return strings.TrimSuffix(l, ">") + "/12>"
		}
		return "<hex12>"
	})
	text = macRE.ReplaceAllStringFunc(text, m.mac)
	text = ipv4RE.ReplaceAllStringFunc(text, func(a string) string {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return a
		}
		return m.addr(ip).String()
	})
	text = portRE.ReplaceAllStringFunc(text, func(p string) string {
		n, _ := strconv.Atoi(p)
		if n < s.portLo || n > s.portHi {
			return p
		}
		l, ok := m.eph[p]
		if !ok {
			l = fmt.Sprintf("<eph%d>", len(m.eph)+1)
			m.eph[p] = l
		}
		return l
	})
	text = ulaRE.ReplaceAllStringFunc(text, func(p string) string {
		if strings.HasPrefix(p, "fd00:db8:") {
			return p // the cases' own prefixes
		}
		return "<ula>:"
	})
	text = logTimeRE.ReplaceAllString(text, `time="<time>"`)
	return createdRE.ReplaceAllString(text, `"Created": "<time>"`)
}

// addr maps an address of one of the side's subnets to the same offset in
// the reference side's subnet of the same network.
func (m *mapping) addr(a netip.Addr) netip.Addr {
	for from, to := range m.to {
		if !from.Contains(a) || from == to {
			continue
		}
		off := a.As4()
		base, tb := from.Masked().Addr().As4(), to.Masked().Addr().As4()
		var out [4]byte
		for i := range out {
			out[i] = tb[i] | (off[i] &^ base[i])
		}
		return netip.AddrFrom4(out)
	}
	return a
}

// mac keeps a Docker ≤27 MAC (02:42 and the container's IPv4 address),
// rewritten like the address, and turns any other into <mac>.
func (m *mapping) mac(s string) string {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return s
	}
	if hw[0] == 0x02 && hw[1] == 0x42 {
		a := netip.AddrFrom4([4]byte{hw[2], hw[3], hw[4], hw[5]})
		for from := range m.to {
			if from.Contains(a) {
				b := m.addr(a).As4()
				return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}.String()
			}
		}
		for _, p := range m.s.subnets {
			if p.Contains(a) {
				return s
			}
		}
	}
	return "<mac>"
}

// filterRules keeps the lines of an iptables-save dump that belong to the
// engine's networks of the case: table and built-in chain headers, DOCKER*
// chain headers, and rules that jump to or live in a DOCKER* chain or name
// one of bridges, unless they name a bridge or a host address outside the
// case (another engine user's). Comments and COMMIT lines go, and chain
// counters are zeroed.
func filterRules(save string, bridges []string, subnets []netip.Prefix, addrs map[netip.Addr]bool) string {
	var out []string
	table := ""
	ours := func(line string) bool {
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "br-") || f == "docker0" {
				found := false
				for _, b := range bridges {
					if f == b {
						found = true
					}
				}
				if !found {
					return false
				}
			}
		}
		for _, a := range ipv4RE.FindAllString(line, -1) {
			ip, err := netip.ParseAddr(a)
			if err != nil || strings.Contains(line, a+"/16") || strings.Contains(line, a+"/24") || strings.Contains(line, a+"/8") {
				continue
			}
			in := false
			for _, p := range subnets {
				if p.Contains(ip) {
					in = true
				}
			}
			if in && !addrs[ip] {
				return false
			}
		}
		return true
	}
	for _, line := range strings.Split(save, "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "#") || line == "COMMIT":
		case strings.HasPrefix(line, "*"):
			table = line[1:]
			if table == "filter" || table == "nat" || table == "raw" {
				out = append(out, line)
			}
		case table != "filter" && table != "nat" && table != "raw":
		case strings.HasPrefix(line, ":"):
			name := strings.Fields(line[1:])[0]
			if builtin[name] || strings.HasPrefix(name, "DOCKER") {
				out = append(out, regexp.MustCompile(`\[\d+:\d+\]$`).ReplaceAllString(line, "[0:0]"))
			}
		case strings.HasPrefix(line, "-A "):
			f := strings.Fields(line)
			chain := f[1]
			docker := strings.HasPrefix(chain, "DOCKER") || strings.Contains(line, "-j DOCKER")
			named := false
			for _, b := range bridges {
				if strings.Contains(line, " "+b+" ") || strings.HasSuffix(line, " "+b) {
					named = true
				}
			}
			for _, p := range subnets {
				if strings.Contains(line, " "+p.String()+" ") {
					named = true
				}
			}
			for a := range addrs {
				if strings.Contains(line, " "+a.String()+"/32 ") || strings.Contains(line, " "+a.String()+":") {
					named = true
				}
			}
			if (docker || named) && ours(line) {
				out = append(out, line)
			}
		}
	}
	// An empty raw table (only its headers) says nothing: iptables-save
	// lists raw once anything loaded it, which differs between hosts.
	return strings.Join(dropEmptyTable(out, "raw"), "\n") + "\n"
}

var builtin = map[string]bool{"INPUT": true, "FORWARD": true, "OUTPUT": true, "PREROUTING": true, "POSTROUTING": true}

func dropEmptyTable(lines []string, table string) []string {
	start := -1
	for i, l := range lines {
		if l == "*"+table {
			start = i
		}
	}
	if start < 0 {
		return lines
	}
	end := len(lines)
	for i := start + 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "*") {
			end = i
			break
		}
	}
	for _, l := range lines[start+1 : end] {
		if strings.HasPrefix(l, "-A") {
			return lines
		}
	}
	return append(append([]string(nil), lines[:start]...), lines[end:]...)
}

// block extracts the value of "key" at the given indentation from
// docker inspect's 4-space-indented output: the key's line up to the line
// that closes it, or "" when absent.
func block(text, key string, indent int) string {
	pad := strings.Repeat(" ", indent)
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, pad+`"`+key+`": `) {
			continue
		}
		if !strings.HasSuffix(l, "{") && !strings.HasSuffix(l, "[") {
			return l + "\n"
		}
		for j := i + 1; j < len(lines); j++ {
			if strings.HasPrefix(lines[j], pad+"}") || strings.HasPrefix(lines[j], pad+"]") {
				return strings.Join(lines[i:j+1], "\n") + "\n"
			}
		}
	}
	return ""
}

// sortedLines sorts the lines of text (for docker ps, whose order follows
// creation times).
func sortedLines(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// diff returns a unified diff (go-internal's diff) from want (Docker's
// output, "docker") to got (labrun's, "labrun"): lines only in Docker's
// output marked "-", only in labrun's "+", with context. It is "" when they
// are equal.
func diff(want, got string) string {
	return string(godiff.Diff("docker", []byte(want), "labrun", []byte(got)))
}

// sortContainers orders the entries of each "Containers" object of a docker
// network inspect output by their (normalised) text: the engine sorts them
// by container ID, which differs between the engines.
func sortContainers(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		out = append(out, l)
		if !strings.HasSuffix(l, `"Containers": {`) {
			continue
		}
		pad := l[:len(l)-len(strings.TrimLeft(l, " "))]
		var entries []string
		var cur []string
		j := i + 1
		for ; j < len(lines) && !strings.HasPrefix(lines[j], pad+"}"); j++ {
			if strings.HasPrefix(lines[j], pad+"    }") {
				cur = append(cur, strings.TrimSuffix(lines[j], ","))
				entries = append(entries, strings.Join(cur, "\n"))
				cur = nil
				continue
			}
			cur = append(cur, lines[j])
		}
		sort.Strings(entries)
		for k, e := range entries {
			if k < len(entries)-1 {
				e += ","
			}
			out = append(out, strings.Split(e, "\n")...)
		}
		i = j - 1
	}
	return strings.Join(out, "\n")
}

// sortElements orders the elements of each map of an nft list ruleset
// output by their (normalised) text: nft lists them by key, an interface
// name, and the two engines' bridges are named after IDs that differ.
// Equivalent to sorting the lines of each
// "elements = { a : x,\n\t\t\t     b : y }" block.
func sortElements(text string) string {
	const first, next = "\t\telements = { ", "\t\t\t     "
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], first) || strings.HasSuffix(lines[i], " }") {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.HasPrefix(lines[j], next) && !strings.HasSuffix(lines[j], " }") {
			j++
		}
		if j == len(lines) || !strings.HasPrefix(lines[j], next) {
			continue // not a block nft prints
		}
		var els []string
		for k := i; k <= j; k++ {
			e := strings.TrimPrefix(strings.TrimPrefix(lines[k], first), next)
			els = append(els, strings.TrimSuffix(strings.TrimSuffix(e, ","), " }"))
		}
		sort.Strings(els)
		for k := range els {
			prefix, suffix := next, ","
			if k == 0 {
				prefix = first
			}
			if k == len(els)-1 {
				suffix = " }"
			}
			lines[i+k] = prefix + els[k] + suffix
		}
		i = j
	}
	return strings.Join(lines, "\n")
}
