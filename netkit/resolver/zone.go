package resolver

import (
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// zoneTTL is the TTL of a ZoneServer's records.
const zoneTTL = 300

// Zone is the content of a ZoneServer.
type Zone struct {
	// Records maps names (any case, with or without the trailing dot) to
	// their addresses. Each address also gets a PTR record, to the first
	// of its names in alphabetical order.
	Records map[string][]netip.Addr
	// Logf receives a line per reply that could not be written; nil
	// discards them.
	Logf func(format string, args ...any)
}

// ZoneServer is the lab's own name service, which the containers'
// resolvers forward to: it answers as a provider's recursive resolver
// would, from a fixed set of names, and NXDOMAIN for every other.
type ZoneServer struct {
	*serving
	names map[string][]netip.Addr // lower case, no trailing dot
	ptrs  map[netip.Addr]string
	logf  func(format string, args ...any)
}

// ServeZone starts serving z on udp and tcp, which the caller opened and
// which the ZoneServer owns from then on. Every answer is a recursive
// resolver's (RA set, AA clear): the names' A, AAAA and PTR records; NODATA for
// another type of one of its names; NXDOMAIN for every other name. It
// never refuses a query.
func ServeZone(udp net.PacketConn, tcp net.Listener, z Zone) (*ZoneServer, error) {
	s := &ZoneServer{names: map[string][]netip.Addr{}, ptrs: map[netip.Addr]string{}, logf: z.Logf}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	keys := make([]string, 0, len(z.Records))
	for name := range z.Records {
		keys = append(keys, name)
	}
	slices.Sort(keys)
	for _, name := range keys {
		n := strings.ToLower(strings.TrimSuffix(name, "."))
		for _, a := range z.Records[name] {
			a = a.Unmap()
			s.names[n] = append(s.names[n], a)
			if _, ok := s.ptrs[a]; !ok {
				s.ptrs[a] = n
			}
		}
		if _, ok := s.names[n]; !ok {
			s.names[n] = nil
		}
	}
	s.serving = newServing()
	if err := s.start(udp, tcp, dns.HandlerFunc(s.serveDNS), s.logf); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *ZoneServer) serveDNS(w dns.ResponseWriter, q *dns.Msg) {
	if q == nil || len(q.Question) == 0 {
		return
	}
	question := q.Question[0]
	m := new(dns.Msg).SetReply(q)
	// A provider's recursive resolver: the answers are not its own
	// (AA clear), and it recurses (RA set), as nslookup's
	// "Non-authoritative answer:" shows.
	m.RecursionAvailable = true
	hdr := dns.RR_Header{Name: question.Name, Rrtype: question.Qtype, Class: dns.ClassINET, Ttl: zoneTTL}
	name := strings.ToLower(strings.TrimSuffix(question.Name, "."))
	addrs, known := s.names[name]
	if question.Qtype == dns.TypePTR {
		if a, ok := reverseAddr(strings.ToLower(question.Name)); ok {
			if host, ok := s.ptrs[a]; ok {
				known = true
				m.Answer = append(m.Answer, &dns.PTR{Hdr: hdr, Ptr: dns.Fqdn(host)})
			}
		}
	}
	for _, a := range addrs {
		switch {
		case question.Qtype == dns.TypeA && a.Is4():
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.IP(a.AsSlice())})
		case question.Qtype == dns.TypeAAAA && a.Is6():
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: net.IP(a.AsSlice())})
		}
	}
	if !known {
		m.Rcode = dns.RcodeNameError
	}
	m.Truncate(maxSize(w, q))
	if err := w.WriteMsg(m); err != nil {
		s.logf("resolver: zone: writing the answer to %s: %v", question.Name, err)
	}
}
