package release

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIPv6Defaults: --ip6tables on and the ULA pool of user networks from
// 27.0, docker0's ULA with dockerd --ipv6 alone from 28.0.
func TestIPv6Defaults(t *testing.T) {
	for _, tc := range []struct {
		name        string
		has         func(Release) bool
		lastWithout string
	}{
		{"IP6TablesByDefault", Release.IP6TablesByDefault, "1.45"},
		{"ULAPool", Release.ULAPool, "1.45"},
		{"DefaultBridgeULA", Release.DefaultBridgeULA, "1.47"},
	} {
		n, ok := ParseAPIVersion(tc.lastWithout)
		require.True(t, ok, tc.lastWithout)
		assert.False(t, tc.has(Release{APIVersion: "1.41"}), "%s at 1.41 (20.10)", tc.name)
		assert.False(t, tc.has(Release{APIVersion: tc.lastWithout}), "%s at %s", tc.name, tc.lastWithout)
		assert.True(t, tc.has(Release{APIVersion: "1." + strconv.Itoa(n+1)}), "%s at 1.%d", tc.name, n+1)
		assert.True(t, tc.has(Release{Era: Era28}), "%s in era 28", tc.name)
	}
	assert.False(t, Release{}.DefaultBridgeULA(), "DefaultBridgeULA in era 27")
}

// TestIP6TablesSwitch: --ip6tables's default is the release's; given, it
// wins either way. The era questions of the bridge's and containers' IPv6.
func TestIP6TablesSwitch(t *testing.T) {
	old := Release{APIVersion: "1.45"}
	assert.False(t, old.IP6TablesOn(SwitchDefault))
	assert.True(t, old.IP6TablesOn(SwitchOn))
	assert.True(t, Release{}.IP6TablesOn(SwitchDefault))
	assert.False(t, Release{}.IP6TablesOn(SwitchOff))
	for _, tc := range []struct {
		r                       Release
		nodad, macAddrs, prefix bool
	}{
		{Release{}, false, true, true},
		{Release{Era: Era28}, true, false, false},
		{Release{Era: Era29}, true, false, false},
	} {
		assert.Equal(t, []bool{tc.nodad, tc.macAddrs, tc.prefix},
			[]bool{tc.r.BridgeNoDAD(), tc.r.MACDerivedIPv6(), tc.r.Gateway6WithPrefix()}, "era %v", tc.r.Era)
	}
}
