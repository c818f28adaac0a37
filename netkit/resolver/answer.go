package resolver

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/labrun/labrun/netkit/release"
)

// serveDNS answers one query as moby/moby libnetwork/resolver.go serveDNS
// (v28.5.2) does: from the sandbox's names when it can, else from the
// upstreams, else SERVFAIL.
func (s *Server) serveDNS(w dns.ResponseWriter, q *dns.Msg) {
	if q == nil || len(q.Question) == 0 {
		return
	}
	question := q.Question[0]
	var resp *dns.Msg
	switch question.Qtype {
	case dns.TypeA, dns.TypeAAAA:
		resp = s.answerIP(q, question)
	case dns.TypeMX:
		resp = s.answerMX(q, question)
	case dns.TypePTR:
		resp = s.answerPTR(q, question)
	}
	// SRV (swarm services only) and every other type are forwarded.
	if resp != nil {
		// The server is the authority here: it truncates to the size the
		// client can take.
		resp.Truncate(maxSize(w, q))
		s.reply(w, q, resp)
		return
	}
	proto := w.LocalAddr().Network()
	if (question.Qtype == dns.TypeA || question.Qtype == dns.TypeAAAA) && s.cfg.UserNdots &&
		!strings.Contains(strings.TrimSuffix(question.Name, "."), ".") {
		// The user set ndots: a single label is left to the stub
		// resolver's search domains, not forwarded.
		resp = reply(q)
	} else {
		resp = s.forward(s.ctx, proto, q)
		if s.ctx.Err() != nil {
			return // closed meanwhile: no answer
		}
	}
	if resp == nil {
		resp = new(dns.Msg).SetRcode(q, dns.RcodeServerFailure)
	}
	s.reply(w, q, resp)
}

// reply writes resp; when that fails, it tries to tell the client with a
// SERVFAIL so that it does not wait for a timeout.
func (s *Server) reply(w dns.ResponseWriter, q, resp *dns.Msg) {
	err := w.WriteMsg(resp)
	if err == nil {
		return
	}
	s.cfg.Logf("resolver: writing the answer to %s: %v", q.Question[0].Name, err)
	if resp.Rcode != dns.RcodeServerFailure {
		if err := w.WriteMsg(new(dns.Msg).SetRcode(q, dns.RcodeServerFailure)); err != nil {
			s.cfg.Logf("resolver: writing SERVFAIL for %s: %v", q.Question[0].Name, err)
		}
	}
}

// maxSize is the largest answer the client takes: 512 bytes over UDP, or
// its EDNS0 size if larger; 64 KiB over TCP.
func maxSize(w dns.ResponseWriter, q *dns.Msg) int {
	if w.LocalAddr().Network() == "tcp" {
		return dns.MaxMsgSize
	}
	size := dns.MinMsgSize
	if opt := q.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
		size = int(opt.UDPSize())
	}
	return size
}

// reply is an empty answer to q: NOERROR, RA set, AA clear
// (createRespMsg).
func reply(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg).SetReply(q)
	m.RecursionAvailable = true
	return m
}

// answerIP answers an A or AAAA query for a known name, or returns nil.
func (s *Server) answerIP(q *dns.Msg, question dns.Question) *dns.Msg {
	addrs, ok := s.resolve(question.Name, question.Qtype)
	if !ok {
		return nil
	}
	m := reply(q)
	addrs = slices.Clone(addrs)
	rand.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	for _, a := range addrs {
		hdr := dns.RR_Header{Name: question.Name, Rrtype: question.Qtype, Class: dns.ClassINET, Ttl: respTTL}
		if question.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.IP(a.AsSlice())})
		} else {
			b := a.As16()
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: net.IP(b[:])})
		}
	}
	return m
}

// answerMX answers an MX query for a name with an address with an empty
// NOERROR, so that mail clients fall back to its A and AAAA records (RFC
// 5321 §5.1, handleMXQuery), or returns nil.
func (s *Server) answerMX(q *dns.Msg, question dns.Question) *dns.Msg {
	v4, _ := s.resolve(question.Name, dns.TypeA)
	v6, _ := s.resolve(question.Name, dns.TypeAAAA)
	if len(v4) == 0 && len(v6) == 0 {
		return nil
	}
	return reply(q)
}

// answerPTR answers a PTR query for a container address with its
// "name.network.", or returns nil (handlePTRQuery).
func (s *Server) answerPTR(q *dns.Msg, question dns.Question) *dns.Msg {
	a, ok := reverseAddr(question.Name)
	if !ok {
		return nil
	}
	host, ok := s.cfg.Sandbox.Reverse(a)
	if !ok || host == "" {
		return nil
	}
	m := reply(q)
	m.Answer = append(m.Answer, &dns.PTR{
		Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: respTTL},
		Ptr: dns.Fqdn(host),
	})
	return m
}

// resolve finds qname's addresses of the query type's family, as moby/moby
// libnetwork/sandbox.go ResolveName (v28.5.2) does: for a.b.c, a.b.c on
// every network, then a.b on network c, then a on network b.c. The name
// part is lower-cased (network.go ResolveName), the network part is
// compared as it is. ok says the query is answered here (with addrs, or
// with none: NODATA) rather than forwarded.
func (s *Server) resolve(qname string, qtype uint16) (addrs []netip.Addr, ok bool) {
	name := strings.TrimSuffix(qname, ".")
	if addrs, ok := s.lookup(strings.ToLower(name), "", qtype); ok {
		return addrs, true
	}
	if !strings.Contains(name, ".") {
		return nil, false
	}
	nets := s.cfg.Sandbox.Networks()
	for rest := name; ; {
		i := strings.LastIndexByte(rest, '.')
		if i < 0 {
			return nil, false
		}
		rest = rest[:i]
		network := name[i+1:]
		if !slices.Contains(nets, network) {
			continue
		}
		if addrs, ok := s.lookup(strings.ToLower(rest), network, qtype); ok {
			return addrs, true
		}
	}
}

// lookup asks the sandbox for name on network and decides, by era, whether
// the answer is the server's to give.
func (s *Server) lookup(name, network string, qtype uint16) ([]netip.Addr, bool) {
	v4, v6, known := s.cfg.Sandbox.Lookup(name, network)
	want := v4
	if qtype == dns.TypeAAAA {
		want = v6
	}
	if s.cfg.Release.Era >= release.Era28 {
		// A known name is answered, with the family's addresses or
		// none.
		return want, known
	}
	// Before 28 (moby/moby libnetwork/network.go ResolveName, v27.5.1):
	// found only with addresses of the family, except that an AAAA query
	// for a name with IPv4 addresses gets NODATA (ipv6Miss).
	if len(want) > 0 {
		return want, true
	}
	return nil, qtype == dns.TypeAAAA && len(v4) > 0
}

// reverseAddr reads the address of a PTR query name, in the form Docker's
// records have (netutils.ReverseIP): "4.3.2.1.in-addr.arpa." with decimal
// octets, or 32 lower-case hex nibbles then ".ip6.arpa.".
func reverseAddr(qname string) (netip.Addr, bool) {
	if r, ok := strings.CutSuffix(qname, ".in-addr.arpa."); ok {
		labels := strings.Split(r, ".")
		if len(labels) != 4 {
			return netip.Addr{}, false
		}
		slices.Reverse(labels)
		a, err := netip.ParseAddr(strings.Join(labels, "."))
		return a, err == nil && a.Is4()
	}
	r, ok := strings.CutSuffix(qname, ".ip6.arpa.")
	if !ok {
		return netip.Addr{}, false
	}
	labels := strings.Split(r, ".")
	if len(labels) != 32 {
		return netip.Addr{}, false
	}
	var b [16]byte
	for i, l := range labels {
		if len(l) != 1 {
			return netip.Addr{}, false
		}
		n := strings.IndexByte("0123456789abcdef", l[0])
		if n < 0 {
			return netip.Addr{}, false
		}
		// labels[0] is the low nibble of the last byte.
		j := 31 - i
		b[j/2] |= byte(n) << (4 * (1 - j%2))
	}
	return netip.AddrFrom16(b), true
}
