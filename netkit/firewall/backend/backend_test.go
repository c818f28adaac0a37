package backend

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/ports"
)

// TestSplit: a dual-stack container's bindings on IPv6 host addresses go
// with its IPv6 address; without one, all go with its IPv4 address.
func TestSplit(t *testing.T) {
	b := func(ip string) ports.Binding {
		var a netip.Addr
		if ip != "" {
			a = netip.MustParseAddr(ip)
		}
		return ports.Binding{HostIP: a, HostPort: 8080, Container: ports.Port{Num: 80, Proto: ports.TCP}}
	}
	bs := []ports.Binding{b("0.0.0.0"), b("::"), b("127.0.0.1"), b("::1")}
	bs4, bs6 := Split(netip.MustParseAddr("fd00:db8:1::2"), bs)
	assert.Equal(t, []ports.Binding{b("0.0.0.0"), b("127.0.0.1")}, bs4)
	assert.Equal(t, []ports.Binding{b("::"), b("::1")}, bs6)
	bs4, bs6 = Split(netip.Addr{}, bs)
	assert.Equal(t, bs, bs4)
	assert.Nil(t, bs6)

	assert.Equal(t, []ports.Binding{b("0.0.0.0"), b("127.0.0.1"), b("")}, bindingsOf(firewall.IPv4, append(bs, b(""))))
	assert.Equal(t, []ports.Binding{b("::"), b("::1"), b("")}, bindingsOf(firewall.IPv6, append(bs, b(""))))
}

// TestPublications: with nftables a :: binding pairs with the IPv6
// address when the container has one.
func TestPublications(t *testing.T) {
	n := firewall.Network{Bridge: "br-0123456789ab"}
	ctr, ctr6 := netip.MustParseAddr("172.18.0.2"), netip.MustParseAddr("fd00:db8:1::2")
	any4 := ports.Binding{HostIP: netip.IPv4Unspecified(), HostPort: 8080, Container: ports.Port{Num: 80, Proto: ports.TCP}}
	any6 := any4
	any6.HostIP = netip.IPv6Unspecified()
	got := publications(n, ctr, ctr6, []ports.Binding{any4, any6})
	assert.Equal(t, []netip.Addr{ctr, ctr6}, []netip.Addr{got[0].Addr, got[1].Addr})
	got = publications(n, ctr, netip.Addr{}, []ports.Binding{any4, any6})
	assert.Equal(t, []netip.Addr{ctr, ctr}, []netip.Addr{got[0].Addr, got[1].Addr})
}
