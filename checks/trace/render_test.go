package trace

import (
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/unix"
)

func ifnameBytes(s string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, s)
	return b
}

// TestRenderRule renders rules made of the expressions Docker 29's tables
// hold (see netkit/firewall/nft's statements), as nft lists them without
// counters; TestRenderKernel checks the same against the kernel.
func TestRenderRule(t *testing.T) {
	ip := &nftables.Table{Name: "docker-bridges", Family: nftables.TableFamilyIPv4}
	for _, tc := range []struct {
		exprs   []expr.Any
		comment string
		want    string
	}{
		{
			exprs: []expr.Any{
				&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
				&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifnameBytes("docker0")},
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
				&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{255, 255, 0, 0}, Xor: []byte{0, 0, 0, 0}},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{172, 17, 0, 0}},
				&expr.Counter{},
				&expr.Masq{},
			},
			comment: "MASQUERADE",
			want:    `oifname != "docker0" ip saddr 172.17.0.0/16 masquerade comment "MASQUERADE"`,
		},
		{
			exprs: []expr.Any{
				&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
				&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifnameBytes("docker0")},
				&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(801)},
				&expr.Counter{},
				&expr.Immediate{Register: 1, Data: []byte{172, 17, 0, 2}},
				&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(80)},
				&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
			},
			comment: "DNAT",
			want:    `iifname != "docker0" tcp dport 801 dnat to 172.17.0.2:80 comment "DNAT"`,
		},
		{
			exprs: []expr.Any{
				&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
				&expr.Counter{},
				&expr.Verdict{Kind: expr.VerdictJump, Chain: "nat-prerouting-and-output"},
			},
			want: "fib daddr type local jump nat-prerouting-and-output",
		},
		{
			exprs: []expr.Any{
				&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
				&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
					Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED), Xor: []byte{0, 0, 0, 0}},
				&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}},
				&expr.Counter{},
				&expr.Verdict{Kind: expr.VerdictAccept},
			},
			want: "ct state established,related accept",
		},
		{
			exprs: []expr.Any{
				&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
				&expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: "filter-forward-in-jumps"},
			},
			want: "oifname vmap @filter-forward-in-jumps",
		},
		{
			// A transport match with no protocol before it, and a
			// protocol match with no transport match after it.
			exprs: []expr.Any{
				&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_UDP}},
				&expr.Verdict{Kind: expr.VerdictDrop},
			},
			want: "meta l4proto udp drop",
		},
		{
			exprs: []expr.Any{&expr.Immediate{Register: 1, Data: []byte{0, 53}},
				&expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegProtoMin: 1}},
			want: "snat to :53",
		},
		{
			exprs: []expr.Any{&expr.Quota{Bytes: 1}},
			want:  "[*expr.Quota]",
		},
	} {
		r := &nftables.Rule{Table: ip, Exprs: tc.exprs}
		if tc.comment != "" {
			r.UserData = userdata.AppendString(nil, userdata.TypeComment, tc.comment)
		}
		assert.Equal(t, tc.want, renderRule(r))
	}
}

// TestMarkRules pins what the trace marks: only the connection's own
// packets, by the source port it bound (both directions) or its echo
// identifier.
func TestMarkRules(t *testing.T) {
	inet := &nftables.Table{Name: testTable, Family: nftables.TableFamilyINet}
	render := func(m match) []string {
		var out []string
		for _, r := range m.markRules() {
			out = append(out, renderRule(&nftables.Rule{Table: inet, Exprs: r}))
		}
		return out
	}
	assert.Equal(t, []string{"tcp sport 40000 meta nftrace set 1", "tcp dport 40000 meta nftrace set 1"},
		render(match{Proto: unix.IPPROTO_TCP, Port: 40000}))
	assert.Equal(t, []string{
		"icmp type 8 icmp id 4660 meta nftrace set 1",
		"icmp type 0 icmp id 4660 meta nftrace set 1",
		"icmpv6 type 128 icmpv6 id 4660 meta nftrace set 1",
		"icmpv6 type 129 icmpv6 id 4660 meta nftrace set 1",
	}, render(match{Proto: unix.IPPROTO_ICMP, EchoID: 0x1234}))
}

func TestPrefixLen(t *testing.T) {
	n, ok := prefixLen([]byte{255, 255, 240, 0})
	assert.True(t, ok)
	assert.Equal(t, 20, n)
	_, ok = prefixLen([]byte{255, 0, 255, 0})
	assert.False(t, ok)
}
