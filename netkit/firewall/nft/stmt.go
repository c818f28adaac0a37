package nft

import (
	"net/netip"
	"strconv"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/ports"
)

// Stmt is one statement of a rule: its nft text, and the kernel
// expressions it compiles to. Matches load into register 1; a statement
// never relies on what an earlier one left in a register.
type Stmt interface {
	text() string
	exprs(maps map[string]mapRef) []expr.Any
}

// mapRef names a map for a lookup expression.
type mapRef struct {
	name string
	id   uint32
}

// Iface matches iifname or oifname: Key "iifname"/"oifname", Op "=="/"!=".
type Iface struct {
	Key, Op, Name string
}

func (s Iface) text() string {
	if s.Op == "!=" {
		return s.Key + " != " + strconv.Quote(s.Name)
	}
	return s.Key + " " + strconv.Quote(s.Name)
}

func (s Iface) exprs(map[string]mapRef) []expr.Any {
	return []expr.Any{&expr.Meta{Key: metaKey(s.Key), Register: 1}, &expr.Cmp{Op: cmpOp(s.Op), Register: 1, Data: ifname(s.Name)}}
}

// Vmap jumps through a verdict map keyed by iifname or oifname.
type Vmap struct {
	Key, Map string
}

func (s Vmap) text() string { return s.Key + " vmap @" + s.Map }

func (s Vmap) exprs(maps map[string]mapRef) []expr.Any {
	m := maps[s.Map]
	return []expr.Any{&expr.Meta{Key: metaKey(s.Key), Register: 1},
		&expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: m.name, SetID: m.id}}
}

// IPAddr matches ip (or, for an IPv6 prefix, ip6) saddr or daddr
// ("saddr"/"daddr") against an address (a /32 or /128) or a prefix.
type IPAddr struct {
	Field, Op string
	Prefix    netip.Prefix
}

func (s IPAddr) text() string {
	v := s.Prefix.String()
	if s.Prefix.IsSingleIP() {
		v = s.Prefix.Addr().String()
	}
	fam := "ip"
	if s.Prefix.Addr().Is6() {
		fam = "ip6"
	}
	if s.Op == "!=" {
		return fam + " " + s.Field + " != " + v
	}
	return fam + " " + s.Field + " " + v
}

func (s IPAddr) exprs(map[string]mapRef) []expr.Any {
	// Offsets of the addresses in the IPv4 and IPv6 headers.
	off, size := uint32(16), uint32(4)
	if s.Field == "saddr" {
		off = 12
	}
	if s.Prefix.Addr().Is6() {
		off, size = 24, 16
		if s.Field == "saddr" {
			off = 8
		}
	}
	p := s.Prefix.Masked()
	a := p.Addr().AsSlice()
	out := []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: size}}
	if !p.IsSingleIP() {
		mask := make([]byte, size)
		for i := 0; i < p.Bits(); i++ {
			mask[i/8] |= 0x80 >> (i % 8)
		}
		out = append(out, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: size,
			Mask: mask, Xor: make([]byte, size)})
	}
	return append(out, &expr.Cmp{Op: cmpOp(s.Op), Register: 1, Data: a})
}

// L4Port matches a transport protocol ("" is tcp) and its sport or dport.
type L4Port struct {
	Proto ports.Proto
	Field string
	Port  uint16
}

func (s L4Port) text() string {
	proto := s.Proto
	if proto == "" {
		proto = ports.TCP
	}
	return string(proto) + " " + s.Field + " " + strconv.Itoa(int(s.Port))
}

func (s L4Port) exprs(map[string]mapRef) []expr.Any {
	var proto byte = unix.IPPROTO_TCP
	switch s.Proto {
	case ports.UDP:
		proto = unix.IPPROTO_UDP
	case ports.SCTP:
		proto = unix.IPPROTO_SCTP
	}
	off := uint32(2)
	if s.Field == "sport" {
		off = 0
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(s.Port)},
	}
}

// Fib matches "fib saddr|daddr type local".
type Fib struct {
	Addr, Type string
}

func (s Fib) text() string { return "fib " + s.Addr + " type " + s.Type }

func (s Fib) exprs(map[string]mapRef) []expr.Any {
	return []expr.Any{
		&expr.Fib{Register: 1, FlagSADDR: s.Addr == "saddr", FlagDADDR: s.Addr == "daddr", ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
	}
}

// CtState matches "ct state established,related".
type CtState struct{}

func (CtState) text() string { return "ct state established,related" }

func (CtState) exprs(map[string]mapRef) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED), Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}},
	}
}

// Counter counts packets and bytes.
type Counter struct{}

func (Counter) text() string                       { return "counter packets 0 bytes 0" }
func (Counter) exprs(map[string]mapRef) []expr.Any { return []expr.Any{&expr.Counter{}} }

// Verdict is accept, drop, or a jump to Chain.
type Verdict struct {
	Kind, Chain string
}

func (s Verdict) text() string {
	if s.Kind == "jump" {
		return "jump " + s.Chain
	}
	return s.Kind
}

func (s Verdict) exprs(map[string]mapRef) []expr.Any {
	switch s.Kind {
	case "jump":
		return []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: s.Chain}}
	case "drop":
		return []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}
	}
	return []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}}
}

// DNAT rewrites the destination to Addr:Port ("[Addr]:Port" for IPv6).
type DNAT struct {
	Addr netip.Addr
	Port uint16
}

func (s DNAT) text() string { return "dnat to " + netip.AddrPortFrom(s.Addr, s.Port).String() }

func (s DNAT) exprs(map[string]mapRef) []expr.Any {
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: s.Addr.AsSlice()},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(s.Port)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: natFamily(s.Addr), RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	}
}

// natFamily is the NFPROTO family of a NAT expression to address a (IPv4
// for the zero Addr).
func natFamily(a netip.Addr) uint32 {
	if a.Is6() && !a.Is4In6() {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

// Masquerade rewrites the source to the outgoing interface's address.
type Masquerade struct{}

func (Masquerade) text() string                       { return "masquerade" }
func (Masquerade) exprs(map[string]mapRef) []expr.Any { return []expr.Any{&expr.Masq{}} }

// SNAT rewrites the source to Addr, or to Addr:Port; with the zero Addr,
// only the port ("snat to :53").
type SNAT struct {
	Addr netip.Addr
	Port uint16
}

func (s SNAT) text() string {
	switch {
	case s.Addr.IsValid() && s.Port != 0:
		return "snat to " + netip.AddrPortFrom(s.Addr, s.Port).String() // [v6]:port
	case s.Addr.IsValid():
		return "snat to " + s.Addr.String()
	}
	return "snat to :" + strconv.Itoa(int(s.Port))
}

func (s SNAT) exprs(map[string]mapRef) []expr.Any {
	var out []expr.Any
	nat := &expr.NAT{Type: expr.NATTypeSourceNAT, Family: natFamily(s.Addr)}
	if s.Addr.IsValid() {
		out = append(out, &expr.Immediate{Register: 1, Data: s.Addr.AsSlice()})
		nat.RegAddrMin = 1
	}
	if s.Port != 0 {
		out = append(out, &expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(s.Port)})
		nat.RegProtoMin, nat.Specified = 2, true
	}
	return append(out, nat)
}

func metaKey(k string) expr.MetaKey {
	if k == "oifname" {
		return expr.MetaKeyOIFNAME
	}
	return expr.MetaKeyIIFNAME
}

func cmpOp(op string) expr.CmpOp {
	if op == "!=" {
		return expr.CmpOpNeq
	}
	return expr.CmpOpEq
}

// ifname is an interface name as the kernel compares it: NUL-padded to
// IFNAMSIZ.
func ifname(s string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, s)
	return b
}
