package release

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	for v, want := range map[string]Release{
		"27":             {Era: Era27},
		"28":             {Era: Era28},
		"29":             {Era: Era29},
		"20.10":          {Era: Era27, APIVersion: "1.41"},
		"20.10.24+dfsg1": {Era: Era27, APIVersion: "1.41"},
		"23":             {Era: Era27, APIVersion: "1.42"},
		"24.0.7":         {Era: Era27, APIVersion: "1.43"},
		"27.5.1":         {Era: Era27, APIVersion: "1.47"},
		"28.2.2":         {Era: Era28, APIVersion: "1.50"},
		"28.3":           {Era: Era28, APIVersion: "1.51"},
		"29.1.3":         {Era: Era29, APIVersion: "1.52"},
		"29.8.1":         {Era: Era29, APIVersion: "1.56"},
		"28.9":           {Era: Era28},
	} {
		got, ok := Parse(v)
		assert.True(t, ok, "Parse(%q) ok", v)
		assert.Equal(t, want, got, "Parse(%q)", v)
	}
	for _, v := range []string{"", "x", "19.03", "20", "20.9", "21", "22.06", "30", "1.41"} {
		got, ok := Parse(v)
		assert.False(t, ok, "Parse(%q) = %+v, want not ok", v, got)
	}
}

func TestParseCLI(t *testing.T) {
	for v, want := range map[string]Era{"20.10.24": Era27, "27": Era27, "28.2.2": Era28, "29": Era29, "31.0": Era29} {
		got, ok := ParseCLI(v)
		assert.True(t, ok, "ParseCLI(%q) ok", v)
		assert.Equal(t, want, got, "ParseCLI(%q)", v)
	}
	_, ok := ParseCLI("latest")
	assert.False(t, ok, `ParseCLI("latest") is ok`)
}

func TestAPI(t *testing.T) {
	for _, tc := range []struct {
		r    Release
		want int
	}{
		{Release{}, 47},
		{Release{Era: Era28}, 51},
		{Release{Era: Era29}, 52},
		{Release{APIVersion: "1.41"}, 41},
		{Release{Era: Era29, APIVersion: "1.57"}, 52}, // unknown: the era's newest
		{Release{Era: Era29, APIVersion: "1.56"}, 56}, // 29.8
		{Release{Era: Era(7)}, 47},
	} {
		assert.Equal(t, tc.want, tc.r.API(), "%+v.API()", tc.r)
	}
	assert.True(t, Release{APIVersion: "1.41"}.KeepSandbox(), "KeepSandbox is not API 1.41's")
	assert.False(t, Release{}.KeepSandbox(), "KeepSandbox is not API 1.41's alone")
	assert.False(t, Release{Era: Era28}.NFTables(), "NFTables is not era 29's alone")
	assert.True(t, Release{Era: Era29}.NFTables(), "NFTables is not era 29's")
}

func TestEraString(t *testing.T) {
	for e, want := range map[Era]string{Era27: "27", Era28: "28", Era29: "29", Era(5): "Era(5)"} {
		assert.Equal(t, want, e.String(), "%d.String()", int(e))
	}
}

func TestMinAPI(t *testing.T) {
	for _, tc := range []struct {
		r    Release
		want int
	}{
		{Release{APIVersion: "1.41"}, 12}, {Release{}, 24}, {Release{Era: Era28}, 24}, {Release{Era: Era29}, 40},
	} {
		assert.Equal(t, tc.want, tc.r.MinAPI(), "%+v", tc.r)
	}
}

func TestEra29Behaviours(t *testing.T) {
	for _, r := range []Release{{Era: Era27}, {Era: Era28}} {
		assert.False(t, r.SubnetGateway() || r.InternalExposed() || r.FailedStartNetworks(), "%+v", r)
		assert.False(t, r.LinksDeprecated() || r.AliasTexts29(), "%+v", r)
	}
	r := Release{Era: Era29}
	assert.True(t, r.SubnetGateway() && r.InternalExposed() && r.FailedStartNetworks(), "29")
	assert.True(t, r.LinksDeprecated() && r.AliasTexts29(), "29")
	assert.False(t, Release{Era: Era28, APIVersion: "1.51"}.AliasTexts29(), "28.5 (1.51)")
	assert.True(t, Release{Era: Era29, APIVersion: "1.52"}.AliasTexts29(), "29.0 (1.52)")
}

// TestTextReleases checks the releases whose error texts changed: the
// last API version with the old text and the first with the new one.
func TestTextReleases(t *testing.T) {
	for _, tc := range []struct {
		name        string
		has         func(Release) bool
		lastWithout string
	}{
		{"EndpointSettingsErrors", Release.EndpointSettingsErrors, "1.43"},
		{"PoolRequestPrefix", Release.PoolRequestPrefix, "1.45"},
		{"RemoveErrorNamed", Release.RemoveErrorNamed, "1.43"},
		{"RemoveErrorNamesRef", Release.RemoveErrorNamesRef, "1.49"},
	} {
		n, ok := ParseAPIVersion(tc.lastWithout)
		require.True(t, ok, tc.lastWithout)
		assert.False(t, tc.has(Release{APIVersion: "1.41"}), "%s at 1.41 (20.10)", tc.name)
		assert.False(t, tc.has(Release{APIVersion: tc.lastWithout}), "%s at %s", tc.name, tc.lastWithout)
		assert.True(t, tc.has(Release{APIVersion: "1." + strconv.Itoa(n+1)}), "%s at 1.%d", tc.name, n+1)
		assert.True(t, tc.has(Release{Era: Era28}), "%s in era 28", tc.name)
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"1.41", "1.41", 0}, {"1.9", "1.41", -1}, {"1.52", "1.41", 1}, {"1.52.0", "1.52", 0}, {"1", "1.24", -1}, {"2.0", "1.99", 1}} {
		assert.Equal(t, tc.want, CompareVersions(tc.a, tc.b), "%s vs %s", tc.a, tc.b)
	}
}

// TestMacAddress: where --mac-address shows, per engine release and client.
func TestMacAddress(t *testing.T) {
	r2010, _ := Parse("20.10")
	r28, _ := Parse("28.5.2")
	r29, _ := Parse("29.8.1")
	assert.False(t, r2010.EndpointMacAddress(), "20.10")
	assert.True(t, r28.EndpointMacAddress() && r29.EndpointMacAddress(), "28, 29")
	assert.True(t, r2010.ConfigMacAddress(41, false, true), "20.10 keeps the Config the CLI sent")
	assert.True(t, r28.ConfigMacAddress(50, true, false), "28, a bridge network, even without its entry")
	assert.False(t, r28.ConfigMacAddress(50, false, true), "28, host or none")
	assert.True(t, r29.ConfigMacAddress(50, true, true), "29 to CLI 28.2.2 (API 1.50)")
	assert.False(t, r29.ConfigMacAddress(52, true, true), "29 at its own API")
	assert.False(t, r29.ConfigMacAddress(50, true, false), "29, the network's entry gone (a failed start)")
}
