package resolver

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/release"
)

// lab is a resolver for a container on networks app (dual-stack) and b.c,
// with one upstream that answers NXDOMAIN to everything.
type lab struct {
	ns  *netns.NS
	sb  *fakeSandbox
	srv *Server
	up  *upstream
	udp netip.AddrPort
	tcp netip.AddrPort
}

func newLab(t *testing.T, cfg Config) *lab {
	t.Helper()
	l := &lab{ns: labNS(t), sb: &fakeSandbox{}}
	l.sb.external.Store(true)
	l.sb.add("app", "web", "172.18.0.2", "fd00:db8:1::2")
	l.sb.add("app", "site", "172.18.0.2", "fd00:db8:1::2")
	l.sb.add("app", "v4only", "172.18.0.3")
	l.sb.add("app", "v6only", "fd00:db8:1::4")
	l.sb.add("app", "my.web", "172.18.0.5")
	l.sb.add("b.c", "a", "172.20.0.2")
	l.sb.add("b.c", "v4only", "172.20.0.3")
	l.up = startUpstream(t, l.ns, "127.0.0.53", rcodeUpstream(dns.RcodeNameError))
	if cfg.Upstreams == nil {
		cfg.Upstreams = []Upstream{l.up.up()}
	}
	cfg.Sandbox = l.sb
	l.srv, _ = startResolver(t, l.ns, cfg)
	l.udp, l.tcp = l.srv.Addrs()
	return l
}

func (l *lab) ask(t *testing.T, proto, name string, qtype uint16) *dns.Msg {
	t.Helper()
	addr := l.udp
	if proto == "tcp" {
		addr = l.tcp
	}
	return ask(t, l.ns, proto, addr, name, qtype, 0)
}

// row is one line of Docker's table of answers: what the client gets, and
// whether the upstream was asked.
type row struct {
	name      string
	qtype     uint16
	rcode     int
	answers   []string // A/AAAA addresses, or PTR targets
	forwarded bool
}

func checkRows(t *testing.T, l *lab, rows []row) {
	t.Helper()
	for _, proto := range []string{"udp", "tcp"} {
		for _, r := range rows {
			t.Run(fmt.Sprintf("%s/%s/%s", proto, r.name, dns.TypeToString[r.qtype]), func(t *testing.T) {
				before := len(l.up.queries())
				m := l.ask(t, proto, r.name, r.qtype)
				assert.Equal(t, dns.RcodeToString[r.rcode], dns.RcodeToString[m.Rcode], "rcode")
				var got []string
				for _, rr := range m.Answer {
					if p, ok := rr.(*dns.PTR); ok {
						got = append(got, p.Ptr)
					}
				}
				got = append(got, addrsOf(m)...)
				assert.ElementsMatch(t, r.answers, got, "answers")
				after := l.up.queries()
				assert.Equal(t, r.forwarded, len(after) > before, "forwarded (upstream got %v)", after[before:])
				if !r.forwarded && r.rcode == dns.RcodeSuccess {
					assert.True(t, m.RecursionAvailable, "RA")
					assert.False(t, m.Authoritative, "AA")
					for _, rr := range m.Answer {
						assert.EqualValues(t, 600, rr.Header().Ttl, "TTL of %v", rr)
					}
				} else if r.rcode == dns.RcodeNameError {
					// Passed through as the upstream made it.
					require.Len(t, m.Ns, 1, "the upstream's SOA")
					assert.EqualValues(t, 7, m.Ns[0].Header().Ttl)
				}
			})
		}
	}
}

// TestAnswers28 is Docker 28's table of answers (and 29's).
func TestAnswers28(t *testing.T) {
	l := newLab(t, Config{Release: release.Release{Era: release.Era28}})
	checkRows(t, l, append(commonRows(),
		// A for a name with IPv6 only: NODATA.
		row{"v6only.", dns.TypeA, dns.RcodeSuccess, nil, false},
		row{"v6only.app.", dns.TypeA, dns.RcodeSuccess, nil, false},
	))
}

// TestAnswers27: before 28 an A query for a name with IPv6 only was
// forwarded; the rest is the same.
func TestAnswers27(t *testing.T) {
	l := newLab(t, Config{Release: release.Release{Era: release.Era27}})
	checkRows(t, l, append(commonRows(),
		row{"v6only.", dns.TypeA, dns.RcodeNameError, nil, true},
	))
}

func commonRows() []row {
	return []row{
		{"web.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.2"}, false},
		{"web.", dns.TypeAAAA, dns.RcodeSuccess, []string{"fd00:db8:1::2"}, false},
		{"site.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.2"}, false},
		// Case-insensitive names; the network part as it is.
		{"WEB.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.2"}, false},
		{"Web.app.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.2"}, false},
		{"web.APP.", dns.TypeA, dns.RcodeNameError, nil, true},
		// name.network, a dotted name, a dotted network.
		{"web.app.", dns.TypeAAAA, dns.RcodeSuccess, []string{"fd00:db8:1::2"}, false},
		{"my.web.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.5"}, false},
		{"my.web.app.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.5"}, false},
		{"a.b.c.", dns.TypeA, dns.RcodeSuccess, []string{"172.20.0.2"}, false},
		{"web.b.c.", dns.TypeA, dns.RcodeNameError, nil, true},
		// The first network that has the name answers.
		{"v4only.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.3"}, false},
		{"v4only.b.c.", dns.TypeA, dns.RcodeSuccess, []string{"172.20.0.3"}, false},
		// The other family: NODATA, not forwarded.
		{"v4only.", dns.TypeAAAA, dns.RcodeSuccess, nil, false},
		{"v4only.app.", dns.TypeAAAA, dns.RcodeSuccess, nil, false},
		// PTR of container addresses: name.network.
		{"2.0.18.172.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"web.app."}, false},
		{"2.0.20.172.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"a.b.c."}, false},
		{reverse6("fd00:db8:1::2"), dns.TypePTR, dns.RcodeSuccess, []string{"web.app."}, false},
		{"9.0.18.172.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil, true},
		{"02.0.18.172.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil, true},
		// MX of a known name: empty NOERROR.
		{"web.", dns.TypeMX, dns.RcodeSuccess, nil, false},
		{"v6only.", dns.TypeMX, dns.RcodeSuccess, nil, false},
		{"nosuch.", dns.TypeMX, dns.RcodeNameError, nil, true},
		// Unknown names and other types: forwarded, the upstream's
		// NXDOMAIN passed through.
		{"nosuch.", dns.TypeA, dns.RcodeNameError, nil, true},
		{"nosuch.example.", dns.TypeAAAA, dns.RcodeNameError, nil, true},
		{"web.", dns.TypeTXT, dns.RcodeNameError, nil, true},
		{"_http._tcp.web.", dns.TypeSRV, dns.RcodeNameError, nil, true},
	}
}

// reverse6 is the ip6.arpa name of an IPv6 address.
func reverse6(s string) string {
	name, err := dns.ReverseAddr(s)
	if err != nil {
		panic(err)
	}
	return name
}

// TestReverseAddr reads PTR names as Docker's records spell them.
func TestReverseAddr(t *testing.T) {
	for name, want := range map[string]string{
		"2.0.18.172.in-addr.arpa.": "172.18.0.2",
		reverse6("fd00:db8:1::2"):  "fd00:db8:1::2",
		reverse6("2001:db8::ab"):   "2001:db8::ab",
	} {
		a, ok := reverseAddr(name)
		if assert.True(t, ok, name) {
			assert.Equal(t, want, a.String(), name)
		}
	}
	for _, name := range []string{
		"in-addr.arpa.", "0.18.172.in-addr.arpa.", "1.2.0.18.172.in-addr.arpa.", "x.0.18.172.in-addr.arpa.",
		"2.0.18.172.IN-ADDR.ARPA.", "2.0.18.172.in-addr.arpa", "1.ip6.arpa.",
		strings.ToUpper(reverse6("fd00:db8:1::a")[:63]) + ".ip6.arpa.",
		strings.Replace(reverse6("fd00:db8:1::2"), "2.", "22.", 1),
	} {
		_, ok := reverseAddr(name)
		assert.False(t, ok, name)
	}
}

// TestShuffled: a name with several addresses gets them all, in changing
// orders.
func TestShuffled(t *testing.T) {
	l := newLab(t, Config{})
	l.sb.add("app", "pool", "172.18.0.10", "172.18.0.11", "172.18.0.12", "172.18.0.13")
	orders := map[string]bool{}
	for range 40 {
		m := l.ask(t, "udp", "pool.", dns.TypeA)
		require.Len(t, m.Answer, 4)
		var order []string
		for _, rr := range m.Answer {
			order = append(order, rr.(*dns.A).A.String())
		}
		orders[strings.Join(order, " ")] = true
	}
	assert.Greater(t, len(orders), 1, "40 answers in one order")
}

// TestNdots: with the user's ndots, an unknown single label A or AAAA gets
// an empty NOERROR and is not forwarded; other names and types are.
func TestNdots(t *testing.T) {
	l := newLab(t, Config{UserNdots: true})
	checkRows(t, l, []row{
		{"nosuch.", dns.TypeA, dns.RcodeSuccess, nil, false},
		{"nosuch.", dns.TypeAAAA, dns.RcodeSuccess, nil, false},
		{"web.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.2"}, false},
		{"nosuch.example.", dns.TypeA, dns.RcodeNameError, nil, true},
		{"nosuch.", dns.TypeMX, dns.RcodeNameError, nil, true},
	})
}

// TestTruncation: a local answer is cut to 512 bytes over UDP, to the
// client's EDNS0 size when it gives one, and whole over TCP.
func TestTruncation(t *testing.T) {
	l := newLab(t, Config{})
	var many []string
	for i := range 100 {
		many = append(many, fmt.Sprintf("172.18.1.%d", i+1))
	}
	l.sb.add("app", "many", many...)

	m := ask(t, l.ns, "udp", l.udp, "many.", dns.TypeA, 0)
	assert.True(t, m.Truncated, "TC over UDP without EDNS0")
	assert.NotEmpty(t, m.Answer)
	assert.Less(t, len(m.Answer), 100)
	m.Compress = true // as it was sent
	assert.LessOrEqual(t, m.Len(), dns.MinMsgSize)

	m = ask(t, l.ns, "udp", l.udp, "many.", dns.TypeA, 4096)
	assert.False(t, m.Truncated, "TC with EDNS0 4096")
	assert.Len(t, m.Answer, 100)

	m = ask(t, l.ns, "udp", l.udp, "many.", dns.TypeA, 1024)
	assert.True(t, m.Truncated, "TC with EDNS0 1024")
	assert.Greater(t, len(m.Answer), 30)
	assert.Less(t, len(m.Answer), 100)

	m = ask(t, l.ns, "tcp", l.tcp, "many.", dns.TypeA, 0)
	assert.False(t, m.Truncated, "TC over TCP")
	assert.Len(t, m.Answer, 100)
}

// TestNoUpstream: with no upstream (28's "# NO EXTERNAL NAMESERVERS
// DEFINED"), an unknown name gets SERVFAIL; the container's names still
// resolve.
func TestNoUpstream(t *testing.T) {
	l := newLab(t, Config{Upstreams: []Upstream{}})
	checkRows(t, l, []row{
		{"nosuch.", dns.TypeA, dns.RcodeServerFailure, nil, false},
		{"web.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.2"}, false},
	})
}

// TestLiveSandbox: names that appear later (a container joins) answer at
// once, and the question section is echoed.
func TestLiveSandbox(t *testing.T) {
	l := newLab(t, Config{})
	assert.Equal(t, dns.RcodeNameError, l.ask(t, "udp", "late.", dns.TypeA).Rcode)
	l.sb.add("app", "late", "172.18.0.42")
	m := l.ask(t, "udp", "late.", dns.TypeA)
	assert.Equal(t, []string{"172.18.0.42"}, addrsOf(m))
	require.Len(t, m.Question, 1)
	assert.Equal(t, "late.", m.Question[0].Name)
}
