package checks

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// find returns the rewrites whose String matches pattern (ExpectRewrite's
// form), failing the test unless there is exactly one.
func find(t *testing.T, rws []Rewrite, pattern string) Rewrite {
	t.Helper()
	re, err := wantPattern(pattern)
	if err != nil {
		t.Fatal(err)
	}
	var found []Rewrite
	for _, r := range rws {
		if re.MatchString(r.base()) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d rewrites match %q, want 1; saw:\n%s", len(found), pattern, FormatRewrites(rws))
	}
	return found[0]
}

// TestMatchNATDNAT: port 801 on the router is published as 172.17.0.2:80;
// the address and the port change, and the replies are translated back.
func TestMatchNATDNAT(t *testing.T) {
	rws := MatchNAT(readPcap(t, "dnat_r0"), readPcap(t, "dnat_r1"))
	const want = "DNAT tcp 192.168.190.1:* > 192.168.190.128:801 => 192.168.190.1:* > 172.17.0.2:80"
	if err := ExpectRewrite(rws, want); err != nil {
		t.Fatal(err)
	}
	r := find(t, rws, want)
	if r.First.Src != r.Second.Src {
		t.Errorf("DNAT changed the source: %s", r)
	}
	if r.Forward < 4 || r.Replies < 4 {
		t.Errorf("DNAT flow matched %d forward and %d reply packets, want the whole connection", r.Forward, r.Replies)
	}
	if got, want := r.String(), "DNAT tcp "+r.First.Src.String()+" > 192.168.190.128:801 => "+r.First.Src.String()+" > 172.17.0.2:80"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for _, w := range []string{
		"none udp 192.168.190.1:* > 172.17.0.2:7777",
		"none icmp 192.168.190.1 > 172.17.0.2 id *",
		"none udp 192.168.190.1:* > 172.17.0.2:9",
	} {
		if err := ExpectRewrite(rws, w); err != nil {
			t.Error(err)
		}
	}
	if r := find(t, rws, "none udp * > 172.17.0.2:9"); r.Errors != 1 || r.Replies != 0 {
		t.Errorf("udp to a closed port: %d icmp errors and %d replies, want 1 and 0", r.Errors, r.Replies)
	}
	if len(rws) != 4 {
		t.Errorf("%d flows, want 4:\n%s", len(rws), FormatRewrites(rws))
	}
}

// TestMatchNATSNAT: the server's connection leaves masqueraded as the
// router's LAN address, with its port kept.
func TestMatchNATSNAT(t *testing.T) {
	rws := MatchNAT(readPcap(t, "snat_r1"), readPcap(t, "snat_r0"))
	for _, w := range []string{
		"SNAT tcp 172.17.0.2:* > 203.0.113.10:80 => 192.168.190.128:* > 203.0.113.10:80",
		"SNAT icmp 172.17.0.2 > 203.0.113.10 id * => 192.168.190.128 > 203.0.113.10 id *",
	} {
		if err := ExpectRewrite(rws, w); err != nil {
			t.Error(err)
		}
	}
	r := find(t, rws, "SNAT tcp * > * => * > *")
	if r.First.Src.Port() != r.Second.Src.Port() || r.First.Dst != r.Second.Dst {
		t.Errorf("masquerade changed more than the source address: %s", r)
	}
}

// TestMatchNATMissingRules: without the rules, the expected rewrites are
// absent, and the failure shows what was seen instead.
func TestMatchNATMissingRules(t *testing.T) {
	// No DNAT: the router answers the SYN itself with a reset, and
	// nothing reaches the server's side.
	rws := MatchNAT(readPcap(t, "nonat_r0"), readPcap(t, "nonat_r1"))
	err := ExpectRewrite(rws, "DNAT tcp 192.168.190.1:* > 192.168.190.128:801 => 192.168.190.1:* > 172.17.0.2:80")
	if err == nil {
		t.Fatal("ExpectRewrite found a DNAT that is not in the capture")
	}
	for _, w := range []string{
		`expected rewrite "DNAT tcp 192.168.190.1:* > 192.168.190.128:801 => 192.168.190.1:* > 172.17.0.2:80", saw:`,
		"  lost tcp 192.168.190.1:",
		"> 192.168.190.128.801: Flags [S], seq ",
		"IP 192.168.190.128.801 > 192.168.190.1.",
		": Flags [R.], seq 0, ack ",
		"    second: (no packets)",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
	if r := find(t, rws, "lost tcp * > *"); len(r.FirstPackets) != 2 || len(r.SecondPackets) != 0 {
		t.Errorf("lost flow: %d and %d packets, want 2 and 0", len(r.FirstPackets), len(r.SecondPackets))
	}

	// No masquerade: the server's connection leaves unchanged.
	rws = MatchNAT(readPcap(t, "nonat_r1"), readPcap(t, "nonat_r0"))
	err = ExpectRewrite(rws, "SNAT tcp 172.17.0.2:* > 203.0.113.10:80 => 192.168.190.128:* > 203.0.113.10:80")
	if err == nil || !strings.Contains(err.Error(), "  none tcp 172.17.0.2:") {
		t.Errorf("missing SNAT: got %v, want an error showing the unchanged flow", err)
	}
	if err := ExpectRewrite(rws, "extra tcp 192.168.190.1:* > 192.168.190.128:801"); err != nil {
		t.Error(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
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
	if n == 0 {
		t.Fatal("no replies to rewrite")
	}
	rws := MatchNAT(first, readPcap(t, "dnat_r1"))
	r := find(t, rws, "DNAT tcp * > * => * > *")
	if r.Replies != 0 || len(r.Problems) != n {
		t.Fatalf("got %d good replies and %d problems, want 0 and %d: %s", r.Replies, len(r.Problems), n, r)
	}
	client := r.First.Src.String()
	want := "broken reverse mapping: reply 172.17.0.2:80 > " + client + " came out as 172.17.0.2:80 > " + client + ", not as 192.168.190.128:801 > " + client
	if r.Problems[0] != want {
		t.Errorf("problem:\n got: %s\nwant: %s", r.Problems[0], want)
	}
	err := ExpectRewrite(rws, "DNAT tcp 192.168.190.1:* > 192.168.190.128:801 => 192.168.190.1:* > 172.17.0.2:80")
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("ExpectRewrite: %v; want an error naming the broken reverse mapping", err)
	}
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
	if len(r.Problems) != 1 || !strings.HasPrefix(r.Problems[0], want) || r.Replies != 0 {
		t.Errorf("problems: %q, want one starting %q", r.Problems, want)
	}
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
	if len(r.Problems) != 0 || r.Clipped == 0 {
		t.Errorf("problems %q, clipped %d; want none and some", r.Problems, r.Clipped)
	}
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
		if got := c.r.String(); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestExpectRewriteNoFlows(t *testing.T) {
	err := ExpectRewrite(MatchNAT(nil, nil), "none tcp *")
	if err == nil || !strings.Contains(err.Error(), "saw no TCP, UDP or ICMP flows") {
		t.Errorf("got %v", err)
	}
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
	if len(r.Problems) != 0 || r.Forward != plain.Forward+1 {
		t.Errorf("with a retransmitted SYN: %s, %d forward (%d without)", r, r.Forward, plain.Forward)
	}
	// Retransmitted on one side only: the extra copy is a problem.
	r = find(t, MatchNAT(dup(first), second), "DNAT tcp * > * => * > *")
	if len(r.Problems) != 1 || !strings.HasPrefix(r.Problems[0], "1 packet(s) only in first: IP 192.168.190.1.") {
		t.Errorf("SYN duplicated in first only: %q", r.Problems)
	}
}
