package checks

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/google/gopacket/layers"
)

// Summary renders one packet as tcpdump -n -S -t would: tcpdump's line
// without the timestamp, with absolute TCP sequence numbers (a single
// packet has no flow to be relative to). The output is tested against
// tcpdump 4.99 on recorded and synthetic packets. Examples:
//
//	IP 192.168.190.1.40312 > 192.168.190.128.801: Flags [S], seq 12345, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0
//	IP 192.168.190.1.40000 > 172.17.0.2.9999: UDP, length 5
//	IP 192.168.190.1 > 172.17.0.2: ICMP echo request, id 7, seq 1, length 64
//	ARP, Request who-has 192.168.190.128 tell 192.168.190.1, length 28
//
// What is covered: Ethernet frames carrying ARP, IPv4 or IPv6 with TCP
// (flags, seq, ack, win, urg, options, length), UDP, ICMP (echo and the
// unreachable and time-exceeded errors) and ICMPv6 (echo, neighbour
// discovery, unreachable, time exceeded), and VXLAN on UDP port 4789 (its
// header, then the frame it carries on the next line); for TCP payloads, the first line
// of HTTP on ports 80 and 8080 and the SSH version banner on port 22, and
// DNS queries and A, AAAA, PTR, CNAME and NS answers on UDP port 53, as
// tcpdump prints them without -v; unknown EtherTypes with tcpdump's hex dump
// on the following lines (so that string holds several lines). Not
// reproduced: other application protocols (DHCP, … — the line stops at
// "UDP, length 40" where tcpdump goes on), IP fragments and options, VLAN
// tags, and other ICMP types (printed "type-#N").
func Summary(p Packet) string {
	return summarize(newFrame(), p, nil)
}

// Summaries renders pkts in order as tcpdump -n -t -r FILE does: like
// Summary, but with TCP sequence and acknowledgement numbers relative to
// each connection's first acknowledging packet, exactly as tcpdump tracks
// them (tcpdump's -S turns this off; Summary is that form).
func Summaries(pkts []Packet) []string {
	fr := newFrame()
	tr := tcpTracker{}
	out := make([]string, len(pkts))
	for i, p := range pkts {
		out[i] = summarize(fr, p, tr)
	}
	return out
}

// tcpTracker remembers, per connection, the sequence numbers that tcpdump
// subtracts to print relative ones. A nil tracker prints absolute numbers.
type tcpTracker map[tcpConnKey]*tcpISN

// tcpConnKey names a connection in tcpdump's collating order, so that both
// directions share one entry.
type tcpConnKey struct {
	src, dst netip.Addr
	ports    uint32
}

type tcpISN struct{ seq, ack uint32 }

func summarize(fr *frame, p Packet, tr tcpTracker) string {
	fr.decode(p.Data)
	var b strings.Builder
	switch {
	case fr.has&hasARP != 0:
		summarizeARP(&b, fr, p)
	case fr.has&(hasIP4|hasIP6) != 0:
		summarizeIP(&b, fr, tr)
	case fr.has&hasEth != 0:
		// tcpdump names the MACs of frames it cannot decode, and dumps
		// them in hex on the lines below.
		fmt.Fprintf(&b, "%s > %s, ethertype Unknown (0x%04x), length %d: ",
			fr.eth.SrcMAC, fr.eth.DstMAC, uint16(fr.eth.EthernetType), p.wireLen())
		hexDump(&b, p.Data[14:])
	default:
		fmt.Fprintf(&b, "[|ether] length %d", p.wireLen())
	}
	return b.String()
}

func summarizeARP(b *strings.Builder, fr *frame, p Packet) {
	a := &fr.arp
	b.WriteString("ARP, ")
	ip := func(x []byte) string {
		if v, ok := netip.AddrFromSlice(x); ok {
			return v.String()
		}
		return fmt.Sprintf("%x", x)
	}
	switch a.Operation {
	case layers.ARPRequest:
		b.WriteString("Request who-has " + ip(a.DstProtAddress))
		if !allZero(a.DstHwAddress) {
			b.WriteString(" (" + net.HardwareAddr(a.DstHwAddress).String() + ")")
		}
		b.WriteString(" tell " + ip(a.SourceProtAddress))
	case layers.ARPReply:
		b.WriteString("Reply " + ip(a.SourceProtAddress) + " is-at " + net.HardwareAddr(a.SourceHwAddress).String())
	default:
		fmt.Fprintf(b, "Unknown (%d)", a.Operation)
	}
	fmt.Fprintf(b, ", length %d", p.wireLen()-14)
}

// hexDump appends tcpdump's hex and ASCII dump of data: lines of 16 bytes,
// each on a new line starting with a tab and the offset.
func hexDump(b *strings.Builder, data []byte) {
	for off := 0; off < len(data); off += 16 {
		line := data[off:min(off+16, len(data))]
		var hex, ascii strings.Builder
		for i := 0; i < len(line); i += 2 {
			if i+1 < len(line) {
				fmt.Fprintf(&hex, " %02x%02x", line[i], line[i+1])
			} else {
				fmt.Fprintf(&hex, " %02x", line[i])
			}
		}
		for _, c := range line {
			if c > 0x20 && c < 0x7f {
				ascii.WriteByte(c)
			} else {
				ascii.WriteByte('.')
			}
		}
		fmt.Fprintf(b, "\n\t0x%04x: %-40s  %s", off, hex.String(), ascii.String())
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func summarizeIP(b *strings.Builder, fr *frame, tr tcpTracker) {
	src, dst, _ := fr.addrs()
	proto, _ := fr.proto()
	length := fr.ipPayloadLen()
	if fr.has&hasIP4 != 0 {
		b.WriteString("IP ")
	} else {
		b.WriteString("IP6 ")
	}
	switch {
	case fr.has&hasTCP != 0:
		summarizeTCP(b, fr, src, dst, length, tr)
	case fr.has&hasUDP != 0:
		u := &fr.udp
		if u.SrcPort == dnsPort || u.DstPort == dnsPort {
			if text, ok := dnsText(u.Payload); ok {
				fmt.Fprintf(b, "%s.%d > %s.%d: %s", src, u.SrcPort, dst, u.DstPort, text)
				return
			}
		}
		if u.SrcPort == vxlanPort || u.DstPort == vxlanPort {
			fmt.Fprintf(b, "%s.%d > %s.%d: ", src, u.SrcPort, dst, u.DstPort)
			vxlanText(b, u.Payload, tr)
			return
		}
		fmt.Fprintf(b, "%s.%d > %s.%d: UDP, length %d", src, u.SrcPort, dst, u.DstPort, int(u.Length)-8)
	case fr.has&hasICMP4 != 0:
		fmt.Fprintf(b, "%s > %s: ICMP %s, length %d", src, dst, icmpText(&fr.icmp4), length)
	case fr.has&hasICMP6 != 0:
		fmt.Fprintf(b, "%s > %s: ICMP6, %s, length %d", src, dst, icmp6Text(&fr.icmp6), length)
	default:
		fmt.Fprintf(b, "%s > %s:  ip-proto-%d %d", src, dst, proto, length)
	}
}

// vxlanPort is VXLAN's UDP port (RFC 7348), where tcpdump decodes VXLAN.
const vxlanPort = 4789

// vxlanText appends tcpdump's VXLAN line (print-vxlan.c vxlan_print,
// tcpdump 4.99): the header's flags and VNI, then, on the next line, the
// encapsulated frame as tcpdump prints a frame without -e.
func vxlanText(b *strings.Builder, pl []byte, tr tcpTracker) {
	b.WriteString("VXLAN")
	if len(pl) < 8 {
		b.WriteString(" (invalid)")
		return
	}
	flags := pl[0]
	i := "invalid"
	if flags&0x08 != 0 {
		i = "I"
	}
	vni := uint32(pl[4])<<16 | uint32(pl[5])<<8 | uint32(pl[6])
	fmt.Fprintf(b, ", flags [%s] (0x%02x), vni %d\n", i, flags, vni)
	b.WriteString(summarize(newFrame(), Packet{Data: pl[8:]}, tr))
}

// unreachFormats words the destination-unreachable codes that need no more
// than the quoted destination, by code, as tcpdump does.
var unreachFormats = [...]string{
	5:  "%s unreachable - source route failed",
	6:  "net %s unreachable - unknown",
	7:  "host %s unreachable - unknown",
	8:  "%s unreachable - source host isolated",
	9:  "net %s unreachable - admin prohibited",
	10: "host %s unreachable - admin prohibited",
	11: "net %s unreachable - tos prohibited",
	12: "host %s unreachable - tos prohibited",
	13: "host %s unreachable - admin prohibited filter",
	14: "host %s unreachable - host precedence violation",
	15: "host %s unreachable - precedence cutoff",
}

// icmpText is tcpdump's text for an ICMPv4 message, without the length.
func icmpText(m *layers.ICMPv4) string {
	typ, code := m.TypeCode.Type(), m.TypeCode.Code()
	switch typ {
	case layers.ICMPv4TypeEchoRequest:
		return fmt.Sprintf("echo request, id %d, seq %d", m.Id, m.Seq)
	case layers.ICMPv4TypeEchoReply:
		return fmt.Sprintf("echo reply, id %d, seq %d", m.Id, m.Seq)
	case layers.ICMPv4TypeDestinationUnreachable:
		// The body after the unused word quotes the original IP header.
		q := m.Payload
		if len(q) < 20 {
			return "destination unreachable"
		}
		qdst := netip.AddrFrom4([4]byte(q[16:20]))
		qproto := q[9]
		hl := int(q[0]&0x0f) * 4
		switch code {
		case layers.ICMPv4CodeNet:
			return fmt.Sprintf("net %s unreachable", qdst)
		case layers.ICMPv4CodeHost:
			return fmt.Sprintf("host %s unreachable", qdst)
		case layers.ICMPv4CodeProtocol:
			return fmt.Sprintf("%s protocol %d unreachable", qdst, qproto)
		case layers.ICMPv4CodePort:
			if len(q) >= hl+4 && (qproto == 6 || qproto == 17) {
				name := "tcp"
				if qproto == 17 {
					name = "udp"
				}
				return fmt.Sprintf("%s %s port %d unreachable", qdst, name, binary.BigEndian.Uint16(q[hl+2:hl+4]))
			}
			return fmt.Sprintf("%s protocol %d port unreachable", qdst, qproto)
		case layers.ICMPv4CodeFragmentationNeeded:
			return fmt.Sprintf("%s unreachable - need to frag (mtu %d)", qdst, m.Seq)
		}
		if int(code) < len(unreachFormats) && unreachFormats[code] != "" {
			return fmt.Sprintf(unreachFormats[code], qdst)
		}
		return fmt.Sprintf("#%d %s unreachable", code, qdst)
	case layers.ICMPv4TypeTimeExceeded:
		if code == 1 {
			return "ip reassembly time exceeded"
		}
		return "time exceeded in-transit"
	}
	return fmt.Sprintf("type-#%d", typ)
}

// icmp6Text is tcpdump's text for the common ICMPv6 messages.
func icmp6Text(m *layers.ICMPv6) string {
	typ := m.TypeCode.Type()
	switch typ {
	case layers.ICMPv6TypeEchoRequest, layers.ICMPv6TypeEchoReply:
		what := "echo request"
		if typ == layers.ICMPv6TypeEchoReply {
			what = "echo reply"
		}
		if len(m.Payload) >= 4 {
			return fmt.Sprintf("%s, id %d, seq %d", what, binary.BigEndian.Uint16(m.Payload[0:2]), binary.BigEndian.Uint16(m.Payload[2:4]))
		}
		return what
	case layers.ICMPv6TypeRouterSolicitation:
		return "router solicitation"
	case layers.ICMPv6TypeRouterAdvertisement:
		return "router advertisement"
	case layers.ICMPv6TypeNeighborSolicitation:
		if len(m.Payload) >= 20 {
			return "neighbor solicitation, who has " + netip.AddrFrom16([16]byte(m.Payload[4:20])).String()
		}
		return "neighbor solicitation"
	case layers.ICMPv6TypeNeighborAdvertisement:
		if len(m.Payload) >= 20 {
			return "neighbor advertisement, tgt is " + netip.AddrFrom16([16]byte(m.Payload[4:20])).String()
		}
		return "neighbor advertisement"
	case layers.ICMPv6TypeDestinationUnreachable:
		q := m.Payload // 4 unused bytes, then the quoted packet
		if len(q) < 4+40 {
			return "destination unreachable"
		}
		qsrc, qdst := netip.AddrFrom16([16]byte(q[12:28])), netip.AddrFrom16([16]byte(q[28:44]))
		switch m.TypeCode.Code() {
		case 0:
			return "destination unreachable, unreachable route " + qdst.String()
		case 1:
			return "destination unreachable,  unreachable prohibited " + qdst.String() // sic
		case 2:
			return "destination unreachable, beyond scope " + qdst.String() + ", source address " + qsrc.String()
		case 3:
			return "destination unreachable, unreachable address " + qdst.String()
		case 4:
			if len(q) >= 4+40+4 && (q[10] == 6 || q[10] == 17) {
				name := "tcp"
				if q[10] == 17 {
					name = "udp"
				}
				return fmt.Sprintf("destination unreachable, unreachable port, %s %s port %d", qdst, name, binary.BigEndian.Uint16(q[46:48]))
			}
		}
		return fmt.Sprintf("destination unreachable, code %d", m.TypeCode.Code())
	case layers.ICMPv6TypeTimeExceeded:
		if m.TypeCode.Code() == 1 {
			return "time exceeded in-transit (reassembly)"
		}
		if len(m.Payload) >= 4+40 {
			return "time exceeded in-transit for " + netip.AddrFrom16([16]byte(m.Payload[28:44])).String()
		}
		return "time exceeded in-transit"
	}
	return fmt.Sprintf("type-#%d", typ)
}

// tcpFlags is tcpdump's flag string: the set flags in the order F S R P . U
// E W, or "none".
func tcpFlags(t *layers.TCP) string {
	var s []byte
	for _, f := range []struct {
		on bool
		c  byte
	}{{t.FIN, 'F'}, {t.SYN, 'S'}, {t.RST, 'R'}, {t.PSH, 'P'}, {t.ACK, '.'}, {t.URG, 'U'}, {t.ECE, 'E'}, {t.CWR, 'W'}} {
		if f.on {
			s = append(s, f.c)
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return string(s)
}

func summarizeTCP(b *strings.Builder, fr *frame, src, dst netip.Addr, ipLen int, tr tcpTracker) {
	t := &fr.tcp
	sport, dport := uint16(t.SrcPort), uint16(t.DstPort)
	fmt.Fprintf(b, "%s.%d > %s.%d: Flags [%s]", src, sport, dst, dport, tcpFlags(t))
	seq, ack := t.Seq, t.Ack
	var thseq, thack uint32
	rev := false
	if tr != nil && t.ACK {
		// tcpdump's relative numbering: the first packet with ACK set (or
		// any SYN with ACK) records the connection's initial numbers, in an
		// order chosen by comparing the ports, then the addresses.
		if sport > dport || (sport == dport && bytesGreater(src.AsSlice(), dst.AsSlice())) {
			rev = true
		}
		key := tcpConnKey{src: src, dst: dst, ports: uint32(sport)<<16 | uint32(dport)}
		if rev {
			key = tcpConnKey{src: dst, dst: src, ports: uint32(dport)<<16 | uint32(sport)}
		}
		st, ok := tr[key]
		if !ok || t.SYN {
			st = &tcpISN{}
			tr[key] = st
			if rev {
				st.ack, st.seq = seq, ack-1
			} else {
				st.seq, st.ack = seq, ack-1
			}
		} else if rev {
			seq -= st.ack
			ack -= st.seq
		} else {
			seq -= st.seq
			ack -= st.ack
		}
		thseq, thack = st.seq, st.ack
	}
	hlen := int(t.DataOffset) * 4
	length := ipLen - hlen
	if length < 0 {
		fmt.Fprintf(b, " [bad hdr length %d - too long, > %d]", hlen, ipLen)
		return
	}
	if length > 0 || t.SYN || t.FIN || t.RST {
		fmt.Fprintf(b, ", seq %d", seq)
		if length > 0 {
			fmt.Fprintf(b, ":%d", seq+uint32(length))
		}
	}
	if t.ACK {
		fmt.Fprintf(b, ", ack %d", ack)
	}
	fmt.Fprintf(b, ", win %d", t.Window)
	if t.URG {
		fmt.Fprintf(b, ", urg %d", t.Urgent)
	}
	if hlen > 20 && len(t.Contents) >= hlen {
		b.WriteString(", options [")
		tcpOptions(b, t.Contents[20:hlen], rev, thseq, thack)
		b.WriteString("]")
	}
	fmt.Fprintf(b, ", length %d", length)
	if length > 0 && !t.RST {
		appSummary(b, sport, dport, t.Payload)
	}
}

func bytesGreater(a, b []byte) bool {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return len(a) > len(b)
}

// tcpOptions prints TCP options as tcpdump does, comma-separated.
func tcpOptions(b *strings.Builder, opts []byte, rev bool, thseq, thack uint32) {
	for i := 0; len(opts) > 0; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		kind := opts[0]
		if kind == 0 || kind == 1 {
			if kind == 0 {
				b.WriteString("eol")
				return
			}
			b.WriteString("nop")
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || int(opts[1]) < 2 || int(opts[1]) > len(opts) {
			b.WriteString("[bad opt]")
			return
		}
		l := int(opts[1])
		data := opts[2:l]
		switch {
		case kind == 2 && len(data) == 2:
			fmt.Fprintf(b, "mss %d", binary.BigEndian.Uint16(data))
		case kind == 3 && len(data) == 1:
			fmt.Fprintf(b, "wscale %d", data[0])
		case kind == 4 && len(data) == 0:
			b.WriteString("sackOK")
		case kind == 5 && len(data)%8 == 0:
			fmt.Fprintf(b, "sack %d ", len(data)/8)
			for j := 0; j < len(data); j += 8 {
				s := binary.BigEndian.Uint32(data[j:])
				e := binary.BigEndian.Uint32(data[j+4:])
				if rev {
					s, e = s-thseq, e-thseq
				} else {
					s, e = s-thack, e-thack
				}
				fmt.Fprintf(b, "{%d:%d}", s, e)
			}
		case kind == 8 && len(data) == 8:
			fmt.Fprintf(b, "TS val %d ecr %d", binary.BigEndian.Uint32(data), binary.BigEndian.Uint32(data[4:]))
		default:
			fmt.Fprintf(b, "unknown-%d", kind)
			if len(data) > 0 {
				fmt.Fprintf(b, " 0x%x", data)
			}
		}
		opts = opts[l:]
	}
}

// httpMethods are the request words tcpdump recognises as HTTP.
var httpMethods = map[string]bool{
	"GET": true, "PUT": true, "COPY": true, "HEAD": true, "LOCK": true, "MOVE": true,
	"POLL": true, "POST": true, "BCOPY": true, "BMOVE": true, "MKCOL": true, "TRACE": true,
	"LABEL": true, "MERGE": true, "DELETE": true, "SEARCH": true, "UNLOCK": true, "REPORT": true,
	"UPDATE": true, "NOTIFY": true, "BDELETE": true, "CONNECT": true, "OPTIONS": true,
	"CHECKIN": true, "PROPFIND": true, "CHECKOUT": true, "CCM_POST": true, "SUBSCRIBE": true,
	"PROPPATCH": true, "BPROPFIND": true, "BPROPPATCH": true, "UNCHECKOUT": true,
	"MKACTIVITY": true, "MKWORKSPACE": true, "UNSUBSCRIBE": true, "RPC_CONNECT": true,
	"VERSION-CONTROL": true, "BASELINE-CONTROL": true,
}

// appSummary appends tcpdump's non-verbose text for the TCP payloads it
// decodes that labs carry: HTTP and the SSH banner.
func appSummary(b *strings.Builder, sport, dport uint16, pl []byte) {
	port := func(p uint16) bool { return sport == p || dport == p }
	switch {
	case port(22):
		if line, ok := sshBanner(pl); ok {
			b.WriteString(": SSH: " + line)
		}
	case port(80), port(8080):
		b.WriteString(": HTTP")
		if isHTTPStart(pl) {
			if line := firstLine(pl, "http"); line != "" {
				b.WriteString(": " + line)
			}
		}
	}
}

// isHTTPStart reports whether pl begins like a request (a known method)
// or a response (a three-digit status code as the second word).
func isHTTPStart(pl []byte) bool {
	tok, rest, ok := fetchToken(pl)
	if !ok {
		return false
	}
	if httpMethods[strings.ToUpper(tok)] {
		return true
	}
	tok, _, ok = fetchToken(rest)
	return ok && len(tok) == 3 && isDigit(tok[0]) && isDigit(tok[1]) && isDigit(tok[2])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// fetchToken returns the printable word at the start of pl and what follows
// the blanks after it.
func fetchToken(pl []byte) (tok string, rest []byte, ok bool) {
	i := 0
	for ; i < len(pl); i++ {
		c := pl[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			break
		}
		if c < 0x20 || c > 0x7e || i >= 127 {
			return "", nil, false
		}
	}
	if i == 0 {
		return "", nil, false
	}
	tok = string(pl[:i])
	for ; i < len(pl); i++ {
		c := pl[i]
		if c != ' ' && c != '\t' {
			break
		}
	}
	return tok, pl[i:], true
}

// firstLine returns pl's first line if it is printable text ending in LF or
// CRLF; an unterminated printable line gets tcpdump's " [|proto]" mark, and
// binary data gives "".
func firstLine(pl []byte, proto string) string {
	for i := 0; i < len(pl); i++ {
		c := pl[i]
		switch {
		case c == '\n':
			return string(pl[:i])
		case c == '\r':
			if i+1 < len(pl) && pl[i+1] == '\n' {
				return string(pl[:i])
			}
			return ""
		case (c < 0x20 && c != '\t') || c > 0x7e:
			return ""
		}
	}
	return string(pl) + " [|" + proto + "]"
}

// sshBanner returns the SSH identification line at the start of pl.
func sshBanner(pl []byte) (string, bool) {
	if len(pl) < 4 || string(pl[:4]) != "SSH-" {
		return "", false
	}
	for i := 0; i < len(pl); i++ {
		c := pl[i]
		switch {
		case c == '\n':
			return string(pl[:i]), true
		case c == '\r':
			if i+1 < len(pl) && pl[i+1] == '\n' {
				return string(pl[:i]), true
			}
			return "", false
		case c < 0x20 || c > 0x7e:
			return "", false
		}
	}
	return "", false
}
