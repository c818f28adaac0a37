package checks

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Filter is a parsed capture filter: a small subset of tcpdump's
// pcap-filter language, evaluated in Go on decoded packets (not compiled to
// BPF). The nil *Filter, like the empty expression, matches every packet.
//
// The grammar:
//
//	expr      = unary { ("and" | "&&" | "or" | "||") unary }
//	unary     = ("not" | "!") unary | "(" expr ")" | primitive
//	primitive = "tcp" | "udp" | "icmp" | "icmp6" | "arp" | "ip" | "ip6"
//	          | [family] [dir] ("host" ADDR | "net" CIDR)
//	          | ["tcp" | "udp"] [dir] "port" NUMBER
//	          | VALUE
//	family    = "ip" | "ip6" | "arp"
//	dir       = "src" | "dst"
//
// As in tcpdump, "not" binds tightest and "and" and "or" have equal
// precedence and group from the left: "a or b and c" is "(a or b) and c".
// A bare VALUE repeats the qualifiers of the primitive before it ("port 80
// or 443", "host 10.0.0.1 or 10.0.0.2"); with none before it, an address
// means "host" and a CIDR "net".
//
// Meanings follow tcpdump: "host" and "net" match the IP source or
// destination, or an ARP packet's sender or target address; "port" matches
// the TCP or UDP source or destination port; "src" and "dst" narrow to one
// side; "tcp" and "udp" cover IPv4 and IPv6, "icmp" is ICMP over IPv4 only
// and "icmp6" over IPv6. Ports are numbers (no service names), "net" takes a
// CIDR or a bare address (a host route), and "net" with host bits set is an
// error, as in tcpdump.
type Filter struct {
	expr string
	root node
}

// FilterError reports an expression that does not parse, naming the
// offending token: `filter "host 1.2.3": bad address "1.2.3"`.
type FilterError struct {
	Filter string // the whole expression
	Reason string // what is wrong, quoting the bad token
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("filter %q: %s", e.Filter, e.Reason)
}

// ParseFilter parses expr (see Filter for the language).
func ParseFilter(expr string) (*Filter, error) {
	toks, err := tokenize(expr)
	if err != nil {
		return nil, &FilterError{Filter: expr, Reason: err.Error()}
	}
	f := &Filter{expr: expr}
	if len(toks) == 0 {
		return f, nil
	}
	p := &parser{toks: toks}
	root, err := p.expr()
	if err == nil && p.i < len(p.toks) {
		t := p.toks[p.i]
		if t == ")" {
			err = fmt.Errorf("unexpected %q", t)
		} else {
			err = fmt.Errorf("unexpected %q (missing \"and\" or \"or\"?)", t)
		}
	}
	if err != nil {
		return nil, &FilterError{Filter: expr, Reason: err.Error()}
	}
	f.root = root
	return f, nil
}

// Match reports whether p passes the filter.
func (f *Filter) Match(p Packet) bool {
	if f == nil || f.root == nil {
		return true
	}
	fr := newFrame()
	fr.decode(p.Data)
	return f.root.match(fr)
}

// matchFrame is Match on an already decoded frame.
func (f *Filter) matchFrame(fr *frame) bool {
	return f == nil || f.root == nil || f.root.match(fr)
}

// String returns the filter in a canonical form that ParseFilter reads back
// to the same filter: every "and" and "or" parenthesised, every qualifier
// spelled out.
func (f *Filter) String() string {
	if f == nil || f.root == nil {
		return ""
	}
	return f.root.String()
}

// FilterPackets returns the packets of pkts that match expr.
func FilterPackets(pkts []Packet, expr string) ([]Packet, error) {
	f, err := ParseFilter(expr)
	if err != nil {
		return nil, err
	}
	fr := newFrame()
	var out []Packet
	for _, p := range pkts {
		fr.decode(p.Data)
		if f.matchFrame(fr) {
			out = append(out, p)
		}
	}
	return out, nil
}

// tokenize splits expr into words and the operators ( ) ! && ||.
func tokenize(expr string) ([]string, error) {
	var toks []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '!':
			toks = append(toks, string(c))
			i++
		case c == '&' || c == '|':
			if i+1 < len(expr) && expr[i+1] == c {
				toks = append(toks, expr[i:i+2])
				i += 2
				continue
			}
			return nil, fmt.Errorf("unexpected %q", string(c))
		default:
			j := i
			for j < len(expr) && !strings.ContainsRune(" \t\n\r()!&|", rune(expr[j])) {
				j++
			}
			toks = append(toks, expr[i:j])
			i = j
		}
	}
	return toks, nil
}

type dir int

const (
	dirAny dir = iota // source or destination
	dirSrc
	dirDst
)

func (d dir) String() string {
	switch d {
	case dirSrc:
		return "src "
	case dirDst:
		return "dst "
	}
	return ""
}

// qual is the qualifiers of a primitive, which a following bare value
// inherits.
type qual struct {
	family string // "", "ip", "ip6", "arp" (host and net)
	proto  string // "", "tcp", "udp" (port)
	dir    dir
	kind   string // "host", "net" or "port"
}

type parser struct {
	toks []string
	i    int
	last *qual
}

func (p *parser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *parser) next() string {
	t := p.peek()
	p.i++
	return t
}

func isAnd(t string) bool { return t == "and" || t == "&&" }
func isOr(t string) bool  { return t == "or" || t == "||" }
func isNot(t string) bool { return t == "not" || t == "!" }

// isKeyword reports whether t can never be a value.
func isKeyword(t string) bool {
	switch t {
	case "(", ")", "and", "&&", "or", "||", "not", "!",
		"host", "net", "port", "src", "dst", "tcp", "udp", "icmp", "icmp6", "arp", "ip", "ip6":
		return true
	}
	return false
}

func (p *parser) expr() (node, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		op := p.peek()
		if !isAnd(op) && !isOr(op) {
			return left, nil
		}
		p.next()
		right, err := p.operand(op, p.unary)
		if err != nil {
			return nil, err
		}
		if isAnd(op) {
			left = &andNode{left, right}
		} else {
			left = &orNode{left, right}
		}
	}
}

// operand parses with parse the expression that must follow the token
// after.
func (p *parser) operand(after string, parse func() (node, error)) (node, error) {
	if p.peek() == "" {
		return nil, fmt.Errorf("expected an expression after %q", after)
	}
	return parse()
}

func (p *parser) unary() (node, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("unexpected end of filter")
	case isNot(t):
		p.next()
		x, err := p.operand(t, p.unary)
		if err != nil {
			return nil, err
		}
		return &notNode{x}, nil
	case t == "(":
		p.next()
		x, err := p.operand("(", p.expr)
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			if p.peek() == "" {
				return nil, fmt.Errorf("missing \")\"")
			}
			return nil, fmt.Errorf("unexpected %q (missing \"and\" or \"or\"?)", p.peek())
		}
		p.next()
		return x, nil
	}
	return p.primitive()
}

func (p *parser) primitive() (node, error) {
	t := p.next()
	switch t {
	case ")", "and", "&&", "or", "||":
		return nil, fmt.Errorf("unexpected %q", t)
	case "icmp", "icmp6":
		return &protoNode{t}, nil
	}
	if !isKeyword(t) {
		return p.bareValue(t)
	}

	var q qual
	switch t {
	case "ip", "ip6", "arp":
		q.family = t
		switch p.peek() {
		case "src", "dst", "host", "net":
			t = p.next()
		case "port":
			return nil, fmt.Errorf("%q cannot follow %q", "port", q.family)
		default:
			return &protoNode{q.family}, nil
		}
	case "tcp", "udp":
		q.proto = t
		switch p.peek() {
		case "src", "dst", "port":
			t = p.next()
		case "host", "net":
			return nil, fmt.Errorf("%q cannot follow %q", p.peek(), q.proto)
		default:
			return &protoNode{q.proto}, nil
		}
	}
	if t == "src" || t == "dst" {
		q.dir = dirSrc
		if t == "dst" {
			q.dir = dirDst
		}
		switch n := p.peek(); n {
		case "host", "net", "port":
			t = p.next()
		default:
			if n == "" || isKeyword(n) {
				return nil, fmt.Errorf("expected host, net, port or a value after %q", t)
			}
			// A value right after the direction: the kind is implied.
			q.kind = "host"
			if q.proto != "" {
				q.kind = "port"
			}
			p.last = &q
			return q.value(p.next())
		}
	}
	switch t {
	case "host", "net":
		if q.proto != "" {
			return nil, fmt.Errorf("%q cannot follow %q", t, q.proto)
		}
	case "port":
		if q.family != "" {
			return nil, fmt.Errorf("%q cannot follow %q", t, q.family)
		}
	default:
		return nil, fmt.Errorf("unexpected %q", t)
	}
	q.kind = t
	v := p.peek()
	if v == "" || isKeyword(v) {
		what := map[string]string{"host": "an address", "net": "a network", "port": "a port number"}[t]
		if v == "" {
			return nil, fmt.Errorf("expected %s after %q", what, t)
		}
		return nil, fmt.Errorf("expected %s after %q, found %q", what, t, v)
	}
	p.next()
	p.last = &q
	return q.value(v)
}

// bareValue handles a value with no qualifier of its own.
func (p *parser) bareValue(v string) (node, error) {
	if p.last != nil {
		return p.last.value(v)
	}
	if _, err := netip.ParseAddr(v); err == nil {
		p.last = &qual{kind: "host"}
		return p.last.value(v)
	}
	if _, err := netip.ParsePrefix(v); err == nil {
		p.last = &qual{kind: "net"}
		return p.last.value(v)
	}
	return nil, fmt.Errorf("unknown word %q", v)
}

// value builds the primitive q names with value v.
func (q *qual) value(v string) (node, error) {
	switch q.kind {
	case "host":
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("bad address %q", v)
		}
		if err := q.checkFamily(a, v); err != nil {
			return nil, err
		}
		return &addrNode{family: q.family, dir: q.dir, kind: "host", pfx: netip.PrefixFrom(a, a.BitLen())}, nil
	case "net":
		pfx, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("bad network %q", v)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		if pfx.Masked() != pfx {
			return nil, fmt.Errorf("bad network %q: non-network bits set", v)
		}
		if err := q.checkFamily(pfx.Addr(), v); err != nil {
			return nil, err
		}
		return &addrNode{family: q.family, dir: q.dir, kind: "net", pfx: pfx}, nil
	case "port":
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil || v[0] == '+' {
			return nil, fmt.Errorf("bad port %q", v)
		}
		return &portNode{proto: q.proto, dir: q.dir, port: uint16(n)}, nil
	}
	return nil, fmt.Errorf("unexpected %q", v)
}

func (q *qual) checkFamily(a netip.Addr, v string) error {
	switch {
	case (q.family == "ip" || q.family == "arp") && !a.Is4():
		return fmt.Errorf("%q is not an IPv4 address, which %q needs", v, q.family)
	case q.family == "ip6" && !a.Is6():
		return fmt.Errorf("%q is not an IPv6 address, which %q needs", v, q.family)
	}
	return nil
}

// node is a parsed filter expression.
type node interface {
	match(f *frame) bool
	String() string
}

type andNode struct{ l, r node }

func (n *andNode) match(f *frame) bool { return n.l.match(f) && n.r.match(f) }
func (n *andNode) String() string      { return "(" + n.l.String() + " and " + n.r.String() + ")" }

type orNode struct{ l, r node }

func (n *orNode) match(f *frame) bool { return n.l.match(f) || n.r.match(f) }
func (n *orNode) String() string      { return "(" + n.l.String() + " or " + n.r.String() + ")" }

type notNode struct{ x node }

func (n *notNode) match(f *frame) bool { return !n.x.match(f) }
func (n *notNode) String() string      { return "not " + n.x.String() }

// protoNode is a bare protocol: tcp, udp, icmp, icmp6, arp, ip, ip6.
type protoNode struct{ name string }

func (n *protoNode) String() string { return n.name }

func (n *protoNode) match(f *frame) bool {
	switch n.name {
	case "ip", "ip6", "arp":
		return familyOK(n.name, f)
	case "icmp":
		p, _ := f.proto()
		return f.has&hasIP4 != 0 && p == 1
	case "icmp6":
		p, _ := f.proto()
		return f.has&hasIP6 != 0 && p == 58
	case "tcp":
		p, ok := f.proto()
		return ok && p == 6
	case "udp":
		p, ok := f.proto()
		return ok && p == 17
	}
	return false
}

// familyOK reports whether the frame is of the family a host or net
// primitive was restricted to.
func familyOK(family string, f *frame) bool {
	switch family {
	case "ip":
		return f.has&hasIP4 != 0
	case "ip6":
		return f.has&hasIP6 != 0
	case "arp":
		return f.has&hasARP != 0
	}
	return true
}

func dirMatch(d dir, src, dst bool) bool {
	switch d {
	case dirSrc:
		return src
	case dirDst:
		return dst
	}
	return src || dst
}

// addrNode is a host or net primitive: a host is the prefix of its one
// address, which contains exactly the addresses equal to it.
type addrNode struct {
	family string
	dir    dir
	kind   string // "host" or "net"
	pfx    netip.Prefix
}

func (n *addrNode) String() string {
	v := n.pfx.String()
	if n.kind == "host" {
		v = n.pfx.Addr().String()
	}
	return prefixed(n.family) + n.dir.String() + n.kind + " " + v
}

func (n *addrNode) match(f *frame) bool {
	src, dst, ok := f.addrs()
	return ok && familyOK(n.family, f) && dirMatch(n.dir, n.pfx.Contains(src), n.pfx.Contains(dst))
}

type portNode struct {
	proto string
	dir   dir
	port  uint16
}

func (n *portNode) String() string {
	return prefixed(n.proto) + n.dir.String() + "port " + strconv.Itoa(int(n.port))
}

func (n *portNode) match(f *frame) bool {
	switch n.proto {
	case "tcp":
		if f.has&hasTCP == 0 {
			return false
		}
	case "udp":
		if f.has&hasUDP == 0 {
			return false
		}
	}
	sp, dp, ok := f.ports()
	return ok && dirMatch(n.dir, sp == n.port, dp == n.port)
}

func prefixed(s string) string {
	if s == "" {
		return ""
	}
	return s + " "
}
