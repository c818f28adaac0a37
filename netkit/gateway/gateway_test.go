package gateway

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestChoose(t *testing.T) {
	a := netip.MustParseAddr
	bridge := Endpoint{Network: "bridge", Ifname: "eth0", Gw4: a("172.17.0.1")}
	v6net := Endpoint{Network: "v6net", Ifname: "eth1", Gw4: a("172.18.0.1"), Gw6: a("fd00:db8:1::1")}
	app := Endpoint{Network: "app", Ifname: "eth1", Gw4: a("172.19.0.1")}
	only6 := Endpoint{Network: "a6", Ifname: "eth1", Gw6: a("fd00:db8:2::1")}
	internal := Endpoint{Network: "aaa", Ifname: "eth1", Internal: true, Gw4: a("172.20.0.1")}
	type want struct{ v4, v6 string }
	for _, c := range []struct {
		name   string
		eps    []Endpoint
		from28 bool
		want   want
		ports  int
	}{
		{"one network", []Endpoint{bridge}, true, want{"eth0", ""}, 0},
		// docker run -p on the default bridge, then network connect v6net:
		// from 28 the dual-stack network takes the routes and the ports.
		{"dual-stack joined later, 27", []Endpoint{bridge, v6net}, false, want{"eth0", ""}, 0},
		{"dual-stack joined later, 28", []Endpoint{bridge, v6net}, true, want{"eth1", "eth1"}, 1},
		{"dual-stack named first, 27", []Endpoint{v6net, app}, false, want{"eth1", ""}, 1},
		// Among equals, the network's name decides, not the join order.
		{"a network named before bridge", []Endpoint{bridge, app}, false, want{"eth1", ""}, 1},
		{"a network named before bridge, 28", []Endpoint{bridge, app}, true, want{"eth1", ""}, 1},
		{"internal sorts last, and has no gateway", []Endpoint{bridge, internal}, true, want{"eth0", ""}, 0},
		{"internal only", []Endpoint{internal}, true, want{"", ""}, -1},
		{"one of each family, 28", []Endpoint{bridge, only6}, true, want{"eth0", "eth1"}, 0},
		{"IPv6 only, 27", []Endpoint{only6}, false, want{"", ""}, -1},
		{"IPv6 only, 28", []Endpoint{only6}, true, want{"", "eth1"}, 0},
	} {
		ch := Choose(c.eps, c.from28)
		assert.Equal(t, c.want, want{ch.V4.Ifname, ch.V6.Ifname}, c.name)
		assert.Equal(t, c.ports, ch.Ports, c.name)
		if ch.V4.Ifname != "" {
			assert.True(t, ch.V4.Gw.Is4(), c.name)
		}
	}
	assert.Equal(t, []int{2, 0, 1}, Order([]Endpoint{bridge, internal, app}))
}
