package trace

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// traceMsg encodes a trace event as the kernel sends it
// (net/netfilter/nf_tables_trace.c, nf_tables_trace_notify): the nfgenmsg
// header, then the attributes in network byte order.
func traceMsg(t *testing.T, family uint8, build func(ae *netlink.AttributeEncoder)) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	ae.ByteOrder = binary.BigEndian
	build(ae)
	b, err := ae.Encode()
	require.NoError(t, err)
	return append([]byte{family, unix.NFNETLINK_V0, 0, 0}, b...)
}

// ipv4TCP is an IPv4 header and a TCP header: src:sport > dst:dport with
// flags, seq and ack, IP ID id and TTL 64.
func ipv4TCP(src, dst string, sport, dport uint16, flags uint8, seq, ack uint32, id uint16) (nh, th []byte) {
	nh = make([]byte, 20)
	nh[0] = 0x45
	binary.BigEndian.PutUint16(nh[4:6], id)
	nh[8], nh[9] = 64, unix.IPPROTO_TCP
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(nh[12:16], s[:])
	copy(nh[16:20], d[:])
	th = make([]byte, 20)
	binary.BigEndian.PutUint16(th[0:2], sport)
	binary.BigEndian.PutUint16(th[2:4], dport)
	binary.BigEndian.PutUint32(th[4:8], seq)
	binary.BigEndian.PutUint32(th[8:12], ack)
	th[12], th[13] = 5<<4, flags
	return nh, th
}

func TestDecodeEvent(t *testing.T) {
	nh, th := ipv4TCP("192.168.190.1", "192.168.190.128", 40000, 801, tcpSYN, 1000, 0, 7)
	ll := append([]byte{0xaa, 0, 0, 0, 0, 1, 0xbb, 0, 0, 0, 0, 2}, 0x08, 0x00)
	msg := traceMsg(t, unix.NFPROTO_IPV4, func(ae *netlink.AttributeEncoder) {
		ae.String(unix.NFTA_TRACE_TABLE, "nat")
		ae.String(unix.NFTA_TRACE_CHAIN, "DOCKER")
		ae.Uint64(unix.NFTA_TRACE_RULE_HANDLE, 11)
		ae.Uint32(unix.NFTA_TRACE_TYPE, unix.NFT_TRACETYPE_RULE)
		ae.Nested(unix.NFTA_TRACE_VERDICT, func(nae *netlink.AttributeEncoder) error {
			nae.Uint32(unix.NFTA_VERDICT_CODE, uint32(0xfffffffd)) // NFT_JUMP
			nae.String(unix.NFTA_VERDICT_CHAIN, "DOCKER-USER")
			return nil
		})
		ae.Uint32(unix.NFTA_TRACE_ID, 0xabcd)
		ae.Bytes(unix.NFTA_TRACE_LL_HEADER, ll)
		ae.Bytes(unix.NFTA_TRACE_NETWORK_HEADER, nh)
		ae.Bytes(unix.NFTA_TRACE_TRANSPORT_HEADER, th)
		ae.Uint32(unix.NFTA_TRACE_IIF, 2)
		ae.Uint32(unix.NFTA_TRACE_NFPROTO, unix.NFPROTO_IPV4)
	})
	ev, err := decodeEvent(traceMsgType, msg)
	require.NoError(t, err)
	assert.Equal(t, uint8(unix.NFPROTO_IPV4), ev.Family)
	assert.Equal(t, "nat", ev.Table)
	assert.Equal(t, "DOCKER", ev.Chain)
	assert.Equal(t, uint64(11), ev.Handle)
	assert.Equal(t, KindRule, ev.Kind)
	assert.Equal(t, "jump DOCKER-USER", ev.Verdict.String())
	assert.Equal(t, uint32(0xabcd), ev.ID)
	assert.Equal(t, uint32(2), ev.IIF)
	assert.True(t, ev.Dumped)
	assert.Equal(t, "tcp 192.168.190.1:40000 > 192.168.190.128:801 SYN", ev.Packet.Describe())
	assert.Equal(t, "bb:00:00:00:00:02", ev.Packet.SrcMAC)
	assert.Equal(t, "aa:00:00:00:00:01", ev.Packet.DstMAC)
	assert.Equal(t, uint16(7), ev.Packet.IPID)
	assert.Equal(t, uint32(1000), ev.Packet.Seq)

	// A policy event carries the chain's policy instead of a verdict.
	msg = traceMsg(t, unix.NFPROTO_IPV4, func(ae *netlink.AttributeEncoder) {
		ae.String(unix.NFTA_TRACE_TABLE, "filter")
		ae.String(unix.NFTA_TRACE_CHAIN, "FORWARD")
		ae.Uint32(unix.NFTA_TRACE_TYPE, unix.NFT_TRACETYPE_POLICY)
		ae.Uint32(unix.NFTA_TRACE_POLICY, 0)
	})
	ev, err = decodeEvent(traceMsgType, msg)
	require.NoError(t, err)
	assert.Equal(t, KindPolicy, ev.Kind)
	assert.True(t, ev.Verdict.Drops())
	assert.Equal(t, "-P FORWARD DROP", policyText(ev.Family, ev.Table, ev.Chain, ev.Verdict))
	assert.False(t, ev.Dumped)

	_, err = decodeEvent(traceMsgType+1, msg)
	assert.ErrorIs(t, err, errNotTrace)
	_, err = decodeEvent(traceMsgType, []byte{2})
	assert.Error(t, err)
}

func TestVerdictString(t *testing.T) {
	for code, want := range map[int32]string{0: "drop", 1: "accept", -1: "continue", -3: "jump X", -4: "goto X", -5: "return", 0x10000: "drop"} {
		v := Verdict{Code: code, Chain: "X"}
		assert.Equal(t, want, v.String(), "code %d", code)
	}
	assert.True(t, Verdict{Code: 0}.Drops())
	assert.False(t, Verdict{Code: -5}.Drops())
}

func TestDecodePacket(t *testing.T) {
	// ICMPv6 echo over IPv6.
	nh := make([]byte, 40)
	nh[0], nh[6], nh[7] = 0x60, unix.IPPROTO_ICMPV6, 63
	s, d := netip.MustParseAddr("2001:db8:190::1").As16(), netip.MustParseAddr("2001:db8:113::10").As16()
	copy(nh[8:24], s[:])
	copy(nh[24:40], d[:])
	th := []byte{128, 0, 0, 0, 0x12, 0x34, 0, 1}
	p := decodePacket(nil, nh, th)
	assert.Equal(t, "icmpv6 2001:db8:190::1 > 2001:db8:113::10 echo request", p.Describe())
	assert.Equal(t, uint16(0x1234), p.EchoID)
	assert.Equal(t, uint8(63), p.TTL)
	// Too short to be an IP header.
	assert.False(t, decodePacket(nil, []byte{0x45}, nil).Valid())
}

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
		kind TargetKind
		err  string
	}{
		{args: []string{"192.168.190.128:801"}, want: "192.168.190.128:801", kind: TargetTCP},
		{args: []string{"[2001:db8:190::128]:801"}, want: "[2001:db8:190::128]:801", kind: TargetTCP},
		{args: []string{"http://192.168.190.128:801/"}, want: "http://192.168.190.128:801/", kind: TargetHTTP},
		{args: []string{"https://192.168.190.128/"}, want: "https://192.168.190.128/", kind: TargetHTTP},
		{args: []string{"ping", "203.0.113.10"}, want: "ping 203.0.113.10", kind: TargetPing},
		{args: []string{"192.168.190.128"}, err: `"192.168.190.128" has no port: write ADDR:PORT, or ping 192.168.190.128`},
		{args: []string{"http://web/"}, err: `the host of "http://web/" must be an IP address`},
		{args: []string{"ftp://1.2.3.4/"}, err: `"ftp://1.2.3.4/" is not an http or https URL`},
		{args: []string{"ping", "web"}, err: `"web" is not an IP address`},
		{args: []string{"a", "b"}, err: `want one target (ADDR:PORT, a URL, or ping ADDR), got "a b"`},
	} {
		got, err := ParseTarget(tc.args)
		if tc.err != "" {
			assert.EqualError(t, err, tc.err, "%q", tc.args)
			continue
		}
		require.NoError(t, err, "%q", tc.args)
		assert.Equal(t, tc.want, got.String())
		assert.Equal(t, tc.kind, got.Kind)
	}
	got, err := ParseTarget([]string{"https://192.168.190.128/"})
	require.NoError(t, err)
	assert.Equal(t, uint16(443), got.Addr.Port())
}
