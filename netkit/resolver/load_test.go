package resolver

import (
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrent: many clients at once, over UDP and TCP, local names and
// forwarded ones, while names and upstreams change (run with -race).
func TestConcurrent(t *testing.T) {
	l := newLab(t, Config{})
	other := startUpstream(t, l.ns, "127.0.0.54", rcodeUpstream(dns.RcodeSuccess))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			for j := range 20 {
				proto, addr := "udp", l.udp
				if (i+j)%2 == 1 {
					proto, addr = "tcp", l.tcp
				}
				name, want := "web.", dns.RcodeSuccess
				if j%3 == 0 {
					name, want = fmt.Sprintf("nosuch%d-%d.example.", i, j), -1
				}
				m, err := exchange(l.ns, proto, addr, name, dns.TypeA, 0)
				if err != nil {
					errs <- err
					return
				}
				if want >= 0 && m.Rcode != want {
					errs <- fmt.Errorf("%s over %s: %s", name, proto, dns.RcodeToString[m.Rcode])
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			l.sb.add("app", fmt.Sprintf("new%d", i), fmt.Sprintf("172.18.2.%d", i+1))
			if i%2 == 0 {
				l.srv.SetUpstreams([]Upstream{other.up()})
			} else {
				l.srv.SetUpstreams([]Upstream{l.up.up()})
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestNoGoroutineLeak: queries leave no goroutine behind, and Close ends
// the server's own.
func TestNoGoroutineLeak(t *testing.T) {
	ns := labNS(t)
	up := startUpstream(t, ns, "127.0.0.53", rcodeUpstream(dns.RcodeNameError))
	sb := &fakeSandbox{}
	sb.add("app", "web", "172.18.0.2")
	before := runtime.NumGoroutine()
	udp, tcp := listen(t, ns, netip.AddrPortFrom(resolverAddr, 0))
	s, err := Serve(udp, tcp, Config{Sandbox: sb, Upstreams: []Upstream{up.up()}, Dial: (&nsDialer{ns: ns}).dial})
	require.NoError(t, err)
	serving := runtime.NumGoroutine()
	a, b := s.Addrs()
	for i := range 100 {
		proto, addr := "udp", a
		if i%2 == 1 {
			proto, addr = "tcp", b
		}
		ask(t, ns, proto, addr, "web.", dns.TypeA, 0)
		ask(t, ns, proto, addr, "nosuch.example.", dns.TypeA, 0)
	}
	// A TCP connection's goroutine ends once the client closed it.
	assert.True(t, settles(serving), "goroutines after 200 queries: %d, serving: %d", runtime.NumGoroutine(), serving)
	require.NoError(t, s.Close())
	assert.True(t, settles(before), "goroutines after Close: %d, before Serve: %d", runtime.NumGoroutine(), before)
}

// settles polls until no more than n goroutines run (true), or gives up
// after clientTimeout (false). It polls itself: a helper goroutine would
// count.
func settles(n int) bool {
	for deadline := time.Now().Add(clientTimeout); runtime.NumGoroutine() > n; {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// BenchmarkUnknownName is one lookup of an unknown name, forwarded to the
// lab's name service, which answers NXDOMAIN: the cost of every search
// domain a stub resolver tries.
func BenchmarkUnknownName(b *testing.B) {
	ns := labNS(b)
	startZone(b, ns, "127.0.0.53", labZone)
	s, _ := startResolver(b, ns, Config{Sandbox: &fakeSandbox{},
		Upstreams: []Upstream{{Addr: netip.MustParseAddrPort("127.0.0.53:53")}}})
	udp, _ := s.Addrs()
	for b.Loop() {
		m, err := exchange(ns, "udp", udp, "nosuch.example.com.", dns.TypeA, 0)
		if err != nil || m.Rcode != dns.RcodeNameError {
			b.Fatalf("answer %v, error %v", m, err)
		}
	}
}

// BenchmarkKnownName is one lookup of a container's name.
func BenchmarkKnownName(b *testing.B) {
	ns := labNS(b)
	sb := &fakeSandbox{}
	sb.add("app", "web", "172.18.0.2")
	s, _ := startResolver(b, ns, Config{Sandbox: sb})
	udp, _ := s.Addrs()
	for b.Loop() {
		m, err := exchange(ns, "udp", udp, "web.", dns.TypeA, 0)
		if err != nil || len(m.Answer) != 1 {
			b.Fatalf("answer %v, error %v", m, err)
		}
	}
}
