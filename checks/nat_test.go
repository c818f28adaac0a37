package checks

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// find returns the rewrites whose String matches pattern (ExpectRewrite's
// form), failing the test unless there is exactly one.
func find(t *testing.T, rws []Rewrite, pattern string) Rewrite {
	t.Helper()
	re, err := wantPattern(pattern)
	require.NoError(t, err)
	var found []Rewrite
	for _, r := range rws {
		if re.MatchString(r.base()) {
			found = append(found, r)
		}
	}
	require.Len(t, found, 1, "rewrites that match %q; saw:\n%s", pattern, FormatRewrites(rws))
	return found[0]
}

// TestMatchNATDNAT: port 801 on the router is published as 172.17.0.2:80;
// the address and the port change, and the replies are translated back.
func TestMatchNATDNAT(t *testing.T) {
	rws := MatchNAT(readPcap(t, "dnat_r0"), readPcap(t, "dnat_r1"))
	const want = "DNAT tcp 192.168.190.1:* > 192.168.190.128:801 => 192.168.190.1:* > 172.17.0.2:80"
	require.NoError(t, ExpectRewrite(rws, want))
	r := find(t, rws, want)
	assert.Equal(t, r.First.Src, r.Second.Src, "DNAT changed the source: %s", r)
	// The whole connection, both ways.
	assert.GreaterOrEqual(t, r.Forward, 4, "forward packets of the DNAT flow")
	assert.GreaterOrEqual(t, r.Replies, 4, "reply packets of the DNAT flow")
	assert.Equal(t, "DNAT tcp "+r.First.Src.String()+" > 192.168.190.128:801 => "+r.First.Src.String()+" > 172.17.0.2:80", r.String())
	for _, w := range []string{
		"none udp 192.168.190.1:* > 172.17.0.2:7777",
		"none icmp 192.168.190.1 > 172.17.0.2 id *",
		"none udp 192.168.190.1:* > 172.17.0.2:9",
	} {
		assert.NoError(t, ExpectRewrite(rws, w))
	}
	closed := find(t, rws, "none udp * > 172.17.0.2:9")
	assert.Equal(t, 1, closed.Errors, "icmp errors to udp to a closed port")
	assert.Zero(t, closed.Replies, "replies to udp to a closed port")
	assert.Len(t, rws, 4, "flows:\n%s", FormatRewrites(rws))
}

// TestMatchNATSNAT: the server's connection leaves masqueraded as the
// router's LAN address, with its port kept.
func TestMatchNATSNAT(t *testing.T) {
	rws := MatchNAT(readPcap(t, "snat_r1"), readPcap(t, "snat_r0"))
	for _, w := range []string{
		"SNAT tcp 172.17.0.2:* > 203.0.113.10:80 => 192.168.190.128:* > 203.0.113.10:80",
		"SNAT icmp 172.17.0.2 > 203.0.113.10 id * => 192.168.190.128 > 203.0.113.10 id *",
	} {
		assert.NoError(t, ExpectRewrite(rws, w))
	}
	r := find(t, rws, "SNAT tcp * > * => * > *")
	assert.Equal(t, r.First.Src.Port(), r.Second.Src.Port(), "masquerade changed more than the source address: %s", r)
	assert.Equal(t, r.First.Dst, r.Second.Dst, "masquerade changed more than the source address: %s", r)
}

// TestMatchNATMissingRules: without the rules, the expected rewrites are
// absent, and the failure shows what was seen instead.
func TestMatchNATMissingRules(t *testing.T) {
	// No DNAT: the router answers the SYN itself with a reset, and
	// nothing reaches the server's side.
	rws := MatchNAT(readPcap(t, "nonat_r0"), readPcap(t, "nonat_r1"))
	err := ExpectRewrite(rws, "DNAT tcp 192.168.190.1:* > 192.168.190.128:801 => 192.168.190.1:* > 172.17.0.2:80")
	require.Error(t, err, "ExpectRewrite found a DNAT that is not in the capture")
	for _, w := range []string{
		`expected rewrite "DNAT tcp 192.168.190.1:* > 192.168.190.128:801 => 192.168.190.1:* > 172.17.0.2:80", saw:`,
		"  lost tcp 192.168.190.1:",
		"> 192.168.190.128.801: Flags [S], seq ",
		"IP 192.168.190.128.801 > 192.168.190.1.",
		": Flags [R.], seq 0, ack ",
		"    second: (no packets)",
	} {
		assert.ErrorContains(t, err, w)
	}
	lost := find(t, rws, "lost tcp * > *")
	assert.Len(t, lost.FirstPackets, 2, "the lost flow's packets before")
	assert.Empty(t, lost.SecondPackets, "the lost flow's packets after")

	// No masquerade: the server's connection leaves unchanged.
	rws = MatchNAT(readPcap(t, "nonat_r1"), readPcap(t, "nonat_r0"))
	err = ExpectRewrite(rws, "SNAT tcp 172.17.0.2:* > 203.0.113.10:80 => 192.168.190.128:* > 203.0.113.10:80")
	assert.ErrorContains(t, err, "  none tcp 172.17.0.2:", "missing SNAT: want an error showing the unchanged flow")
	assert.NoError(t, ExpectRewrite(rws, "extra tcp 192.168.190.1:* > 192.168.190.128:801"))
}

// rewriteTCP returns p with its IPv4/TCP source replaced by src.
func rewriteTCP(t *testing.T, p Packet, src netip.AddrPort) Packet {
	t.Helper()
	pk := gopacket.NewPacket(p.Data, layers.LayerTypeEthernet, gopacket.Default)
	eth, _ := pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip, _ := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp, _ := pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if eth == nil || ip == nil || tcp == nil {
		t.Fatalf("not a TCP/IPv4 packet: %s", Summary(p))
	}
	ip.SrcIP = src.Addr().AsSlice()
	tcp.SrcPort = layers.TCPPort(src.Port())
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(tcp.Payload))
	require.NoError(t, err)
	return Packet{Time: p.Time, Data: append([]byte(nil), buf.Bytes()...)}
}

// TestMatchNATBrokenReverse: replies that leave the router still carrying
// the server's address (the reverse mapping forgotten) are reported.
func TestMatchNATBrokenReverse(t *testing.T) {
	first := readPcap(t, "dnat_r0")
	published := netip.MustParseAddrPort("192.168.190.128:801")
	backend := netip.MustParseAddrPort("172.17.0.2:80")
	fr := newFrame()
	n := 0
	for i, p := range first {
		if pi, ok := inspect(fr, p); ok && pi.proto == "tcp" && pi.tuple.Src == published {
			first[i] = rewriteTCP(t, p, backend)
			n++
		}
	}
	require.NotZero(t, n, "replies to rewrite")
	rws := MatchNAT(first, readPcap(t, "dnat_r1"))
	r := find(t, rws, "DNAT tcp * > * => * > *")
	require.Zero(t, r.Replies, "good replies: %s", r)
	require.Len(t, r.Problems, n, "problems: %s", r)
	client := r.First.Src.String()
	want := "broken reverse mapping: reply 172.17.0.2:80 > " + client + " came out as 172.17.0.2:80 > " + client + ", not as 192.168.190.128:801 > " + client
	assert.Equal(t, want, r.Problems[0])
	err := ExpectRewrite(rws, "DNAT tcp 192.168.190.1:* > 192.168.190.128:801 => 192.168.190.1:* > 172.17.0.2:80")
	assert.ErrorContains(t, err, want, "ExpectRewrite: want an error naming the broken reverse mapping")
}

// TestMatchNATRepliesLost: replies that reach the router's inner side and
// never leave it are reported as packets seen only in second.
func TestMatchNATRepliesLost(t *testing.T) {
	var first []Packet
	fr := newFrame()
	n := 0
	for _, p := range readPcap(t, "dnat_r0") {
		if pi, ok := inspect(fr, p); ok && pi.proto == "tcp" && pi.tuple.Src.Port() == 801 {
			n++
			continue
		}
		first = append(first, p)
	}
	r := find(t, MatchNAT(first, readPcap(t, "dnat_r1")), "DNAT tcp * > * => * > *")
	want := fmt.Sprintf("%d packet(s) only in second: IP 172.17.0.2.80 > 192.168.190.1.", n)
	if assert.Len(t, r.Problems, 1) {
		assert.True(t, strings.HasPrefix(r.Problems[0], want), "problem %q, want one starting %q", r.Problems[0], want)
	}
	assert.Zero(t, r.Replies)
}

// TestMatchNATClipped: a connection still closing when the first capture
// stopped leaves packets in the second only; they are not problems.
func TestMatchNATClipped(t *testing.T) {
	first, second := readPcap(t, "dnat_r0"), readPcap(t, "dnat_r1")
	// Stop the first capture early: after the HTTP response.
	var cut []Packet
	for _, p := range first {
		cut = append(cut, p)
		if strings.Contains(Summary(p), "Flags [P.]") && strings.HasPrefix(Summary(p), "IP 192.168.190.128.801") {
			break
		}
	}
	r := find(t, MatchNAT(cut, second), "DNAT tcp * > * => * > *")
	assert.Empty(t, r.Problems)
	assert.NotZero(t, r.Clipped, "clipped packets")
}

func TestRewriteString(t *testing.T) {
	ap := netip.MustParseAddrPort
	for _, c := range []struct {
		r    Rewrite
		want string
	}{
		{Rewrite{Kind: RewriteDNAT, Proto: "tcp", First: Tuple{ap("192.168.190.1:40312"), ap("192.168.190.128:801")}, Second: Tuple{ap("192.168.190.1:40312"), ap("172.17.0.2:80")}},
			"DNAT tcp 192.168.190.1:40312 > 192.168.190.128:801 => 192.168.190.1:40312 > 172.17.0.2:80"},
		{Rewrite{Kind: RewriteSNAT, Proto: "tcp", First: Tuple{ap("172.17.0.2:51000"), ap("203.0.113.10:80")}, Second: Tuple{ap("192.168.190.128:51000"), ap("203.0.113.10:80")}},
			"SNAT tcp 172.17.0.2:51000 > 203.0.113.10:80 => 192.168.190.128:51000 > 203.0.113.10:80"},
		{Rewrite{Kind: RewriteBoth, Proto: "udp", First: Tuple{ap("[fd00::1]:5"), ap("[fd00::2]:6")}, Second: Tuple{ap("[fd00::3]:5"), ap("[fd00::4]:6")}},
			"SNAT+DNAT udp [fd00::1]:5 > [fd00::2]:6 => [fd00::3]:5 > [fd00::4]:6"},
		{Rewrite{Kind: RewriteNone, Proto: "icmp", First: Tuple{ap("10.0.0.1:7"), ap("10.0.0.2:0")}},
			"none icmp 10.0.0.1 > 10.0.0.2 id 7"},
		{Rewrite{Kind: RewriteLost, Proto: "tcp", First: Tuple{ap("10.0.0.1:1"), ap("10.0.0.2:2")}, Problems: []string{"x"}},
			"lost tcp 10.0.0.1:1 > 10.0.0.2:2; x"},
		{Rewrite{Kind: RewriteExtra, Proto: "udp", Second: Tuple{ap("10.0.0.1:1"), ap("10.0.0.2:2")}},
			"extra udp 10.0.0.1:1 > 10.0.0.2:2"},
	} {
		assert.Equal(t, c.want, c.r.String())
	}
}

func TestExpectRewriteNoFlows(t *testing.T) {
	err := ExpectRewrite(MatchNAT(nil, nil), "none tcp *")
	assert.ErrorContains(t, err, "saw no TCP, UDP or ICMP flows")
}

// TestMatchNATRetransmission: a retransmitted SYN (the same fingerprint
// twice on each side) pairs in order and is no problem.
func TestMatchNATRetransmission(t *testing.T) {
	dup := func(pkts []Packet) []Packet {
		var out []Packet
		for _, p := range pkts {
			out = append(out, p)
			if strings.Contains(Summary(p), "Flags [S],") {
				out = append(out, p)
			}
		}
		return out
	}
	first, second := readPcap(t, "dnat_r0"), readPcap(t, "dnat_r1")
	plain := find(t, MatchNAT(first, second), "DNAT tcp * > * => * > *")
	r := find(t, MatchNAT(dup(first), dup(second)), "DNAT tcp * > * => * > *")
	assert.Empty(t, r.Problems, "with a retransmitted SYN")
	assert.Equal(t, plain.Forward+1, r.Forward, "forward packets with a retransmitted SYN")
	// Retransmitted on one side only: the extra copy is a problem.
	r = find(t, MatchNAT(dup(first), second), "DNAT tcp * > * => * > *")
	if assert.Len(t, r.Problems, 1, "SYN duplicated in first only") {
		assert.True(t, strings.HasPrefix(r.Problems[0], "1 packet(s) only in first: IP 192.168.190.1."), "SYN duplicated in first only: %q", r.Problems[0])
	}
}

// TestMatchNATIPv6: an IPv6 echo masqueraded by the host matches, and the
// neighbour discovery on each link (which never crosses a router) is
// neither lost nor extra.
func TestMatchNATIPv6(t *testing.T) {
	ctr, host, srv := netip.MustParseAddr("fd00:db8:1::2"), netip.MustParseAddr("2001:db8:190::128"), netip.MustParseAddr("2001:db8:113::10")
	pkt := func(src, dst netip.Addr, typ uint8, body []byte) Packet {
		buf := gopacket.NewSerializeBuffer()
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, 0)}
		require.NoError(t, icmp.SetNetworkLayerForChecksum(ip))
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv6}
		require.NoError(t, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, icmp, gopacket.Payload(body)))
		return Packet{Data: append([]byte(nil), buf.Bytes()...)}
	}
	echo := []byte{0x12, 0x34, 0, 1, 'h', 'i'}
	ns := make([]byte, 20)
	first := []Packet{pkt(ctr, netip.MustParseAddr("ff02::1:ff00:1"), 135, ns), pkt(ctr, srv, 128, echo), pkt(srv, ctr, 129, echo)}
	second := []Packet{pkt(srv, netip.MustParseAddr("ff02::1:ff00:1"), 135, ns), pkt(host, srv, 128, echo), pkt(srv, host, 129, echo)}
	rws := MatchNAT(first, second)
	require.Len(t, rws, 1, "%v", rws)
	assert.Equal(t, "SNAT icmp6 fd00:db8:1::2 > 2001:db8:113::10 id 4660 => 2001:db8:190::128 > 2001:db8:113::10 id 4660", rws[0].String())
}
