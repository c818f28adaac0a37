package resolver

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
)

// Every socket of these tests (servers, upstreams, clients) lives in a
// fresh network namespace with lo up, opened through netns.NS.Do: nothing
// listens in the caller's namespace.

// clientTimeout bounds a test client's wait for an answer; only a failing
// test waits that long.
const clientTimeout = 20 * time.Second

// resolverAddr is Docker's resolver address.
var resolverAddr = netip.MustParseAddr("127.0.0.11")

// labNS is a fresh namespace with lo up (skips without privileges).
func labNS(t testing.TB) *netns.NS {
	t.Helper()
	return testkit.NewNS(t, testkit.NSOptions{LoopbackUp: true})
}

// listen opens a UDP socket and a TCP listener at addr in ns (port 0: two
// random ports).
func listen(t testing.TB, ns *netns.NS, addr netip.AddrPort) (net.PacketConn, net.Listener) {
	t.Helper()
	var pc net.PacketConn
	var l net.Listener
	require.NoError(t, ns.Do(func() error {
		var err error
		if pc, err = net.ListenPacket("udp", addr.String()); err != nil {
			return err
		}
		// Same port as the UDP socket when addr has one: 0 stays 0.
		if l, err = net.Listen("tcp", addr.String()); err != nil {
			pc.Close()
			return err
		}
		return nil
	}))
	return pc, l
}

// nsDialer dials from inside ns, whatever hostNS says, and counts the
// dials of each kind.
type nsDialer struct {
	ns           *netns.NS
	host, contnr atomic.Int32
}

func (d *nsDialer) dial(ctx context.Context, hostNS bool, network, address string) (net.Conn, error) {
	if hostNS {
		d.host.Add(1)
	} else {
		d.contnr.Add(1)
	}
	var c net.Conn
	err := d.ns.Do(func() error {
		var err error
		var nd net.Dialer
		c, err = nd.DialContext(ctx, network, address)
		return err
	})
	return c, err
}

// startResolver serves cfg (its Sandbox defaulted to sb) at 127.0.0.11 in
// ns, dialling upstreams inside ns, and closes it when the test ends.
func startResolver(t testing.TB, ns *netns.NS, cfg Config) (*Server, *nsDialer) {
	t.Helper()
	d := &nsDialer{ns: ns}
	if cfg.Dial == nil {
		cfg.Dial = d.dial
	}
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	udp, tcp := listen(t, ns, netip.AddrPortFrom(resolverAddr, 0))
	s, err := Serve(udp, tcp, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, d
}

// ask sends one query for name/qtype over proto to the server at addr from
// inside ns; edns, when not 0, adds an EDNS0 OPT record with that size.
func ask(t testing.TB, ns *netns.NS, proto string, addr netip.AddrPort, name string, qtype uint16, edns uint16) *dns.Msg {
	t.Helper()
	m, err := exchange(ns, proto, addr, name, qtype, edns)
	require.NoError(t, err, "asking %s %s over %s", name, dns.TypeToString[qtype], proto)
	return m
}

func exchange(ns *netns.NS, proto string, addr netip.AddrPort, name string, qtype uint16, edns uint16) (*dns.Msg, error) {
	q := new(dns.Msg).SetQuestion(name, qtype)
	if edns != 0 {
		q.SetEdns0(edns, false)
	}
	var conn net.Conn
	if err := ns.Do(func() error {
		var err error
		conn, err = net.Dial(proto, addr.String())
		return err
	}); err != nil {
		return nil, err
	}
	defer conn.Close()
	c := dns.Client{Net: proto, Timeout: clientTimeout, UDPSize: dns.MaxMsgSize}
	if edns != 0 {
		c.UDPSize = edns
	}
	m, _, err := c.ExchangeWithConn(q, &dns.Conn{Conn: conn})
	return m, err
}

// fakeSandbox is a container on networks, in join order. Its answers follow
// Docker's: a name is looked up network by network, the first that has it
// answers.
type fakeSandbox struct {
	mu       sync.Mutex
	nets     []fakeNet
	external atomic.Bool
	lookups  atomic.Int32
}

type fakeNet struct {
	name  string
	hosts map[string][]netip.Addr // lower-case name -> addresses
	ptr   map[netip.Addr]string   // address -> first DNS name
}

func (f *fakeSandbox) add(network, name string, addrs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.nets, func(n fakeNet) bool { return n.name == network })
	if i < 0 {
		f.nets = append(f.nets, fakeNet{name: network, hosts: map[string][]netip.Addr{}, ptr: map[netip.Addr]string{}})
		i = len(f.nets) - 1
	}
	n := f.nets[i]
	for _, a := range addrs {
		ip := netip.MustParseAddr(a)
		n.hosts[name] = append(n.hosts[name], ip)
		if _, ok := n.ptr[ip]; !ok {
			n.ptr[ip] = name
		}
	}
	if _, ok := n.hosts[name]; !ok {
		n.hosts[name] = nil
	}
}

func (f *fakeSandbox) Lookup(name, network string) (v4, v6 []netip.Addr, known bool) {
	f.lookups.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if name != strings.ToLower(name) {
		panic("Lookup of a name not in lower case: " + name)
	}
	for _, n := range f.nets {
		if network != "" && n.name != network {
			continue
		}
		addrs, ok := n.hosts[name]
		if !ok {
			continue
		}
		for _, a := range addrs {
			if a.Is4() {
				v4 = append(v4, a)
			} else {
				v6 = append(v6, a)
			}
		}
		return v4, v6, true
	}
	return nil, nil, false
}

func (f *fakeSandbox) Networks() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, n := range f.nets {
		out = append(out, n.name)
	}
	return out
}

func (f *fakeSandbox) Reverse(a netip.Addr) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.nets {
		if name, ok := n.ptr[a]; ok {
			return name + "." + n.name, true
		}
	}
	return "", false
}

func (f *fakeSandbox) ExternalAccess() bool { return f.external.Load() }

// upstream is a fake DNS server at ADDR:53 in a test namespace, on UDP and
// TCP, that answers every query with its handler and records what it got.
type upstream struct {
	addr    netip.AddrPort
	mu      sync.Mutex
	got     []string // "proto name type" of each query, in order
	handler func(q *dns.Msg) *dns.Msg
}

// rcodeUpstream answers every query with rcode (and, for NOERROR, an A
// record 192.0.2.1 for A queries).
func rcodeUpstream(rcode int) func(q *dns.Msg) *dns.Msg {
	return func(q *dns.Msg) *dns.Msg {
		m := new(dns.Msg).SetRcode(q, rcode)
		m.RecursionAvailable = true
		if rcode == dns.RcodeSuccess && q.Question[0].Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA,
				Class: dns.ClassINET, Ttl: 42}, A: net.IPv4(192, 0, 2, 1)})
		}
		if rcode == dns.RcodeNameError {
			m.Ns = append(m.Ns, &dns.SOA{Hdr: dns.RR_Header{Name: "example.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 7},
				Ns: "ns.example.", Mbox: "root.example.", Serial: 2026, Minttl: 7})
		}
		return m
	}
}

// startUpstream serves handler at addr:53 in ns until the test ends.
func startUpstream(t testing.TB, ns *netns.NS, addr string, handler func(q *dns.Msg) *dns.Msg) *upstream {
	t.Helper()
	u := &upstream{addr: netip.AddrPortFrom(netip.MustParseAddr(addr), 53), handler: handler}
	udp, tcp := listen(t, ns, u.addr)
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		u.mu.Lock()
		u.got = append(u.got, w.LocalAddr().Network()+" "+q.Question[0].Name+" "+dns.TypeToString[q.Question[0].Qtype])
		u.mu.Unlock()
		if m := u.handler(q); m != nil {
			w.WriteMsg(m)
		}
	})
	sv := newServing()
	require.NoError(t, sv.start(udp, tcp, h, t.Logf))
	t.Cleanup(func() { sv.Close() })
	return u
}

func (u *upstream) queries() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.got)
}

func (u *upstream) up() Upstream { return Upstream{Addr: u.addr} }

// addrsOf lists the addresses of an answer's A and AAAA records, sorted.
func addrsOf(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch r := rr.(type) {
		case *dns.A:
			out = append(out, r.A.String())
		case *dns.AAAA:
			out = append(out, r.AAAA.String())
		}
	}
	slices.Sort(out)
	return out
}
