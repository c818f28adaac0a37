package release

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEtcReleases checks the releases whose /etc files changed: the last
// API version with the old format and the first with the new one.
func TestEtcReleases(t *testing.T) {
	for _, tc := range []struct {
		name        string
		has         func(Release) bool
		lastWithout string
	}{
		{"ResolvConfGenerated", Release.ResolvConfGenerated, "1.44"},
		{"ResolverSkipsOwnAddress", Release.ResolverSkipsOwnAddress, "1.45"},
		{"HostNSUpstreams", Release.HostNSUpstreams, "1.47"},
		{"NoUpstreamsWarning", Release.NoUpstreamsWarning, "1.48"},
		{"ResolvCommentFirstColumn", Release.ResolvCommentFirstColumn, "1.51"},
		{"HostsNoIPv6", Release.HostsNoIPv6, "1.44"},
		{"HostsParsedAddrs", Release.HostsParsedAddrs, "1.47"},
		{"HostGatewayAll", Release.HostGatewayAll, "1.47"},
		{"ExtraHostsUnmapped", Release.ExtraHostsUnmapped, "1.51"},
		{"LinkEnvPortOrder", Release.LinkEnvPortOrder, "1.47"},
	} {
		n, ok := ParseAPIVersion(tc.lastWithout)
		require.True(t, ok, tc.lastWithout)
		assert.False(t, tc.has(Release{APIVersion: "1.41"}), "%s at 1.41 (20.10)", tc.name)
		assert.False(t, tc.has(Release{APIVersion: tc.lastWithout}), "%s at %s", tc.name, tc.lastWithout)
		assert.True(t, tc.has(Release{APIVersion: "1." + strconv.Itoa(n+1)}), "%s at 1.%d", tc.name, n+1)
		assert.True(t, tc.has(Release{Era: Era29}), "%s in era 29", tc.name)
	}
	for _, r := range []Release{{APIVersion: "1.41"}, {}, {Era: Era28}} {
		assert.True(t, r.LinkEnvVars(), "LinkEnvVars %+v", r)
	}
	assert.False(t, Release{Era: Era29}.LinkEnvVars(), "LinkEnvVars in 29")
}
