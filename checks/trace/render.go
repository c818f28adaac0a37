package trace

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// renderRule writes a rule read from the kernel in nft's syntax, as `nft
// list ruleset` shows it but without counters (their numbers grow with
// every packet, the traced one included): `oifname != "docker0" ip saddr
// 172.17.0.0/16 masquerade comment "MASQUERADE"`.
//
// It reads the expressions that Docker 29's nftables back end
// (netkit/firewall/nft) and iptables-nft's native rules are made of:
// matches on meta keys, on the network and transport headers (with a
// prefix mask), fib, ct state and set or verdict-map lookups; immediate
// verdicts, NAT, masquerade, reject and log. Anything else is written as
// its expression's name in brackets, so the text is always honest about
// what it could not read.
func renderRule(r *nftables.Rule) string {
	rr := renderer{regs: map[uint32]operand{}, family: r.Table.Family}
	for _, e := range r.Exprs {
		rr.expr(e)
	}
	rr.flush()
	if c, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok && c != "" {
		rr.out = append(rr.out, "comment "+strconv.Quote(c))
	}
	return strings.Join(rr.out, " ")
}

// operand is what a register holds: its name in nft's syntax and how its
// value is written.
type operand struct {
	name   string
	format func(b []byte) string
	// mask is a bitwise mask applied to it (a prefix, ct state bits).
	mask []byte
	// ctState: the ct state key, matched through a mask of its bits.
	ctState bool
	// dep: a `meta l4proto` match that nft leaves implicit before a
	// transport header match.
	dep bool
	// raw holds an immediate value (NAT addresses and ports).
	raw []byte
}

type renderer struct {
	family nftables.TableFamily
	regs   map[uint32]operand
	out    []string
	// l4 is the protocol of a pending `meta l4proto X` match, written
	// only if no transport header match follows it; proto the last such
	// protocol, which names later transport matches.
	l4, proto string
}

func (rr *renderer) flush() {
	if rr.l4 != "" {
		rr.out = append(rr.out, "meta l4proto "+rr.l4)
		rr.l4 = ""
	}
}

func (rr *renderer) emit(s string) {
	rr.flush()
	rr.out = append(rr.out, s)
}

func (rr *renderer) expr(e expr.Any) {
	switch e := e.(type) {
	case *expr.Meta:
		if e.SourceRegister {
			rr.emit("meta " + metaName(e.Key) + " set " + rr.value(e.Register))
			return
		}
		rr.regs[e.Register] = operand{name: metaName(e.Key), format: metaFormat(e.Key), dep: e.Key == expr.MetaKeyL4PROTO}
	case *expr.Payload:
		rr.regs[e.DestRegister] = rr.payload(e)
	case *expr.Bitwise:
		o := rr.regs[e.SourceRegister]
		o.mask = e.Mask
		rr.regs[e.DestRegister] = o
	case *expr.Fib:
		name := "fib "
		switch {
		case e.FlagSADDR:
			name += "saddr"
		case e.FlagDADDR:
			name += "daddr"
		}
		if e.FlagIIF {
			name += " . iif"
		}
		if e.FlagOIF {
			name += " . oif"
		}
		format := hexFormat
		switch {
		case e.ResultADDRTYPE:
			name, format = name+" type", addrTypeFormat
		case e.ResultOIF:
			name += " oif"
		case e.ResultOIFNAME:
			name, format = name+" oifname", ifnameFormat
		}
		rr.regs[e.Register] = operand{name: name, format: format}
	case *expr.Ct:
		if e.SourceRegister {
			rr.emit("ct " + ctName(e.Key) + " set " + rr.value(e.Register))
			return
		}
		f := hexFormat
		if e.Key == expr.CtKeySTATE {
			f = ctStateFormat
		}
		rr.regs[e.Register] = operand{name: "ct " + ctName(e.Key), format: f, ctState: e.Key == expr.CtKeySTATE}
	case *expr.Immediate:
		rr.regs[e.Register] = operand{raw: e.Data, format: hexFormat}
	case *expr.Cmp:
		rr.cmp(e)
	case *expr.Lookup:
		o := rr.regs[e.SourceRegister]
		op := " @"
		if e.Invert {
			op = " != @"
		}
		if e.IsDestRegSet && e.DestRegister == 0 {
			op = " vmap @"
		}
		rr.emit(o.name + op + e.SetName)
	case *expr.Counter:
		// Left out: see renderRule.
	case *expr.Verdict:
		rr.emit(Verdict{Code: int32(e.Kind), Chain: e.Chain}.String())
	case *expr.NAT:
		rr.emit(rr.nat(e))
	case *expr.Masq:
		rr.emit("masquerade")
	case *expr.Reject:
		rr.emit("reject")
	case *expr.Log:
		s := "log"
		if len(e.Data) > 0 {
			s += " prefix " + strconv.Quote(string(e.Data))
		}
		rr.emit(s)
	case *expr.Notrack:
		rr.emit("notrack")
	case *expr.Match:
		rr.emit("xt match " + strconv.Quote(e.Name))
	case *expr.Target:
		rr.emit("xt target " + strconv.Quote(e.Name))
	default:
		rr.emit(fmt.Sprintf("[%T]", e))
	}
}

// payload names a header field nft knows by name: ip and ip6 addresses and
// the transport ports; others as @nh,OFFSET,BITS (nft's raw form).
func (rr *renderer) payload(e *expr.Payload) operand {
	switch e.Base {
	case expr.PayloadBaseNetworkHeader:
		switch {
		case e.Len == 4 && (e.Offset == 12 || e.Offset == 16):
			return operand{name: "ip " + pick(e.Offset == 12, "saddr", "daddr"), format: addrFormat}
		case e.Len == 16 && (e.Offset == 8 || e.Offset == 24):
			return operand{name: "ip6 " + pick(e.Offset == 8, "saddr", "daddr"), format: addrFormat}
		case e.Len == 1 && e.Offset == 9:
			return operand{name: "ip protocol", format: protoFormat}
		}
		return operand{name: fmt.Sprintf("@nh,%d,%d", e.Offset*8, e.Len*8), format: hexFormat}
	case expr.PayloadBaseTransportHeader:
		proto := rr.proto
		if proto == "" {
			proto = "th"
		}
		rr.l4 = "" // the match it depends on goes unsaid, as nft does
		icmp := proto == "icmp" || proto == "icmpv6"
		switch {
		case icmp && e.Len == 1 && e.Offset == 0:
			return operand{name: proto + " type", format: uintFormat}
		case icmp && e.Len == 2 && (e.Offset == 4 || e.Offset == 6):
			return operand{name: proto + " " + pick(e.Offset == 4, "id", "sequence"), format: uintFormat}
		case !icmp && e.Len == 2 && (e.Offset == 0 || e.Offset == 2):
			return operand{name: proto + " " + pick(e.Offset == 0, "sport", "dport"), format: uintFormat}
		}
		return operand{name: fmt.Sprintf("@th,%d,%d", e.Offset*8, e.Len*8), format: hexFormat}
	}
	return operand{name: fmt.Sprintf("@ll,%d,%d", e.Offset*8, e.Len*8), format: hexFormat}
}

func (rr *renderer) cmp(e *expr.Cmp) {
	o := rr.regs[e.Register]
	if o.dep && e.Op == expr.CmpOpEq && len(e.Data) == 1 {
		rr.flush()
		rr.l4 = protoName(e.Data[0])
		rr.proto = rr.l4
		return
	}
	val := o.format(e.Data)
	if o.mask != nil {
		if o.ctState {
			// ct state & (bits) != 0: the bits are the states.
			rr.emit(o.name + " " + ctStateFormat(o.mask))
			return
		}
		if ones, ok := prefixLen(o.mask); ok {
			val += "/" + strconv.Itoa(ones)
		}
	}
	op := " "
	switch e.Op {
	case expr.CmpOpNeq:
		op = " != "
	case expr.CmpOpLt:
		op = " < "
	case expr.CmpOpLte:
		op = " <= "
	case expr.CmpOpGt:
		op = " > "
	case expr.CmpOpGte:
		op = " >= "
	}
	rr.emit(o.name + op + val)
}

// nat writes `dnat to ADDR:PORT`, `snat to ADDR`, `snat to :PORT`.
func (rr *renderer) nat(e *expr.NAT) string {
	kind := pick(e.Type == expr.NATTypeDestNAT, "dnat", "snat")
	var addr netip.Addr
	if e.RegAddrMin != 0 {
		addr, _ = netip.AddrFromSlice(rr.regs[e.RegAddrMin].raw)
	}
	var port uint16
	if e.RegProtoMin != 0 {
		if b := rr.regs[e.RegProtoMin].raw; len(b) >= 2 {
			port = binary.BigEndian.Uint16(b)
		}
	}
	switch {
	case addr.IsValid() && port != 0:
		return kind + " to " + netip.AddrPortFrom(addr, port).String()
	case addr.IsValid():
		return kind + " to " + addr.String()
	case port != 0:
		return kind + " to :" + strconv.Itoa(int(port))
	}
	return kind
}

// value writes a register's content for a `set` statement.
func (rr *renderer) value(reg uint32) string {
	o := rr.regs[reg]
	if len(o.raw) == 1 {
		return strconv.Itoa(int(o.raw[0]))
	}
	return hexFormat(o.raw)
}

func pick(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func metaName(k expr.MetaKey) string {
	switch k {
	case expr.MetaKeyIIFNAME:
		return "iifname"
	case expr.MetaKeyOIFNAME:
		return "oifname"
	case expr.MetaKeyIIF:
		return "iif"
	case expr.MetaKeyOIF:
		return "oif"
	case expr.MetaKeyL4PROTO:
		return "l4proto"
	case expr.MetaKeyNFPROTO:
		return "nfproto"
	case expr.MetaKeyMARK:
		return "mark"
	case expr.MetaKeyNFTRACE:
		return "nftrace"
	case expr.MetaKeyPROTOCOL:
		return "protocol"
	}
	return "key " + strconv.Itoa(int(k))
}

func metaFormat(k expr.MetaKey) func([]byte) string {
	switch k {
	case expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME:
		return ifnameFormat
	case expr.MetaKeyL4PROTO:
		return protoFormat
	case expr.MetaKeyNFPROTO:
		return func(b []byte) string {
			if len(b) == 1 && b[0] == unix.NFPROTO_IPV6 {
				return "ipv6"
			}
			return "ipv4"
		}
	}
	return uintFormat
}

func ctName(k expr.CtKey) string {
	switch k {
	case expr.CtKeySTATE:
		return "state"
	case expr.CtKeyMARK:
		return "mark"
	case expr.CtKeySTATUS:
		return "status"
	}
	return "key " + strconv.Itoa(int(k))
}

func ifnameFormat(b []byte) string {
	return strconv.Quote(strings.TrimRight(string(b), "\x00"))
}

func addrFormat(b []byte) string {
	if a, ok := netip.AddrFromSlice(b); ok {
		return a.String()
	}
	return hexFormat(b)
}

func protoFormat(b []byte) string {
	if len(b) == 1 {
		return protoName(b[0])
	}
	return hexFormat(b)
}

// uintFormat reads a big-endian (network order) number.
func uintFormat(b []byte) string {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return strconv.FormatUint(v, 10)
}

func hexFormat(b []byte) string {
	return fmt.Sprintf("0x%x", b)
}

// addrTypeFormat names a fib address type (host-endian, as nft keeps it).
func addrTypeFormat(b []byte) string {
	if len(b) != 4 {
		return hexFormat(b)
	}
	switch binary.NativeEndian.Uint32(b) {
	case unix.RTN_UNICAST:
		return "unicast"
	case unix.RTN_LOCAL:
		return "local"
	case unix.RTN_BROADCAST:
		return "broadcast"
	case unix.RTN_ANYCAST:
		return "anycast"
	case unix.RTN_MULTICAST:
		return "multicast"
	case unix.RTN_BLACKHOLE:
		return "blackhole"
	case unix.RTN_UNREACHABLE:
		return "unreachable"
	case unix.RTN_PROHIBIT:
		return "prohibit"
	}
	return hexFormat(b)
}

// ctStateFormat names conntrack state bits (host-endian).
func ctStateFormat(b []byte) string {
	if len(b) != 4 {
		return hexFormat(b)
	}
	v := binary.NativeEndian.Uint32(b)
	var names []string
	for _, s := range []struct {
		bit  uint32
		name string
	}{{expr.CtStateBitINVALID, "invalid"}, {expr.CtStateBitESTABLISHED, "established"}, {expr.CtStateBitRELATED, "related"},
		{expr.CtStateBitNEW, "new"}, {expr.CtStateBitUNTRACKED, "untracked"}} {
		if v&s.bit != 0 {
			names = append(names, s.name)
		}
	}
	if len(names) == 0 {
		return hexFormat(b)
	}
	return strings.Join(names, ",")
}

// prefixLen reads a netmask: its number of leading ones, when it is one.
func prefixLen(mask []byte) (int, bool) {
	ones, zero := 0, false
	for _, c := range mask {
		for bit := 7; bit >= 0; bit-- {
			set := c&(1<<bit) != 0
			if set && zero {
				return 0, false
			}
			if set {
				ones++
			} else {
				zero = true
			}
		}
	}
	return ones, true
}
