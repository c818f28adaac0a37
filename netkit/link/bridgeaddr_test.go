package link

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
)

// TestSetBridgeIPv4 gives a bridge holding addresses a new one, as
// Docker 28.5.2 and 29.8.1 did to a docker0 made beforehand with the
// addresses have, started with --bip=want (seen on the engines: `ip -4
// addr show docker0` after dockerd started).
func TestSetBridgeIPv4(t *testing.T) {
	for _, tc := range []struct {
		name       string
		have       []string
		want       string
		afterwards []string
	}{
		{"no address", nil, "10.55.0.1/24", []string{"10.55.0.1/24"}},
		{"another subnet", []string{"172.17.0.1/16"}, "10.55.0.1/24", []string{"10.55.0.1/24"}},
		{"the same", []string{"10.55.0.1/24"}, "10.55.0.1/24", []string{"10.55.0.1/24"}},
		{"another host in the subnet", []string{"10.55.0.1/24"}, "10.55.0.5/24", []string{"10.55.0.5/24"}},
		{"the first of two goes", []string{"172.17.0.1/16", "10.66.0.1/24"}, "10.55.0.1/24", []string{"10.66.0.1/24", "10.55.0.1/24"}},
		{"one of two already", []string{"10.55.0.1/24", "10.66.0.1/24"}, "10.66.0.1/24", []string{"10.55.0.1/24", "10.66.0.1/24"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, h := testNS(t)
			require.NoError(t, h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "docker0"}}))
			br, err := h.LinkByName("docker0")
			require.NoError(t, err)
			for _, a := range tc.have {
				addr, err := netlink.ParseAddr(a)
				require.NoError(t, err)
				require.NoError(t, h.AddrAdd(br, addr))
			}
			require.NoError(t, SetBridgeIPv4(h, "docker0", netip.MustParsePrefix(tc.want)))
			addrs, err := h.AddrList(br, netlink.FAMILY_V4)
			require.NoError(t, err)
			var got []string
			for _, a := range addrs {
				got = append(got, a.IPNet.String())
			}
			assert.Equal(t, tc.afterwards, got)
		})
	}
}

func TestSetBridgeIPv4NoBridge(t *testing.T) {
	_, h := testNS(t)
	assert.ErrorContains(t, SetBridgeIPv4(h, "docker0", netip.MustParsePrefix("10.55.0.1/24")), "finding bridge docker0")
}
