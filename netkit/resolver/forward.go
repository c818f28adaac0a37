package resolver

import (
	"context"
	"errors"
	"time"

	"github.com/miekg/dns"
)

// forward sends q to the upstreams in order over proto ("udp" or "tcp",
// the client's) and returns the first answer that is not SERVFAIL or
// REFUSED, as it came; nil when none answered so (moby/moby
// libnetwork/resolver.go forwardExtDNS, v28.5.2). Host upstreams are
// skipped while the container has no external access. When maxConcurrent
// queries are being forwarded and no slot frees within the timeout, the
// answer is REFUSED.
func (s *Server) forward(ctx context.Context, proto string, q *dns.Msg) *dns.Msg {
	ups := *s.upstreams.Load()
	external, asked := false, false
	for _, u := range ups {
		if u.HostNS {
			if !asked {
				external, asked = s.cfg.Sandbox.ExternalAccess(), true
			}
			if !external {
				continue
			}
		}
		actx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		err := s.sem.Acquire(actx, 1)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				s.cfg.Logf("resolver: more than %d concurrent queries", maxConcurrent)
			}
			return new(dns.Msg).SetRcode(q, dns.RcodeRefused)
		}
		resp := s.exchange(ctx, proto, u, q)
		s.sem.Release(1)
		if resp == nil {
			continue
		}
		switch resp.Rcode {
		case dns.RcodeServerFailure, dns.RcodeRefused:
			// A failure, or a refusal that may be passing: the next
			// upstream may know.
			continue
		}
		resp.Compress = true
		return resp
	}
	return nil
}

// exchange sends q to upstream u and returns its answer, or nil when it
// could not be dialled or did not answer within the timeout (one attempt,
// moby/moby libnetwork/resolver.go exchange, v28.5.2).
func (s *Server) exchange(ctx context.Context, proto string, u Upstream, q *dns.Msg) *dns.Msg {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	conn, err := s.cfg.Dial(ctx, u.HostNS, proto, u.Addr.String())
	if err != nil {
		s.cfg.Logf("resolver: connecting to upstream %s over %s: %v", u, proto, err)
		return nil
	}
	defer conn.Close()
	// Close (the server's context) ends the wait at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c := dns.Client{
		Timeout: s.cfg.Timeout,
		// Take oversized answers from upstreams that ignore the size the
		// query asked for, and pass them on whole.
		UDPSize: dns.MaxMsgSize,
	}
	resp, _, err := c.ExchangeWithConnContext(ctx, q, &dns.Conn{Conn: conn})
	if err != nil {
		if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			s.cfg.Logf("resolver: asking upstream %s over %s for %s: %v", u, proto, q.Question[0].Name, err)
		}
		return nil
	}
	return resp
}
