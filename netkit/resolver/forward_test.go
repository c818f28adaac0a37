package resolver

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestForwardOrder: upstreams are tried in order, one attempt each; SERVFAIL
// and REFUSED move on, NXDOMAIN is final and passed through; a fourth
// upstream is never used. Over UDP and TCP, each upstream is asked over
// the client's protocol.
func TestForwardOrder(t *testing.T) {
	ns := labNS(t)
	ups := []*upstream{
		startUpstream(t, ns, "127.0.0.21", rcodeUpstream(dns.RcodeServerFailure)),
		startUpstream(t, ns, "127.0.0.22", rcodeUpstream(dns.RcodeRefused)),
		startUpstream(t, ns, "127.0.0.23", rcodeUpstream(dns.RcodeNameError)),
		startUpstream(t, ns, "127.0.0.24", rcodeUpstream(dns.RcodeSuccess)),
	}
	var cfg Config
	for _, u := range ups {
		cfg.Upstreams = append(cfg.Upstreams, u.up())
	}
	cfg.Sandbox = &fakeSandbox{}
	s, _ := startResolver(t, ns, cfg)
	assert.Len(t, s.Upstreams(), 3, "upstreams in use")
	udp, tcp := s.Addrs()
	m := ask(t, ns, "udp", udp, "nosuch.example.", dns.TypeA, 0)
	assert.Equal(t, dns.RcodeNameError, m.Rcode)
	require.Len(t, m.Ns, 1, "the upstream's authority section")
	m = ask(t, ns, "tcp", tcp, "nosuch.example.", dns.TypeA, 0)
	assert.Equal(t, dns.RcodeNameError, m.Rcode)
	for _, u := range ups[:3] {
		assert.Equal(t, []string{"udp nosuch.example. A", "tcp nosuch.example. A"}, u.queries(), "queries of %s", u.addr)
	}
	assert.Empty(t, ups[3].queries(), "the fourth upstream")
}

// TestForwardAnswer: a NOERROR answer, even an empty one, is final and
// passed through as the upstream made it.
func TestForwardAnswer(t *testing.T) {
	ns := labNS(t)
	first := startUpstream(t, ns, "127.0.0.21", rcodeUpstream(dns.RcodeSuccess))
	second := startUpstream(t, ns, "127.0.0.22", rcodeUpstream(dns.RcodeNameError))
	s, _ := startResolver(t, ns, Config{Sandbox: &fakeSandbox{}, Upstreams: []Upstream{first.up(), second.up()}})
	udp, _ := s.Addrs()
	m := ask(t, ns, "udp", udp, "example.org.", dns.TypeA, 0)
	assert.Equal(t, dns.RcodeSuccess, m.Rcode)
	assert.Equal(t, []string{"192.0.2.1"}, addrsOf(m))
	assert.EqualValues(t, 42, m.Answer[0].Header().Ttl, "the upstream's TTL")
	m = ask(t, ns, "udp", udp, "example.org.", dns.TypeAAAA, 0)
	assert.Equal(t, dns.RcodeSuccess, m.Rcode)
	assert.Empty(t, m.Answer)
	assert.Empty(t, second.queries(), "asked after a NOERROR")
}

// TestForwardFailures: an upstream that does not answer (timeout) or
// refuses the connection (ICMP port unreachable, TCP RST) is skipped; when
// none answered, the client gets SERVFAIL.
func TestForwardFailures(t *testing.T) {
	ns := labNS(t)
	// A silent upstream: sockets that never answer.
	silent := netip.MustParseAddrPort("127.0.0.30:53")
	udp, tcp := listen(t, ns, silent)
	t.Cleanup(func() { udp.Close(); tcp.Close() })
	closed := netip.MustParseAddrPort("127.0.0.31:53") // nothing listens
	good := startUpstream(t, ns, "127.0.0.32", rcodeUpstream(dns.RcodeSuccess))

	s, _ := startResolver(t, ns, Config{Sandbox: &fakeSandbox{}, Timeout: 50 * time.Millisecond,
		Upstreams: []Upstream{{Addr: silent}, {Addr: closed}, good.up()}})
	a, b := s.Addrs()
	for proto, addr := range map[string]netip.AddrPort{"udp": a, "tcp": b} {
		m := ask(t, ns, proto, addr, "example.org.", dns.TypeA, 0)
		assert.Equal(t, dns.RcodeSuccess, m.Rcode, proto)
		assert.Equal(t, []string{"192.0.2.1"}, addrsOf(m), proto)
	}

	s.SetUpstreams([]Upstream{{Addr: silent}, {Addr: closed}})
	for proto, addr := range map[string]netip.AddrPort{"udp": a, "tcp": b} {
		m := ask(t, ns, proto, addr, "example.org.", dns.TypeA, 0)
		assert.Equal(t, dns.RcodeServerFailure, m.Rcode, proto)
	}
}

// TestHostUpstreams: host upstreams are skipped while the container has no
// external access (an internal network), container upstreams are still
// used; the policy follows the sandbox live. Each is dialled from its
// namespace.
func TestHostUpstreams(t *testing.T) {
	ns := labNS(t)
	host := startUpstream(t, ns, "127.0.0.21", rcodeUpstream(dns.RcodeServerFailure))
	ctr := startUpstream(t, ns, "127.0.0.22", rcodeUpstream(dns.RcodeNameError))
	sb := &fakeSandbox{}
	s, d := startResolver(t, ns, Config{Sandbox: sb,
		Upstreams: []Upstream{{Addr: host.addr, HostNS: true}, ctr.up()}})
	udp, _ := s.Addrs()

	m := ask(t, ns, "udp", udp, "nosuch.example.", dns.TypeA, 0)
	assert.Equal(t, dns.RcodeNameError, m.Rcode)
	assert.Empty(t, host.queries(), "host upstream asked without external access")
	assert.EqualValues(t, 0, d.host.Load())
	assert.EqualValues(t, 1, d.contnr.Load())

	sb.external.Store(true) // docker network connect to a non-internal network
	m = ask(t, ns, "udp", udp, "nosuch.example.", dns.TypeA, 0)
	assert.Equal(t, dns.RcodeNameError, m.Rcode)
	assert.Len(t, host.queries(), 1, "host upstream with external access")
	assert.EqualValues(t, 1, d.host.Load())
	assert.EqualValues(t, 2, d.contnr.Load())

	// Only host upstreams, no external access: SERVFAIL.
	sb.external.Store(false)
	s.SetUpstreams([]Upstream{{Addr: host.addr, HostNS: true}})
	m = ask(t, ns, "udp", udp, "nosuch.example.", dns.TypeA, 0)
	assert.Equal(t, dns.RcodeServerFailure, m.Rcode)
	assert.Len(t, host.queries(), 1)
}

// TestUpstreamList: the resolver's own address in the container is never
// an upstream, port 0 means 53, and at most three are kept.
func TestUpstreamList(t *testing.T) {
	ns := labNS(t)
	s, _ := startResolver(t, ns, Config{Sandbox: &fakeSandbox{}})
	a := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
	s.SetUpstreams([]Upstream{
		{}, {Addr: a("127.0.0.11:53")}, {Addr: a("127.0.0.11:53"), HostNS: true},
		{Addr: a("10.0.0.1:0")}, {Addr: a("10.0.0.2:5353")}, {Addr: a("10.0.0.3:53")},
	})
	assert.Equal(t, []Upstream{
		{Addr: a("127.0.0.11:53"), HostNS: true}, {Addr: a("10.0.0.1:53")}, {Addr: a("10.0.0.2:5353")},
	}, s.Upstreams())
	assert.Equal(t, "host(127.0.0.11)", s.Upstreams()[0].String())
	assert.Equal(t, "10.0.0.1", s.Upstreams()[1].String())
	assert.Equal(t, "10.0.0.2:5353", s.Upstreams()[2].String())
}

// TestCloseEndsForwarding: Close returns while a query is being forwarded
// to an upstream that never answers (the timeout is an hour: a Close that
// waited for it would hang the test).
func TestCloseEndsForwarding(t *testing.T) {
	ns := labNS(t)
	silent := netip.MustParseAddrPort("127.0.0.30:53")
	pc, l := listen(t, ns, silent)
	t.Cleanup(func() { pc.Close(); l.Close() })
	udp, tcp := listen(t, ns, netip.AddrPortFrom(resolverAddr, 0))
	s, err := Serve(udp, tcp, Config{Sandbox: &fakeSandbox{}, Timeout: time.Hour, Logf: t.Logf,
		Dial: (&nsDialer{ns: ns}).dial, Upstreams: []Upstream{{Addr: silent}}})
	require.NoError(t, err)
	addr, _ := s.Addrs()
	var client net.Conn
	require.NoError(t, ns.Do(func() error {
		var err error
		client, err = net.Dial("udp", addr.String())
		return err
	}))
	defer client.Close()
	q, err := new(dns.Msg).SetQuestion("example.org.", dns.TypeA).Pack()
	require.NoError(t, err)
	_, err = client.Write(q)
	require.NoError(t, err)
	// Wait for the forwarded query to reach the silent upstream.
	buf := make([]byte, 512)
	require.NoError(t, pc.SetReadDeadline(time.Now().Add(clientTimeout)))
	_, _, err = pc.ReadFrom(buf)
	require.NoError(t, err, "the query was not forwarded")
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "second Close")
	// An answer would have been written before Close returned; on lo it
	// is then already queued. (A slow machine could only make this pass
	// wrongly, never fail wrongly.)
	require.NoError(t, client.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
	n, err := client.Read(buf)
	assert.Error(t, err, "the client got an answer from a closing server: % x", buf[:n])
	_, err = exchange(ns, "tcp", addr, "example.org.", dns.TypeA, 0)
	assert.Error(t, err, "a closed server answered")
}

// TestServeErrors: Serve needs a sandbox and two sockets, and closes what
// it was given when it fails.
func TestServeErrors(t *testing.T) {
	_, err := Serve(nil, nil, Config{})
	assert.ErrorIs(t, err, ErrNoSocket)
	ns := labNS(t)
	udp, tcp := listen(t, ns, netip.AddrPortFrom(resolverAddr, 0))
	_, err = Serve(udp, tcp, Config{})
	assert.ErrorIs(t, err, ErrNoSandbox)
	assert.ErrorIs(t, tcp.Close(), net.ErrClosed, "the listener of a failed Serve")
	udp, tcp = listen(t, ns, netip.AddrPortFrom(resolverAddr, 0))
	_, err = ServeZone(udp, nil, Zone{})
	assert.ErrorIs(t, err, ErrNoSocket)
	assert.ErrorIs(t, udp.Close(), net.ErrClosed, "the socket of a failed ServeZone")
	tcp.Close()
}
