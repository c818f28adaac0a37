package checks

import (
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Which layers a frame decoded.
const (
	hasEth = 1 << iota
	hasIP4
	hasIP6
	hasTCP
	hasUDP
	hasICMP4
	hasICMP6
	hasARP
	hasPayload
)

// frame decodes Ethernet frames into preallocated layers with a
// DecodingLayerParser, which is several times cheaper than
// gopacket.NewPacket and allocates nothing per packet. A frame is reused
// from one packet to the next and is not safe for concurrent use; its layers
// point into the decoded bytes.
type frame struct {
	eth     layers.Ethernet
	vlan    layers.Dot1Q
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	icmp4   layers.ICMPv4
	icmp6   layers.ICMPv6
	arp     layers.ARP
	payload gopacket.Payload

	parser  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
	has     int
}

func newFrame() *frame {
	f := &frame{}
	f.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet,
		&f.eth, &f.vlan, &f.ip4, &f.ip6, &f.tcp, &f.udp, &f.icmp4, &f.icmp6, &f.arp, &f.payload)
	// Stop quietly at layers it has no decoder for (ICMPv6 bodies, IPv4
	// fragments, other EtherTypes): what was decoded so far stays usable.
	f.parser.IgnoreUnsupported = true
	f.decoded = make([]gopacket.LayerType, 0, 8)
	return f
}

// decode decodes data, an Ethernet frame. A malformed layer ends decoding
// there; the layers before it stay valid.
func (f *frame) decode(data []byte) {
	f.has = 0
	_ = f.parser.DecodeLayers(data, &f.decoded)
	for _, t := range f.decoded {
		f.has |= layerBits[t]
	}
}

// layerBits maps each layer type decode records to its bit in frame.has;
// the others (802.1Q) have none.
var layerBits = map[gopacket.LayerType]int{
	layers.LayerTypeEthernet:  hasEth,
	layers.LayerTypeIPv4:      hasIP4,
	layers.LayerTypeIPv6:      hasIP6,
	layers.LayerTypeTCP:       hasTCP,
	layers.LayerTypeUDP:       hasUDP,
	layers.LayerTypeICMPv4:    hasICMP4,
	layers.LayerTypeICMPv6:    hasICMP6,
	layers.LayerTypeARP:       hasARP,
	gopacket.LayerTypePayload: hasPayload,
}

// addrs returns the frame's network addresses: the IP source and
// destination, or for ARP the sender and target protocol addresses.
func (f *frame) addrs() (src, dst netip.Addr, ok bool) {
	switch {
	case f.has&hasIP4 != 0:
		s, _ := netip.AddrFromSlice(f.ip4.SrcIP)
		d, _ := netip.AddrFromSlice(f.ip4.DstIP)
		return s, d, true
	case f.has&hasIP6 != 0:
		s, _ := netip.AddrFromSlice(f.ip6.SrcIP)
		d, _ := netip.AddrFromSlice(f.ip6.DstIP)
		return s, d, true
	case f.has&hasARP != 0:
		s, ok1 := netip.AddrFromSlice(f.arp.SourceProtAddress)
		d, ok2 := netip.AddrFromSlice(f.arp.DstProtAddress)
		return s, d, ok1 && ok2
	}
	return netip.Addr{}, netip.Addr{}, false
}

// proto returns the IP protocol number of an IP frame: the IPv4 protocol, or
// the IPv6 next header (after the hop-by-hop header, if there is one).
func (f *frame) proto() (uint8, bool) {
	switch {
	case f.has&hasIP4 != 0:
		return uint8(f.ip4.Protocol), true
	case f.has&hasIP6 != 0:
		if f.ip6.HopByHop != nil { // decoded as part of the IPv6 layer
			return uint8(f.ip6.HopByHop.NextHeader), true
		}
		return uint8(f.ip6.NextHeader), true
	}
	return 0, false
}

// ports returns the TCP or UDP ports, if the transport header decoded.
func (f *frame) ports() (src, dst uint16, ok bool) {
	switch {
	case f.has&hasTCP != 0:
		return uint16(f.tcp.SrcPort), uint16(f.tcp.DstPort), true
	case f.has&hasUDP != 0:
		return uint16(f.udp.SrcPort), uint16(f.udp.DstPort), true
	}
	return 0, 0, false
}

// ipPayloadLen is the length of the IP payload as the IP header declares it
// (not as captured): what tcpdump computes its lengths from.
func (f *frame) ipPayloadLen() int {
	switch {
	case f.has&hasIP4 != 0:
		return int(f.ip4.Length) - int(f.ip4.IHL)*4
	case f.has&hasIP6 != 0:
		n := int(f.ip6.Length)
		if f.ip6.HopByHop != nil {
			n -= f.ip6.HopByHop.ActualLength
		}
		return n
	}
	return 0
}
