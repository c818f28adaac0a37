package checks

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vxlanPackets are VXLAN frames between two hosts as a tunnel made with `ip
// link add vxlan42 type vxlan id 42 ...` sends them: an ICMP echo and
// reply, an ARP request, a TCP SYN carried inside; a header without the I
// flag; a header cut short.
func vxlanPackets(t testing.TB) []Packet {
	t.Helper()
	outerA, outerB := net.HardwareAddr{2, 0, 0, 0, 0, 0x11}, net.HardwareAddr{2, 0, 0, 0, 0, 0x12}
	innerA, innerB := net.HardwareAddr{2, 0x42, 0, 0, 0, 2}, net.HardwareAddr{2, 0x42, 0, 0, 0, 3}
	h1, h2 := netip.MustParseAddr("192.168.50.11"), netip.MustParseAddr("192.168.50.12")
	c1, c2 := netip.MustParseAddr("10.42.0.2"), netip.MustParseAddr("10.42.0.3")
	ser := func(ls ...gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		for _, l := range ls {
			if n, ok := l.(interface {
				SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
			}); ok {
				for _, nl := range ls {
					if ip, ok := nl.(*layers.IPv4); ok {
						n.SetNetworkLayerForChecksum(ip)
					}
				}
			}
		}
		require.NoError(t, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...))
		return append([]byte(nil), buf.Bytes()...)
	}
	ip4 := func(src, dst netip.Addr, p layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: p, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	}
	inner := [][]byte{
		ser(&layers.Ethernet{SrcMAC: innerA, DstMAC: innerB, EthernetType: layers.EthernetTypeIPv4}, ip4(c1, c2, layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 7, Seq: 1}, gopacket.Payload(make([]byte, 56))),
		ser(&layers.Ethernet{SrcMAC: innerB, DstMAC: innerA, EthernetType: layers.EthernetTypeIPv4}, ip4(c2, c1, layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(0, 0), Id: 7, Seq: 1}, gopacket.Payload(make([]byte, 56))),
		ser(&layers.Ethernet{SrcMAC: innerA, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP},
			&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
				Operation: layers.ARPRequest, SourceHwAddress: innerA, SourceProtAddress: c1.AsSlice(), DstHwAddress: make([]byte, 6), DstProtAddress: c2.AsSlice()}),
		ser(&layers.Ethernet{SrcMAC: innerA, DstMAC: innerB, EthernetType: layers.EthernetTypeIPv4}, ip4(c1, c2, layers.IPProtocolTCP),
			&layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1000, SYN: true, Window: 64240}),
	}
	var pkts []Packet
	wrap := func(src, dst netip.Addr, sport uint16, hdr, payload []byte) {
		data := ser(&layers.Ethernet{SrcMAC: outerA, DstMAC: outerB, EthernetType: layers.EthernetTypeIPv4}, ip4(src, dst, layers.IPProtocolUDP),
			&layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: vxlanPort}, gopacket.Payload(append(append([]byte(nil), hdr...), payload...)))
		pkts = append(pkts, Packet{Data: data, Length: len(data)})
	}
	hdr := []byte{0x08, 0, 0, 0, 0, 0, 42, 0}
	wrap(h1, h2, 41000, hdr, inner[0])
	wrap(h2, h1, 52000, hdr, inner[1])
	wrap(h1, h2, 41001, hdr, inner[2])
	wrap(h1, h2, 41002, hdr, inner[3])
	wrap(h1, h2, 41003, []byte{0, 0, 0, 0, 0, 0x01, 0x00, 0}, inner[0])
	wrap(h1, h2, 41004, hdr[:5], nil)
	return pkts
}

// TestSummaryVXLAN: VXLAN is printed as tcpdump 4.99 prints it, the
// header on the outer packet's line and the frame it carries on the next
// (an ARP request padded to 60 bytes is 46 long); the installed tcpdump,
// when there is one, agrees.
func TestSummaryVXLAN(t *testing.T) {
	pkts := vxlanPackets(t)
	got := Summaries(pkts)
	assert.Equal(t, "IP 192.168.50.11.41000 > 192.168.50.12.4789: VXLAN, flags [I] (0x08), vni 42\n"+
		"IP 10.42.0.2 > 10.42.0.3: ICMP echo request, id 7, seq 1, length 64", got[0])
	assert.Equal(t, "IP 192.168.50.11.41001 > 192.168.50.12.4789: VXLAN, flags [I] (0x08), vni 42\n"+
		"ARP, Request who-has 10.42.0.3 tell 10.42.0.2, length 46", got[2])
	assert.Equal(t, "IP 192.168.50.11.41003 > 192.168.50.12.4789: VXLAN, flags [invalid] (0x00), vni 256\n"+
		"IP 10.42.0.2 > 10.42.0.3: ICMP echo request, id 7, seq 1, length 64", got[4])
	assert.True(t, strings.HasSuffix(got[5], ": VXLAN (invalid)"), got[5])
	if _, err := exec.LookPath("tcpdump"); err == nil {
		path := filepath.Join(t.TempDir(), "vxlan.pcap")
		var buf bytes.Buffer
		require.NoError(t, WritePcap(&buf, pkts))
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		compareLines(t, "tcpdump -n -t", got, string(tcpdumpRead(t, path, "-n", "-t")))
	}
}
