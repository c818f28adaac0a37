package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// This file decodes the kernel's trace events: the NFT_MSG_TRACE messages
// that nf_tables sends to the NFNLGRP_NFTRACE group for every rule, return
// and policy that a packet with nftrace set meets (the messages `nft
// monitor trace` prints; linux include/uapi/linux/netfilter/nf_tables.h,
// enum nft_trace_attributes, and net/netfilter/nf_tables_trace.c).

// Kind is what an event reports: a rule that matched (with its verdict),
// the end of a regular chain, or a base chain's policy.
type Kind uint8

// The kinds of event (enum nft_trace_types).
const (
	KindRule   Kind = unix.NFT_TRACETYPE_RULE
	KindReturn Kind = unix.NFT_TRACETYPE_RETURN
	KindPolicy Kind = unix.NFT_TRACETYPE_POLICY
)

// Verdict codes of nf_tables (include/uapi/linux/netfilter.h NF_DROP ...
// and nf_tables.h enum nft_verdicts).
const (
	verdictDrop     int32 = 0
	verdictAccept   int32 = 1
	verdictStolen   int32 = 2
	verdictQueue    int32 = 3
	verdictContinue int32 = -1
	verdictBreak    int32 = -2
	verdictJump     int32 = -3
	verdictGoto     int32 = -4
	verdictReturn   int32 = -5
)

// Verdict is what a rule, return or policy decided: a code and, for a jump
// or goto, the chain.
type Verdict struct {
	Code  int32
	Chain string
}

// String is the verdict as nft writes it: accept, drop, jump CHAIN, ...
func (v Verdict) String() string {
	switch v.Code & 0xff {
	case verdictDrop:
		return "drop"
	case verdictAccept:
		return "accept"
	case verdictStolen:
		return "stolen"
	case verdictQueue:
		return "queue"
	}
	switch v.Code {
	case verdictContinue:
		return "continue"
	case verdictBreak:
		return "break"
	case verdictJump:
		return "jump " + v.Chain
	case verdictGoto:
		return "goto " + v.Chain
	case verdictReturn:
		return "return"
	}
	return fmt.Sprintf("verdict %d", v.Code)
}

// Drops reports whether the verdict ends the packet (drop; a REJECT is a
// drop after sending its answer).
func (v Verdict) Drops() bool { return v.Code >= 0 && v.Code&0xff == verdictDrop }

// Event is one trace event of one namespace.
type Event struct {
	// ID groups the events of one packet's pass through one hook; the
	// kernel computes it from the packet, so it differs between
	// namespaces.
	ID uint32
	// Family is the table's family (unix.NFPROTO_IPV4, _IPV6, _INET,
	// _BRIDGE, ...); Table and Chain name where the event happened.
	Family       uint8
	Table, Chain string
	// Handle is the rule's handle, for KindRule (0 otherwise).
	Handle  uint64
	Kind    Kind
	Verdict Verdict
	// IIF and OIF are the input and output interfaces' indexes (0 when
	// the hook has none).
	IIF, OIF uint32
	// Proto is the packet's family (unix.NFPROTO_IPV4 or _IPV6).
	Proto uint8
	// Packet is the packet as it is at this event: the kernel sends its
	// headers with the first event of each base chain only, so later
	// events carry a copy of the last headers of the same ID.
	Packet Packet
	// Dumped is true when the kernel sent the headers with this event.
	Dumped bool
}

// Packet is what a trace event shows of a packet: its link-layer source
// and its network and transport headers, decoded.
type Packet struct {
	// SrcMAC and DstMAC are the Ethernet addresses, when the event
	// carried the link-layer header (at prerouting and on bridges).
	SrcMAC, DstMAC string
	Src            netip.Addr
	Dst            netip.Addr
	// Proto is the transport protocol (unix.IPPROTO_TCP, ...).
	Proto uint8
	TTL   uint8
	// IPID is IPv4's identification field (0 for IPv6).
	IPID uint16
	// SPort and DPort are TCP's and UDP's ports.
	SPort, DPort uint16
	// TCP's flags, sequence and acknowledgement numbers.
	Flags    uint8
	Seq, Ack uint32
	// ICMP's (and ICMPv6's) type, code, and an echo's identifier and
	// sequence number.
	ICMPType, ICMPCode uint8
	EchoID, EchoSeq    uint16
}

// TCP flag bits.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// Valid reports whether the packet was decoded.
func (p Packet) Valid() bool { return p.Src.IsValid() }

// ports reports whether the packet's protocol has ports.
func (p Packet) ports() bool {
	return p.Proto == unix.IPPROTO_TCP || p.Proto == unix.IPPROTO_UDP || p.Proto == unix.IPPROTO_SCTP
}

// SrcEnd and DstEnd are the packet's source and destination: ADDR:PORT
// for a protocol with ports, ADDR otherwise.
func (p Packet) SrcEnd() string { return end(p.Src, p.SPort, p.ports()) }

// DstEnd is the destination as SrcEnd writes it.
func (p Packet) DstEnd() string { return end(p.Dst, p.DPort, p.ports()) }

func end(a netip.Addr, port uint16, withPort bool) string {
	if withPort {
		return netip.AddrPortFrom(a, port).String()
	}
	return a.String()
}

// ProtoName is the transport protocol's name.
func (p Packet) ProtoName() string { return protoName(p.Proto) }

func protoName(proto uint8) string {
	switch proto {
	case unix.IPPROTO_TCP:
		return "tcp"
	case unix.IPPROTO_UDP:
		return "udp"
	case unix.IPPROTO_ICMP:
		return "icmp"
	case unix.IPPROTO_ICMPV6:
		return "icmpv6"
	case unix.IPPROTO_SCTP:
		return "sctp"
	}
	return fmt.Sprintf("proto %d", proto)
}

// What names the packet: TCP's flags (SYN, SYN-ACK, RST, ...), an ICMP
// message's kind.
func (p Packet) What() string {
	switch p.Proto {
	case unix.IPPROTO_TCP:
		return tcpFlags(p.Flags)
	case unix.IPPROTO_ICMP:
		switch p.ICMPType {
		case 8:
			return "echo request"
		case 0:
			return "echo reply"
		}
		return fmt.Sprintf("type %d code %d", p.ICMPType, p.ICMPCode)
	case unix.IPPROTO_ICMPV6:
		switch p.ICMPType {
		case 128:
			return "echo request"
		case 129:
			return "echo reply"
		}
		return fmt.Sprintf("type %d code %d", p.ICMPType, p.ICMPCode)
	}
	return ""
}

// tcpFlags names the flag combinations a connection's first packets have.
func tcpFlags(f uint8) string {
	switch {
	case f&tcpSYN != 0 && f&tcpACK != 0:
		return "SYN-ACK"
	case f&tcpSYN != 0:
		return "SYN"
	case f&tcpRST != 0 && f&tcpACK != 0:
		return "RST-ACK"
	case f&tcpRST != 0:
		return "RST"
	case f&tcpFIN != 0:
		return "FIN"
	case f&tcpACK != 0:
		return "ACK"
	}
	return fmt.Sprintf("flags %#x", f)
}

// Describe is the packet in one line: "tcp 192.168.190.1:40000 >
// 192.168.190.128:801 SYN".
func (p Packet) Describe() string {
	s := p.ProtoName() + " " + p.SrcEnd() + " > " + p.DstEnd()
	if w := p.What(); w != "" {
		s += " " + w
	}
	return s
}

// errNotTrace is returned by decodeEvent for a message that is not a trace
// event.
var errNotTrace = errors.New("not a trace event")

// traceMsgType is the netlink message type of a trace event.
const traceMsgType = unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_TRACE

// decodeEvent decodes one netlink message of type traceMsgType: its
// nfgenmsg header (family, version, resource id) and its attributes.
func decodeEvent(typ uint16, data []byte) (Event, error) {
	var ev Event
	if typ != traceMsgType {
		return ev, errNotTrace
	}
	if len(data) < 4 {
		return ev, fmt.Errorf("decoding trace event: %d bytes, want at least 4", len(data))
	}
	ev.Family = data[0]
	ad, err := netlink.NewAttributeDecoder(data[4:])
	if err != nil {
		return ev, fmt.Errorf("decoding trace event: %w", err)
	}
	ad.ByteOrder = binary.BigEndian
	var ll, nh, th []byte
	var policy int32
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_TRACE_TABLE:
			ev.Table = ad.String()
		case unix.NFTA_TRACE_CHAIN:
			ev.Chain = ad.String()
		case unix.NFTA_TRACE_RULE_HANDLE:
			ev.Handle = ad.Uint64()
		case unix.NFTA_TRACE_TYPE:
			ev.Kind = Kind(ad.Uint32())
		case unix.NFTA_TRACE_VERDICT:
			ad.Nested(func(nd *netlink.AttributeDecoder) error {
				nd.ByteOrder = binary.BigEndian
				for nd.Next() {
					switch nd.Type() {
					case unix.NFTA_VERDICT_CODE:
						ev.Verdict.Code = int32(nd.Uint32())
					case unix.NFTA_VERDICT_CHAIN:
						ev.Verdict.Chain = nd.String()
					}
				}
				return nil
			})
		case unix.NFTA_TRACE_ID:
			ev.ID = ad.Uint32()
		case unix.NFTA_TRACE_LL_HEADER:
			ll = ad.Bytes()
		case unix.NFTA_TRACE_NETWORK_HEADER:
			nh = ad.Bytes()
		case unix.NFTA_TRACE_TRANSPORT_HEADER:
			th = ad.Bytes()
		case unix.NFTA_TRACE_IIF:
			ev.IIF = ad.Uint32()
		case unix.NFTA_TRACE_OIF:
			ev.OIF = ad.Uint32()
		case unix.NFTA_TRACE_NFPROTO:
			ev.Proto = uint8(ad.Uint32())
		case unix.NFTA_TRACE_POLICY:
			policy = int32(ad.Uint32())
		}
	}
	if err := ad.Err(); err != nil {
		return ev, fmt.Errorf("decoding trace event: %w", err)
	}
	if ev.Kind == KindPolicy {
		// A policy event carries the chain's policy, not a verdict.
		ev.Verdict = Verdict{Code: policy}
	}
	if nh != nil {
		ev.Packet = decodePacket(ll, nh, th)
		ev.Dumped = ev.Packet.Valid()
	}
	return ev, nil
}

// decodePacket reads the headers a trace event carries: the link-layer
// header (Ethernet, or absent), the network header (IPv4 or IPv6, up to
// the transport header) and the first bytes of the transport header.
func decodePacket(ll, nh, th []byte) Packet {
	var p Packet
	if len(ll) >= 12 {
		p.DstMAC, p.SrcMAC = macString(ll[0:6]), macString(ll[6:12])
	}
	switch {
	case len(nh) >= 20 && nh[0]>>4 == 4:
		p.Src = netip.AddrFrom4([4]byte(nh[12:16]))
		p.Dst = netip.AddrFrom4([4]byte(nh[16:20]))
		p.Proto = nh[9]
		p.TTL = nh[8]
		p.IPID = binary.BigEndian.Uint16(nh[4:6])
	case len(nh) >= 40 && nh[0]>>4 == 6:
		p.Src = netip.AddrFrom16([16]byte(nh[8:24]))
		p.Dst = netip.AddrFrom16([16]byte(nh[24:40]))
		p.Proto = nh[6]
		p.TTL = nh[7]
	default:
		return Packet{}
	}
	switch p.Proto {
	case unix.IPPROTO_TCP:
		if len(th) >= 14 {
			p.SPort = binary.BigEndian.Uint16(th[0:2])
			p.DPort = binary.BigEndian.Uint16(th[2:4])
			p.Seq = binary.BigEndian.Uint32(th[4:8])
			p.Ack = binary.BigEndian.Uint32(th[8:12])
			p.Flags = th[13]
		}
	case unix.IPPROTO_UDP, unix.IPPROTO_SCTP:
		if len(th) >= 4 {
			p.SPort = binary.BigEndian.Uint16(th[0:2])
			p.DPort = binary.BigEndian.Uint16(th[2:4])
		}
	case unix.IPPROTO_ICMP, unix.IPPROTO_ICMPV6:
		if len(th) >= 8 {
			p.ICMPType, p.ICMPCode = th[0], th[1]
			p.EchoID = binary.BigEndian.Uint16(th[4:6])
			p.EchoSeq = binary.BigEndian.Uint16(th[6:8])
		}
	}
	return p
}

func macString(b []byte) string {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 17)
	for i, c := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}
