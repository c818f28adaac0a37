package checks

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/stretchr/testify/require"
)

// syntheticPackets builds frames that exercise Summary's formats beyond
// what the recordings happen to contain: every TCP flag, options, HTTP and
// SSH first lines, the ICMP errors, ARP forms, IPv6 and unknown protocols.
// Their tcpdump renderings are in testdata/pcap/synthetic*.txt.
func syntheticPackets(t testing.TB) []Packet {
	t.Helper()
	macA := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	a4, b4 := netip.MustParseAddr("192.168.190.1"), netip.MustParseAddr("172.17.0.2")
	a6, b6 := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
	base := time.Unix(1700000000, 0)
	var pkts []Packet
	add := func(ls ...gopacket.SerializableLayer) {
		t.Helper()
		buf := gopacket.NewSerializeBuffer()
		for _, l := range ls {
			if n, ok := l.(interface {
				SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
			}); ok {
				for _, nl := range ls {
					if nw, ok := nl.(gopacket.NetworkLayer); ok {
						n.SetNetworkLayerForChecksum(nw)
					}
				}
			}
		}
		require.NoError(t, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...))
		data := append([]byte(nil), buf.Bytes()...)
		pkts = append(pkts, Packet{Time: base.Add(time.Duration(len(pkts)) * time.Millisecond), Data: data, Length: len(data)})
	}
	eth := func(typ layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: typ}
	}
	ip4 := func(src, dst netip.Addr, proto layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: uint16(len(pkts) + 1), Flags: layers.IPv4DontFragment,
			Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	}
	ip6 := func(src, dst netip.Addr, nh layers.IPProtocol) *layers.IPv6 {
		return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: nh, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	}
	synOpts := []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
		{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
		{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: []byte{0, 0, 0x30, 0x39, 0, 0, 0, 0}},
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
	}
	tsOpts := []layers.TCPOption{
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: []byte{0, 0, 0x30, 0x3a, 0, 0, 0x10, 0x01}},
	}
	const cisn, sisn = 1000000, 3000000000
	tcp := func(sp, dp uint16, seq, ack uint32, opts []layers.TCPOption, set func(*layers.TCP)) *layers.TCP {
		l := &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), Seq: seq, Ack: ack, Window: 502, Options: opts}
		set(l)
		return l
	}
	pl := func(s string) gopacket.Payload { return gopacket.Payload(s) }

	// A connection to port 80: handshake, request, response, teardown.
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolTCP), tcp(40312, 80, cisn, 0, synOpts, func(l *layers.TCP) { l.SYN = true; l.Window = 64240 }))
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolTCP), tcp(80, 40312, sisn, cisn+1, synOpts, func(l *layers.TCP) { l.SYN, l.ACK = true, true; l.Window = 65160 }))
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolTCP), tcp(40312, 80, cisn+1, sisn+1, tsOpts, func(l *layers.TCP) { l.ACK = true }))
	req := "GET / HTTP/1.1\r\nHost: 172.17.0.2\r\n\r\n"
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolTCP), tcp(40312, 80, cisn+1, sisn+1, tsOpts, func(l *layers.TCP) { l.PSH, l.ACK = true, true }), pl(req))
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolTCP), tcp(80, 40312, sisn+1, cisn+1+uint32(len(req)), tsOpts, func(l *layers.TCP) { l.PSH, l.ACK = true, true }), pl(resp))
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolTCP), tcp(80, 40312, sisn+1+uint32(len(resp)), cisn+1+uint32(len(req)), tsOpts, func(l *layers.TCP) { l.ACK = true }), pl("\x00\x01binary body"))
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolTCP), tcp(40312, 80, cisn+1+uint32(len(req)), sisn+1, tsOpts, func(l *layers.TCP) { l.PSH, l.ACK = true, true }), pl("POST /unterminated"))
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolTCP), tcp(40312, 80, cisn+1+uint32(len(req)), sisn+1, tsOpts, func(l *layers.TCP) { l.PSH, l.ACK = true, true }), pl("hello there\r\n"))
	sack := []layers.TCPOption{
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindSACK, OptionLength: 10, OptionData: binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, sisn+2001), sisn+3001)},
	}
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolTCP), tcp(40312, 80, cisn+60, sisn+1001, sack, func(l *layers.TCP) { l.ACK = true }))
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolTCP), tcp(40312, 80, cisn+60, sisn+1001, nil, func(l *layers.TCP) { l.FIN, l.ACK = true, true }))
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolTCP), tcp(80, 40312, sisn+1001, cisn+61, nil, func(l *layers.TCP) { l.FIN, l.PSH, l.ACK = true, true, true }))
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolTCP), tcp(40312, 80, cisn+61, 0, nil, func(l *layers.TCP) { l.RST = true }))

	// Odd flags and options on another connection (no ACK: absolute).
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolTCP), tcp(40313, 801, 7, 0, nil, func(l *layers.TCP) { l.URG = true; l.Urgent = 3 }), pl("abc"))
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolTCP), tcp(40313, 801, 8, 0, nil, func(*layers.TCP) {}))
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolTCP), tcp(40313, 801, 9, 0, synOpts, func(l *layers.TCP) { l.SYN, l.ECE, l.CWR = true, true, true }))
	odd := []layers.TCPOption{{OptionType: 99, OptionLength: 4, OptionData: []byte{0xbe, 0xef}}, {OptionType: layers.TCPOptionKindEndList, OptionLength: 1}}
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolTCP), tcp(801, 40313, 55, 10, odd, func(l *layers.TCP) { l.RST, l.ACK = true, true }))

	// SSH banner, both ways.
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolTCP), tcp(22, 50022, 1, 1, nil, func(l *layers.TCP) { l.PSH = true }), pl("SSH-2.0-Go\r\n"))
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolTCP), tcp(50022, 22, 1, 1, nil, func(l *layers.TCP) { l.PSH = true }), pl("\x00\x00\x01\x0c\x0a\x14binary"))

	// UDP, ICMP echo and errors.
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolUDP), &layers.UDP{SrcPort: 40000, DstPort: 7777}, pl("hello"))
	echo := make([]byte, 56)
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 4660, Seq: 1}, gopacket.Payload(echo))
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(0, 0), Id: 4660, Seq: 1}, gopacket.Payload(echo))
	quoted := func(proto layers.IPProtocol, sp, dp uint16) gopacket.Payload {
		b := gopacket.NewSerializeBuffer()
		ip := ip4(a4, b4, proto)
		var l4 []byte
		l4 = binary.BigEndian.AppendUint16(l4, sp)
		l4 = binary.BigEndian.AppendUint16(l4, dp)
		l4 = append(l4, 0, 13, 0, 0)
		gopacket.SerializeLayers(b, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, gopacket.Payload(l4))
		return gopacket.Payload(append([]byte(nil), b.Bytes()...))
	}
	for _, code := range []uint8{0, 1, 2, 3, 9, 10, 13, 15} {
		proto := layers.IPProtocolUDP
		if code == 2 {
			proto = 253
		}
		add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, code)}, quoted(proto, 40000, 9))
	}
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, quoted(layers.IPProtocolTCP, 40000, 9))
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 4), Seq: 1400}, quoted(layers.IPProtocolTCP, 40000, 9))
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(11, 0)}, quoted(layers.IPProtocolUDP, 40000, 33434))
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(11, 1)}, quoted(layers.IPProtocolUDP, 40000, 33434))

	// ARP: a request, a request naming the target's MAC, a reply.
	arp := func(op uint16, sha, tha net.HardwareAddr, spa, tpa netip.Addr) *layers.ARP {
		return &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: op, SourceHwAddress: sha, SourceProtAddress: spa.AsSlice(), DstHwAddress: tha, DstProtAddress: tpa.AsSlice()}
	}
	zero := net.HardwareAddr{0, 0, 0, 0, 0, 0}
	add(eth(layers.EthernetTypeARP), arp(layers.ARPRequest, macA, zero, a4, routerLAN))
	add(eth(layers.EthernetTypeARP), arp(layers.ARPRequest, macA, macB, a4, routerLAN))
	add(eth(layers.EthernetTypeARP), arp(layers.ARPReply, macB, macA, routerLAN, a4))

	// IPv6: TCP, UDP, echo.
	add(eth(layers.EthernetTypeIPv6), ip6(a6, b6, layers.IPProtocolTCP), tcp(40400, 80, cisn, 0, synOpts, func(l *layers.TCP) { l.SYN = true }))
	add(eth(layers.EthernetTypeIPv6), ip6(a6, b6, layers.IPProtocolUDP), &layers.UDP{SrcPort: 40000, DstPort: 7777}, pl("hello6"))
	echo6 := append([]byte{0x12, 0x34, 0, 1}, echo...)
	add(eth(layers.EthernetTypeIPv6), ip6(a6, b6, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}, gopacket.Payload(echo6))
	add(eth(layers.EthernetTypeIPv6), ip6(b6, a6, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(129, 0)}, gopacket.Payload(echo6))

	// ICMPv6 neighbour discovery and errors.
	tgt := append([]byte{0, 0, 0, 0}, b6.AsSlice()...)
	add(eth(layers.EthernetTypeIPv6), ip6(a6, b6, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(133, 0)}, gopacket.Payload(make([]byte, 4)))
	add(eth(layers.EthernetTypeIPv6), ip6(a6, b6, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(135, 0)}, gopacket.Payload(tgt))
	add(eth(layers.EthernetTypeIPv6), ip6(b6, a6, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(136, 0)}, gopacket.Payload(tgt))
	quoted6 := func(proto layers.IPProtocol) gopacket.Payload {
		b := gopacket.NewSerializeBuffer()
		l4 := []byte{0x9c, 0x40, 0, 9, 0, 16, 0, 0}
		gopacket.SerializeLayers(b, gopacket.SerializeOptions{FixLengths: true}, ip6(a6, b6, proto), gopacket.Payload(l4))
		return gopacket.Payload(append(make([]byte, 4), b.Bytes()...))
	}
	for _, code := range []uint8{0, 1, 2, 3, 4} {
		add(eth(layers.EthernetTypeIPv6), ip6(b6, a6, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(1, code)}, quoted6(layers.IPProtocolUDP))
	}
	add(eth(layers.EthernetTypeIPv6), ip6(b6, a6, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(1, 4)}, quoted6(layers.IPProtocolTCP))
	add(eth(layers.EthernetTypeIPv6), ip6(b6, a6, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(3, 0)}, quoted6(layers.IPProtocolUDP))
	add(eth(layers.EthernetTypeIPv6), ip6(b6, a6, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(3, 1)}, quoted6(layers.IPProtocolUDP))

	// Unknown IP protocol and EtherType.
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, 253), pl("experimental"))
	add(eth(0x88b5), pl("local experimental ethertype"))
	// DNS on port 53, both ways (appended: the indices above are
	// referred to): a query, answers of each kind tcpdump prints, and
	// rcodes.
	dnsq := func(id uint16, name string, typ layers.DNSType) *layers.DNS {
		return &layers.DNS{ID: id, RD: true, Questions: []layers.DNSQuestion{{Name: []byte(name), Type: typ, Class: layers.DNSClassIN}}}
	}
	dnsr := func(id uint16, name string, typ layers.DNSType, rcode layers.DNSResponseCode, ans ...layers.DNSResourceRecord) *layers.DNS {
		m := dnsq(id, name, typ)
		m.QR, m.RA, m.ResponseCode, m.Answers = true, true, rcode, ans
		return m
	}
	rrA := func(name, ip string) layers.DNSResourceRecord {
		return layers.DNSResourceRecord{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 600, IP: net.ParseIP(ip).To4()}
	}
	udp53 := func(src uint16, dst uint16) *layers.UDP {
		return &layers.UDP{SrcPort: layers.UDPPort(src), DstPort: layers.UDPPort(dst)}
	}
	add(eth(layers.EthernetTypeIPv4), ip4(a4, b4, layers.IPProtocolUDP), udp53(40001, 53), dnsq(25304, "www.example.test", layers.DNSTypeA))
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolUDP), udp53(53, 40001),
		dnsr(25304, "site", layers.DNSTypeA, layers.DNSResponseCodeNoErr, rrA("site", "172.18.0.2"), rrA("site", "172.18.0.3")))
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolUDP), udp53(53, 40002),
		dnsr(7, "nosuch.example.test", layers.DNSTypeA, layers.DNSResponseCodeNXDomain))
	aaaa := dnsr(8, "web", layers.DNSTypeAAAA, layers.DNSResponseCodeNoErr)
	aaaa.AA, aaaa.RA = true, false
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolUDP), udp53(53, 40003), aaaa)
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolUDP), udp53(53, 40004),
		dnsr(9, "2.0.18.172.in-addr.arpa", layers.DNSTypePTR, layers.DNSResponseCodeNoErr,
			layers.DNSResourceRecord{Name: []byte("2.0.18.172.in-addr.arpa"), Type: layers.DNSTypePTR, Class: layers.DNSClassIN, TTL: 600, PTR: []byte("web.app")}))
	servfail := dnsr(10, "web.other", layers.DNSTypeA, layers.DNSResponseCodeServFail)
	servfail.RA = false
	add(eth(layers.EthernetTypeIPv4), ip4(b4, a4, layers.IPProtocolUDP), udp53(53, 40005), servfail)
	add(eth(layers.EthernetTypeIPv6), ip6(a6, b6, layers.IPProtocolUDP), udp53(40006, 53), dnsq(11, "web", layers.DNSTypeAAAA))
	add(eth(layers.EthernetTypeIPv6), ip6(b6, a6, layers.IPProtocolUDP), udp53(53, 40006),
		dnsr(11, "web", layers.DNSTypeAAAA, layers.DNSResponseCodeNoErr,
			layers.DNSResourceRecord{Name: []byte("web"), Type: layers.DNSTypeAAAA, Class: layers.DNSClassIN, TTL: 600, IP: net.ParseIP("fd00::2")}))
	return pkts
}
