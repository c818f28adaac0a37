package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/semaphore"

	"github.com/labrun/labrun/netkit/release"
)

// Docker's constants (moby/moby libnetwork/resolver.go, v28.5.2).
const (
	// respTTL is the TTL of every record the server makes.
	respTTL = 600
	// maxUpstreams is how many upstreams are tried (maxExtDNS).
	maxUpstreams = 3
	// defaultTimeout bounds one upstream's dial and exchange, and the wait
	// for a forwarding slot (extIOTimeout).
	defaultTimeout = 4 * time.Second
	// maxConcurrent is how many queries may be forwarded at once
	// (maxConcurrent); the next waits for a slot, then gets REFUSED.
	maxConcurrent = 1024
	// dnsPort is an upstream's port when its address has none.
	dnsPort = 53
)

// ErrNoSandbox is returned by Serve when Config.Sandbox is nil.
var ErrNoSandbox = errors.New("resolver needs a sandbox")

// Sandbox is what the server asks about the container it serves: the names
// and addresses of its networks. It must be safe for concurrent use, and
// answers live: a connect or disconnect shows in the next query.
type Sandbox interface {
	// Lookup returns the addresses of name (lower case, no trailing dot)
	// on network, or, when network is "", on the container's networks
	// (Docker answers from the first network, in the container's join
	// order, that has the name, container-local aliases first: moby/moby
	// libnetwork/sandbox.go ResolveName, v28.5.2). known reports whether
	// the name is there at all, even with no address of either family.
	Lookup(name, network string) (v4, v6 []netip.Addr, known bool)
	// Networks lists the names of the container's networks (for
	// "name.network").
	Networks() []string
	// Reverse returns "name.network" of an address of a container on one
	// of the container's networks: its first DNS name (moby/moby
	// libnetwork/network.go ResolveIP, v28.5.2).
	Reverse(a netip.Addr) (string, bool)
	// ExternalAccess reports whether an endpoint of the container has a
	// gateway (a network that is not --internal): host upstreams are used
	// only then.
	ExternalAccess() bool
}

// Upstream is a server queries are forwarded to, as resolv.conf's
// "# ExtServers:" line lists it.
type Upstream struct {
	// Addr is the server's address; port 0 means 53.
	Addr netip.AddrPort
	// HostNS says the server is dialled from the host's namespace (Docker
	// 28+: the host's own nameservers, shown "host(ADDR)"), not from the
	// container's (--dns servers).
	HostNS bool
}

// String renders the upstream as resolv.conf's ExtServers line does:
// "host(10.0.0.1)" or "10.0.0.1".
func (u Upstream) String() string {
	a := u.Addr.Addr().String()
	if u.Addr.Port() != 0 && u.Addr.Port() != dnsPort {
		a = u.Addr.String()
	}
	if u.HostNS {
		return "host(" + a + ")"
	}
	return a
}

// Config is a Server's settings. The zero value, with a Sandbox, serves
// the container's names and forwards nothing (no upstreams).
type Config struct {
	// Sandbox is the container served (required).
	Sandbox Sandbox
	// Upstreams are the servers unknown names are forwarded to, in order;
	// the first three are used. An upstream with the server's own address
	// in the container's namespace is left out (it would ask itself).
	Upstreams []Upstream
	// Dial dials an upstream: from the host's namespace when hostNS is
	// true, from the container's otherwise. nil dials from the caller's
	// namespace (net.Dialer), for both.
	Dial func(ctx context.Context, hostNS bool, network, address string) (net.Conn, error)
	// UserNdots is set when the container's resolv.conf has an ndots
	// option the user chose (host file or --dns-option): unknown
	// single-label A and AAAA queries get an empty NOERROR, so that the
	// stub resolver tries its search domains.
	UserNdots bool
	// Release selects the era's answers: before 28, an A query for a
	// name with only IPv6 addresses is forwarded, and an AAAA query gets
	// NODATA only for a name with IPv4 addresses.
	Release release.Release
	// Timeout bounds each upstream's dial and exchange; 0 means Docker's
	// 4 s.
	Timeout time.Duration
	// Logf receives a line per problem (an upstream that failed, a reply
	// that could not be written); nil discards them. It must be safe for
	// concurrent use.
	Logf func(format string, args ...any)
}

// Server is one container's embedded DNS server.
type Server struct {
	*serving
	cfg       Config
	listen    netip.Addr // the UDP socket's address (127.0.0.11)
	upstreams atomic.Pointer[[]Upstream]
	sem       *semaphore.Weighted
}

// Serve starts serving DNS on udp and tcp, which the caller opened (in the
// container's namespace, at 127.0.0.11:0) and which Serve owns from then
// on: Close closes them, and so does a failed Serve. It returns once both
// are served.
func Serve(udp net.PacketConn, tcp net.Listener, cfg Config) (*Server, error) {
	if err := checkSockets(udp, tcp); err != nil {
		return nil, err
	}
	if cfg.Sandbox == nil {
		udp.Close()
		tcp.Close()
		return nil, ErrNoSandbox
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Dial == nil {
		cfg.Dial = func(ctx context.Context, _ bool, network, address string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, address)
		}
	}
	s := &Server{cfg: cfg, sem: semaphore.NewWeighted(maxConcurrent)}
	if a, err := netip.ParseAddrPort(udp.LocalAddr().String()); err == nil {
		s.listen = a.Addr().Unmap()
	}
	s.SetUpstreams(cfg.Upstreams)
	s.serving = newServing()
	if err := s.start(udp, tcp, dns.HandlerFunc(s.serveDNS), cfg.Logf); err != nil {
		return nil, err
	}
	return s, nil
}

// SetUpstreams replaces the upstream servers, as Config.Upstreams says;
// queries already being forwarded finish with the old ones.
func (s *Server) SetUpstreams(ups []Upstream) {
	// moby/moby libnetwork/resolver.go filterExtServers, v28.5.2: never
	// forward to the resolver's own address in the container.
	var kept []Upstream
	for _, u := range ups {
		if !u.Addr.Addr().IsValid() {
			continue
		}
		if !u.HostNS && u.Addr.Addr().Unmap() == s.listen {
			s.cfg.Logf("resolver: not using own address %s as an upstream", u.Addr.Addr())
			continue
		}
		if u.Addr.Port() == 0 {
			u.Addr = netip.AddrPortFrom(u.Addr.Addr(), dnsPort)
		}
		kept = append(kept, u)
		if len(kept) == maxUpstreams {
			break
		}
	}
	s.upstreams.Store(&kept)
}

// Upstreams returns the upstreams in use (at most three).
func (s *Server) Upstreams() []Upstream { return slices.Clone(*s.upstreams.Load()) }

// serving is the part common to Server and ZoneServer: a miekg/dns server
// per socket, and the context that Close cancels to end the handlers in
// flight.
type serving struct {
	udp, tcp  *dns.Server
	started   [2]bool // udp, tcp: serving (set before serve returns)
	udpAddr   netip.AddrPort
	tcpAddr   netip.AddrPort
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

func newServing() *serving {
	s := &serving{}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// start starts one miekg/dns server on each socket and waits until both
// serve, or one failed to.
func (s *serving) start(udp net.PacketConn, tcp net.Listener, h dns.Handler, logf func(string, ...any)) error {
	if err := checkSockets(udp, tcp); err != nil {
		return err
	}
	s.udp = &dns.Server{PacketConn: udp, Handler: h}
	s.tcp = &dns.Server{Listener: tcp, Handler: h}
	s.udpAddr, _ = netip.ParseAddrPort(udp.LocalAddr().String())
	s.tcpAddr, _ = netip.ParseAddrPort(tcp.Addr().String())
	type outcome struct {
		i   int
		err error
	}
	outcomes := make(chan outcome, 2)
	for i, srv := range []*dns.Server{s.udp, s.tcp} {
		proto := [2]string{"udp", "tcp"}[i]
		var once sync.Once
		srv.NotifyStartedFunc = func() { once.Do(func() { outcomes <- outcome{i: i} }) }
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			err := srv.ActivateAndServe()
			if err == nil {
				err = errors.New("stopped")
			}
			once.Do(func() { outcomes <- outcome{i: i, err: fmt.Errorf("%s: %w", proto, err)} })
			if s.ctx.Err() == nil {
				logf("resolver: serving dns on %s stopped: %v", proto, err)
			}
		}()
	}
	var errs []error
	for range 2 {
		o := <-outcomes
		if o.err != nil {
			errs = append(errs, o.err)
			continue
		}
		s.started[o.i] = true
	}
	if len(errs) > 0 {
		s.Close()
		return fmt.Errorf("starting dns server: %w", errors.Join(errs...))
	}
	return nil
}

// ErrNoSocket is returned by Serve and ServeZone when a socket is missing.
var ErrNoSocket = errors.New("dns server needs a udp socket and a tcp listener")

// checkSockets closes the one socket given when the other is missing.
func checkSockets(udp net.PacketConn, tcp net.Listener) error {
	if udp != nil && tcp != nil {
		return nil
	}
	if udp != nil {
		udp.Close()
	}
	if tcp != nil {
		tcp.Close()
	}
	return ErrNoSocket
}

// Addrs returns the addresses the server listens on.
func (s *serving) Addrs() (udp, tcp netip.AddrPort) { return s.udpAddr, s.tcpAddr }

// Close stops serving, ends the queries in flight (a query being forwarded
// gets no answer), closes both sockets and returns when the server's
// goroutines are done. It may be called more than once.
func (s *serving) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		var errs []error
		for i, srv := range []*dns.Server{s.udp, s.tcp} {
			if !s.started[i] {
				continue // nothing to shut down
			}
			if err := srv.Shutdown(); err != nil {
				errs = append(errs, err)
			}
		}
		s.udp.PacketConn.Close()
		s.tcp.Listener.Close()
		s.wg.Wait()
		if len(errs) > 0 {
			s.closeErr = fmt.Errorf("stopping dns server: %w", errors.Join(errs...))
		}
	})
	return s.closeErr
}
