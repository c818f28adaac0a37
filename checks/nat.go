package checks

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strings"

	"github.com/google/gopacket/layers"
)

// pinfo is what MatchNAT needs of one packet.
type pinfo struct {
	proto string
	tuple Tuple
	fp    fingerprint
	syn   bool // a TCP SYN without ACK: the start of a connection
	// An ICMPv4 error (unreachable, time exceeded) belongs to the flow of
	// the datagram it quotes: quotedProto and quoted describe that one.
	quotedProto string
	quoted      Tuple
}

// isErr reports whether the packet is an ICMP error about another flow.
func (pi pinfo) isErr() bool { return pi.quotedProto != "" }

// fingerprint identifies a packet by fields that NAT does not change:
// for TCP the sequence and acknowledgement numbers, flags, window and
// payload; for UDP the IP identification, length and payload; for ICMP
// echo the type, sequence number and data (not the identifier, which
// masquerading may change); for ICMP errors the type, code and the quoted
// datagram's identification and length.
type fingerprint struct {
	proto   uint8
	a, b, c uint32
	n       int
	h       uint64
}

func hashBytes(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// inspect decodes p for MatchNAT; ok is false for packets that are not
// TCP, UDP or ICMP over IP, and for ICMPv6's link-local messages (ARP and
// neighbour discovery never cross a router).
func inspect(fr *frame, p Packet) (pi pinfo, ok bool) {
	fr.decode(p.Data)
	src, dst, ok := fr.addrs()
	if !ok || fr.has&(hasIP4|hasIP6) == 0 {
		return pi, false
	}
	var ipid uint32
	if fr.has&hasIP4 != 0 {
		ipid = uint32(fr.ip4.Id)
	}
	ap := netip.AddrPortFrom
	switch {
	case fr.has&hasTCP != 0:
		t := &fr.tcp
		var flags uint32
		for i, on := range []bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR} {
			if on {
				flags |= 1 << i
			}
		}
		pi.proto = "tcp"
		pi.tuple = Tuple{ap(src, uint16(t.SrcPort)), ap(dst, uint16(t.DstPort))}
		pi.fp = fingerprint{proto: 6, a: t.Seq, b: t.Ack, c: flags<<16 | uint32(t.Window), n: len(t.Payload), h: hashBytes(t.Payload)}
		pi.syn = t.SYN && !t.ACK
	case fr.has&hasUDP != 0:
		u := &fr.udp
		pi.proto = "udp"
		pi.tuple = Tuple{ap(src, uint16(u.SrcPort)), ap(dst, uint16(u.DstPort))}
		pi.fp = fingerprint{proto: 17, a: ipid, b: uint32(u.Length), n: len(u.Payload), h: hashBytes(u.Payload)}
	case fr.has&hasICMP4 != 0:
		m := &fr.icmp4
		pi.proto = "icmp"
		typ := m.TypeCode.Type()
		switch typ {
		case layers.ICMPv4TypeEchoRequest:
			pi.tuple = Tuple{ap(src, m.Id), ap(dst, 0)}
			pi.fp = fingerprint{proto: 1, a: uint32(typ), b: uint32(m.Seq), n: len(m.Payload), h: hashBytes(m.Payload)}
		case layers.ICMPv4TypeEchoReply:
			pi.tuple = Tuple{ap(src, 0), ap(dst, m.Id)}
			pi.fp = fingerprint{proto: 1, a: uint32(typ), b: uint32(m.Seq), n: len(m.Payload), h: hashBytes(m.Payload)}
		default:
			pi.tuple = Tuple{ap(src, 0), ap(dst, 0)}
			pi.fp = fingerprint{proto: 1, a: uint32(m.TypeCode), n: len(m.Payload)}
			if q := m.Payload; len(q) >= 20 {
				pi.fp.b = uint32(binary.BigEndian.Uint16(q[4:6]))
				pi.fp.c = uint32(binary.BigEndian.Uint16(q[2:4]))
			}
			if typ == layers.ICMPv4TypeDestinationUnreachable || typ == layers.ICMPv4TypeTimeExceeded {
				pi.quotedProto, pi.quoted = quotedTuple(m.Payload)
			}
		}
	case fr.has&hasICMP6 != 0:
		m := &fr.icmp6
		pi.proto = "icmp6"
		typ := m.TypeCode.Type()
		pl := m.Payload
		if typ >= 130 {
			// Neighbour discovery, router discovery and multicast
			// listener messages (RFC 4861, RFC 3810) stay on their
			// link, as ARP does.
			return pi, false
		}
		if (typ == layers.ICMPv6TypeEchoRequest || typ == layers.ICMPv6TypeEchoReply) && len(pl) >= 4 {
			id := binary.BigEndian.Uint16(pl[0:2])
			pi.tuple = Tuple{ap(src, id), ap(dst, 0)}
			if typ == layers.ICMPv6TypeEchoReply {
				pi.tuple = Tuple{ap(src, 0), ap(dst, id)}
			}
			pi.fp = fingerprint{proto: 58, a: uint32(typ), b: uint32(binary.BigEndian.Uint16(pl[2:4])), n: len(pl), h: hashBytes(pl[4:])}
		} else {
			pi.tuple = Tuple{ap(src, 0), ap(dst, 0)}
			pi.fp = fingerprint{proto: 58, a: uint32(m.TypeCode), n: len(pl), h: hashBytes(pl)}
		}
	default:
		return pi, false
	}
	return pi, true
}

// quotedTuple reads the tuple of the IPv4 datagram an ICMP error quotes
// (its header and first 8 bytes), in the form inspect gives it.
func quotedTuple(q []byte) (string, Tuple) {
	if len(q) < 20 || q[0]>>4 != 4 {
		return "", Tuple{}
	}
	hl := int(q[0]&0x0f) * 4
	if len(q) < hl+8 {
		return "", Tuple{}
	}
	src, dst := netip.AddrFrom4([4]byte(q[12:16])), netip.AddrFrom4([4]byte(q[16:20]))
	l4 := q[hl:]
	p1, p2 := binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4])
	switch q[9] {
	case 6:
		return "tcp", Tuple{netip.AddrPortFrom(src, p1), netip.AddrPortFrom(dst, p2)}
	case 17:
		return "udp", Tuple{netip.AddrPortFrom(src, p1), netip.AddrPortFrom(dst, p2)}
	case 1:
		if l4[0] == 8 { // an echo request
			id := binary.BigEndian.Uint16(l4[4:6])
			return "icmp", Tuple{netip.AddrPortFrom(src, id), netip.AddrPortFrom(dst, 0)}
		}
	}
	return "", Tuple{}
}

// convKey names a conversation (both directions) within one capture.
type convKey struct {
	side  int
	proto string
	a, b  netip.AddrPort // ordered so that both directions give one key
}

func conv(side int, pi pinfo) convKey {
	if pi.isErr() {
		// An ICMP error joins the conversation it reports on.
		pi = pinfo{proto: pi.quotedProto, tuple: pi.quoted}
	}
	a, b := pi.tuple.Src, pi.tuple.Dst
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return convKey{side: side, proto: pi.proto, a: a, b: b}
}

// MatchNAT pairs the flows seen in first (a capture where a connection's
// packets pass first, e.g. a router's inbound interface) with those in
// second (where they pass next, e.g. its outbound interface) and reports
// what happened to each: unchanged, DNAT, SNAT, both, lost or extra.
//
// Packets are paired one by one by fields that address translation leaves
// alone (see fingerprint): a TCP SYN is recognised on both sides by its
// initial sequence number, a UDP datagram by its IP identification and
// payload, an echo request by its sequence number and data. Paired packets
// tie their conversations on the two sides into one flow. The flow's
// direction is that of its TCP SYN, or of its earliest packet in first;
// every packet of the other direction is a reply, which must carry the
// reverse of the rewritten tuple in second and the reverse of the original
// tuple in first — a reply that does not is reported as a broken reverse
// mapping in Problems. Packets that pair with nothing are reported in
// Problems of their flow, or as a lost or extra flow of their own — except
// those that come before the first or after the last packet both captures
// saw, which are only counted in Clipped: the captures do not start and stop
// at the same instant, and a connection still closing when they stop must
// not count against it. (Capture order decides this, not timestamps, which
// two captures take at slightly different points of a packet's path.) Stop
// the captures after the traffic of interest has ended.
//
// Only TCP, UDP and ICMP over IP take part; narrow the captures with
// FilterPackets to leave out unrelated traffic. Rewrites come in the order
// of their first packet in first, then the extra flows in the order of
// second.
func MatchNAT(first, second []Packet) []Rewrite {
	fr := newFrame()
	var sides [2][]natEntry
	for s, pkts := range [2][]Packet{first, second} {
		for _, p := range pkts {
			if pi, ok := inspect(fr, p); ok {
				sides[s] = append(sides[s], natEntry{pi: pi, pkt: p, peer: -1})
			}
		}
	}

	// Pair packets: each packet of first takes the earliest unpaired packet
	// of second with the same protocol and fingerprint.
	type fpKey struct {
		proto string
		fp    fingerprint
	}
	queue := map[fpKey][]int{}
	for j, e := range sides[1] {
		k := fpKey{e.pi.proto, e.pi.fp}
		queue[k] = append(queue[k], j)
	}
	for i := range sides[0] {
		k := fpKey{sides[0][i].pi.proto, sides[0][i].pi.fp}
		if q := queue[k]; len(q) > 0 {
			sides[0][i].peer, sides[1][q[0]].peer = q[0], i
			queue[k] = q[1:]
		}
	}

	// The stretch of each capture that the other one also saw: from its
	// first paired packet to its last. An unpaired packet outside it passed
	// while the other capture was not (yet, or any more) running.
	var window [2][2]int
	for s := range sides {
		window[s] = [2]int{len(sides[s]), -1}
		for i, e := range sides[s] {
			if e.peer >= 0 {
				window[s][0], window[s][1] = min(window[s][0], i), max(window[s][1], i)
			}
		}
	}
	outside := func(s, i int) bool { return i < window[s][0] || i > window[s][1] }

	// Flows are the connected components of conversations tied by pairs.
	uf := unionFind{}
	for _, e := range sides[0] {
		uf.find(conv(0, e.pi))
		if e.peer >= 0 {
			uf.union(conv(0, e.pi), conv(1, sides[1][e.peer].pi))
		}
	}
	for _, e := range sides[1] {
		uf.find(conv(1, e.pi))
	}
	type flow struct {
		first, second []int // entry indices, in capture order
	}
	flows := map[convKey]*flow{}
	var order []convKey
	for s := range sides {
		for i, e := range sides[s] {
			root := uf.find(conv(s, e.pi))
			fl := flows[root]
			if fl == nil {
				fl = &flow{}
				flows[root] = fl
				order = append(order, root)
			}
			if s == 0 {
				fl.first = append(fl.first, i)
			} else {
				fl.second = append(fl.second, i)
			}
		}
	}

	var out []Rewrite
	for _, root := range order {
		fl := flows[root]
		var r Rewrite
		for _, i := range fl.first {
			r.FirstPackets = append(r.FirstPackets, sides[0][i].pkt)
		}
		for _, j := range fl.second {
			r.SecondPackets = append(r.SecondPackets, sides[1][j].pkt)
		}

		// The initiating packet: a paired TCP SYN if there is one, else
		// the earliest paired packet of first.
		init := -1
		for _, i := range fl.first {
			e := sides[0][i]
			if e.peer >= 0 && !e.pi.isErr() && (init < 0 || e.pi.syn && !sides[0][init].pi.syn) {
				init = i
			}
		}
		if init < 0 {
			// Nothing paired: the flow is on one side only.
			if len(fl.first) > 0 {
				r.Kind, r.Proto, r.First = RewriteLost, sides[0][fl.first[0]].pi.proto, startTuple(sides[0], fl.first)
			} else {
				r.Kind, r.Proto, r.Second = RewriteExtra, sides[1][fl.second[0]].pi.proto, startTuple(sides[1], fl.second)
			}
			out = append(out, r)
			continue
		}
		f1, f2 := sides[0][init].pi.tuple, sides[1][sides[0][init].peer].pi.tuple
		r.Proto, r.First, r.Second = sides[0][init].pi.proto, f1, f2
		switch srcChanged, dstChanged := f1.Src != f2.Src, f1.Dst != f2.Dst; {
		case srcChanged && dstChanged:
			r.Kind = RewriteBoth
		case srcChanged:
			r.Kind = RewriteSNAT
		case dstChanged:
			r.Kind = RewriteDNAT
		default:
			r.Kind = RewriteNone
		}

		var onlyFirst, onlySecond []Packet
		for _, i := range fl.first {
			e := sides[0][i]
			if e.peer < 0 {
				if outside(0, i) {
					r.Clipped++
				} else {
					onlyFirst = append(onlyFirst, e.pkt)
				}
				continue
			}
			t1, t2 := e.pi.tuple, sides[1][e.peer].pi.tuple
			if e.pi.isErr() {
				q1, q2 := e.pi.quoted, sides[1][e.peer].pi.quoted
				if q1 == f1 && q2 == f2 || q1 == f1.Reverse() && q2 == f2.Reverse() {
					r.Errors++
				} else {
					r.Problems = append(r.Problems, fmt.Sprintf("icmp error quoting %s in second came out quoting %s, not %s",
						r.fmtTuple(q2), r.fmtTuple(q1), r.fmtTuple(f1)))
				}
				continue
			}
			switch {
			case t1 == f1 && t2 == f2:
				r.Forward++
			case t1 == f1:
				r.Problems = append(r.Problems, fmt.Sprintf("forward packet %s came out as %s, not as %s",
					r.fmtTuple(t1), r.fmtTuple(t2), r.fmtTuple(f2)))
			case t2 == f2.Reverse() && t1 == f1.Reverse():
				r.Replies++
			case t2 == f2.Reverse():
				r.Problems = append(r.Problems, fmt.Sprintf("broken reverse mapping: reply %s came out as %s, not as %s",
					r.fmtTuple(t2), r.fmtTuple(t1), r.fmtTuple(f1.Reverse())))
			default:
				r.Problems = append(r.Problems, fmt.Sprintf("packet %s in first and %s in second fits neither direction",
					r.fmtTuple(t1), r.fmtTuple(t2)))
			}
		}
		for _, j := range fl.second {
			e := sides[1][j]
			switch {
			case e.peer >= 0:
			case outside(1, j):
				r.Clipped++
			default:
				onlySecond = append(onlySecond, e.pkt)
			}
		}
		if len(onlyFirst) > 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("%d packet(s) only in first: %s", len(onlyFirst), briefList(onlyFirst)))
		}
		if len(onlySecond) > 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("%d packet(s) only in second: %s", len(onlySecond), briefList(onlySecond)))
		}
		out = append(out, r)
	}
	return out
}

// natEntry is a packet taking part in MatchNAT.
type natEntry struct {
	pi   pinfo
	pkt  Packet
	peer int // index of the paired entry on the other side, or -1
}

// startTuple is the initiating tuple of an unpaired flow: that of its first
// TCP SYN, or of its first packet.
func startTuple(entries []natEntry, idx []int) Tuple {
	for _, i := range idx {
		if entries[i].pi.syn {
			return entries[i].pi.tuple
		}
	}
	return entries[idx[0]].pi.tuple
}

// briefList summarises at most three packets.
func briefList(pkts []Packet) string {
	s := Summaries(pkts)
	if len(s) > 3 {
		return strings.Join(s[:3], " | ") + fmt.Sprintf(" | … %d more", len(s)-3)
	}
	return strings.Join(s, " | ")
}

// unionFind merges conversations into flows.
type unionFind map[convKey]convKey

func (u unionFind) find(k convKey) convKey {
	p, ok := u[k]
	if !ok {
		u[k] = k
		return k
	}
	if p == k {
		return k
	}
	r := u.find(p)
	u[k] = r
	return r
}

func (u unionFind) union(a, b convKey) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		u[rb] = ra
	}
}
