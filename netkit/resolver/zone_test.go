package resolver

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/netns"
)

// startZone serves z at addr:53 in ns until the test ends.
func startZone(t testing.TB, ns *netns.NS, addr string, z Zone) *ZoneServer {
	t.Helper()
	udp, tcp := listen(t, ns, netip.AddrPortFrom(netip.MustParseAddr(addr), 53))
	if z.Logf == nil {
		z.Logf = t.Logf
	}
	s, err := ServeZone(udp, tcp, z)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

var labZone = Zone{Records: map[string][]netip.Addr{
	"www.example.com":   {netip.MustParseAddr("203.0.113.80"), netip.MustParseAddr("2001:db8:80::80")},
	"Mail.Example.Com.": {netip.MustParseAddr("203.0.113.25")},
	"alias.example.com": {netip.MustParseAddr("203.0.113.80")},
	"empty.example.com": nil,
}}

// TestZone: the zone's names answer as a provider's resolver over UDP and TCP;
// another type of one of its names is NODATA, every other name NXDOMAIN;
// nothing is refused.
func TestZone(t *testing.T) {
	ns := labNS(t)
	z := startZone(t, ns, "127.0.0.53", labZone)
	udp, tcp := z.Addrs()
	for _, tt := range []struct {
		name    string
		qtype   uint16
		rcode   int
		answers []string
	}{
		{"www.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"203.0.113.80"}},
		{"www.example.com.", dns.TypeAAAA, dns.RcodeSuccess, []string{"2001:db8:80::80"}},
		{"WWW.Example.COM.", dns.TypeA, dns.RcodeSuccess, []string{"203.0.113.80"}},
		{"mail.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"203.0.113.25"}},
		{"mail.example.com.", dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"www.example.com.", dns.TypeMX, dns.RcodeSuccess, nil},
		{"empty.example.com.", dns.TypeA, dns.RcodeSuccess, nil},
		// PTR: the first name of the address, alphabetically.
		{"80.113.0.203.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"alias.example.com."}},
		{"25.113.0.203.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"mail.example.com."}},
		{reverse6("2001:db8:80::80"), dns.TypePTR, dns.RcodeSuccess, []string{"www.example.com."}},
		{"9.113.0.203.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil},
		{"nosuch.example.com.", dns.TypeA, dns.RcodeNameError, nil},
		{"example.com.", dns.TypeA, dns.RcodeNameError, nil},
		{".", dns.TypeNS, dns.RcodeNameError, nil},
	} {
		for proto, addr := range map[string]netip.AddrPort{"udp": udp, "tcp": tcp} {
			t.Run(fmt.Sprintf("%s/%s/%s", proto, tt.name, dns.TypeToString[tt.qtype]), func(t *testing.T) {
				m := ask(t, ns, proto, addr, tt.name, tt.qtype, 0)
				assert.Equal(t, dns.RcodeToString[tt.rcode], dns.RcodeToString[m.Rcode])
				assert.False(t, m.Authoritative, "AA")
				assert.True(t, m.RecursionAvailable, "RA")
				var got []string
				for _, rr := range m.Answer {
					if p, ok := rr.(*dns.PTR); ok {
						got = append(got, p.Ptr)
					}
				}
				got = append(got, addrsOf(m)...)
				assert.ElementsMatch(t, tt.answers, got)
			})
		}
	}
}

// TestResolverToZone: a container's resolver forwarding to the lab's name
// service gets its names, and its NXDOMAIN, as the zone made them.
func TestResolverToZone(t *testing.T) {
	ns := labNS(t)
	startZone(t, ns, "127.0.0.53", labZone)
	s, _ := startResolver(t, ns, Config{Sandbox: &fakeSandbox{},
		Upstreams: []Upstream{{Addr: netip.MustParseAddrPort("127.0.0.53:53")}}})
	udp, _ := s.Addrs()
	m := ask(t, ns, "udp", udp, "www.example.com.", dns.TypeA, 0)
	assert.Equal(t, []string{"203.0.113.80"}, addrsOf(m))
	assert.True(t, m.RecursionAvailable, "the zone's RA passed through")
	m = ask(t, ns, "udp", udp, "nosuch.example.com.", dns.TypeA, 0)
	assert.Equal(t, dns.RcodeNameError, m.Rcode)
}
