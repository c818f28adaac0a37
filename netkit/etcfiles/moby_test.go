package etcfiles

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/release"
)

// The tests of this file run moby's own resolvconf test tables against
// moby's own golden files, copied unchanged into testdata/moby/<tag>/ from
// moby/moby libnetwork/internal/resolvconf/testdata (v27.5.1, the same as
// v26.0.0; v28.5.2, the same as docker-v29.7.2): the tables are
// resolvconf_test.go's TestRCTransformForIntNS, TestRCTransformForLegacyNw,
// TestRCUnknownDirectives and TestRCInvalidNS of each tag. Those tests set
// no header, so the header is cut from what generate writes.

var mobyTags = map[string]release.Release{
	"v27.5.1": {Era: release.Era27, APIVersion: "1.47"},
	"v28.5.2": {Era: release.Era28, APIVersion: "1.51"},
}

func mobyGolden(t *testing.T, tag, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "moby", tag, strings.ReplaceAll(name, " ", "_")+".golden"))
	require.NoError(t, err)
	return string(b)
}

func generated(rc *resolvConf) string {
	return strings.TrimPrefix(string(rc.generate()), resolvHeader+"\n\n")
}

func ups(hostNS bool, addrs ...string) []Upstream {
	var u []Upstream
	for _, a := range addrs {
		u = append(u, Upstream{Addr: netip.MustParseAddr(a), HostNS: hostNS})
	}
	return u
}

type intNSCase struct {
	name            string
	input           string
	ipv6            bool
	overrideNS      []string
	overrideOptions []string
	reqdOptions     []string
	ext             []Upstream
}

// intNSCases are moby's TestRCTransformForIntNS tables.
var intNSCases = map[string][]intNSCase{
	"v27.5.1": {
		{name: "IPv4 only", input: "nameserver 10.0.0.1", ext: ups(false, "10.0.0.1")},
		{name: "IPv4 and IPv6, ipv6 enabled", input: "nameserver 10.0.0.1\nnameserver fdb6:b8fe:b528::1", ipv6: true,
			ext: ups(false, "10.0.0.1", "fdb6:b8fe:b528::1")},
		{name: "IPv4 and IPv6, ipv6 disabled", input: "nameserver 10.0.0.1\nnameserver fdb6:b8fe:b528::1",
			ext: append(ups(false, "10.0.0.1"), ups(true, "fdb6:b8fe:b528::1")...)},
		{name: "IPv4 localhost", input: "nameserver 127.0.0.53", ext: ups(true, "127.0.0.53")},
		{name: "IPv4 localhost override", input: "nameserver 10.0.0.1", overrideNS: []string{"127.0.0.53"},
			ext: ups(false, "127.0.0.53")},
		{name: "IPv4 localhost, ipv6 enabled", input: "nameserver 127.0.0.53", ipv6: true, ext: ups(true, "127.0.0.53")},
		{name: "IPv6 addr, IPv6 enabled", input: "nameserver fd14:6e0e:f855::1", ipv6: true, ext: ups(false, "fd14:6e0e:f855::1")},
		{name: "IPv4 and IPv6 localhost, IPv6 disabled", input: "nameserver 127.0.0.53\nnameserver ::1",
			ext: ups(true, "127.0.0.53", "::1")},
		{name: "IPv4 and IPv6 localhost, ipv6 enabled", input: "nameserver 127.0.0.53\nnameserver ::1", ipv6: true,
			ext: ups(true, "127.0.0.53", "::1")},
		{name: "IPv4 localhost, IPv6 private, IPv6 enabled", input: "nameserver 127.0.0.53\nnameserver fd3e:2d1a:1f5a::1", ipv6: true,
			ext: append(ups(true, "127.0.0.53"), ups(false, "fd3e:2d1a:1f5a::1")...)},
		{name: "IPv4 localhost, IPv6 private, IPv6 disabled", input: "nameserver 127.0.0.53\nnameserver fd3e:2d1a:1f5a::1",
			ext: ups(true, "127.0.0.53", "fd3e:2d1a:1f5a::1")},
		{name: "No host nameserver, no iv6", ext: ups(false, "8.8.8.8", "8.8.4.4")},
		{name: "No host nameserver, iv6", ipv6: true, ext: ups(false, "8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844")},
		{name: "ndots present and required", input: "nameserver 127.0.0.53\noptions ndots:1", reqdOptions: []string{"ndots:0"},
			ext: ups(true, "127.0.0.53")},
		{name: "ndots missing but required", input: "nameserver 127.0.0.53", reqdOptions: []string{"ndots:0"}, ext: ups(true, "127.0.0.53")},
		{name: "ndots host, override and required", input: "nameserver 127.0.0.53", reqdOptions: []string{"ndots:0"},
			overrideOptions: []string{"ndots:2"}, ext: ups(true, "127.0.0.53")},
		{name: "Extra required options", input: "nameserver 127.0.0.53\noptions trust-ad",
			reqdOptions: []string{"ndots:0", "attempts:3", "edns0", "trust-ad"}, ext: ups(true, "127.0.0.53")},
	},
	"v28.5.2": {
		{name: "IPv4 only", input: "nameserver 10.0.0.1", ext: ups(true, "10.0.0.1")},
		{name: "IPv4 and IPv6, ipv6 enabled", input: "nameserver 10.0.0.1\nnameserver fdb6:b8fe:b528::1",
			ext: ups(true, "10.0.0.1", "fdb6:b8fe:b528::1")},
		{name: "IPv4 localhost", input: "nameserver 127.0.0.53", ext: ups(true, "127.0.0.53")},
		{name: "IPv4 localhost override", input: "nameserver 10.0.0.1", overrideNS: []string{"127.0.0.53"},
			ext: ups(false, "127.0.0.53")},
		{name: "IPv6 only", input: "nameserver fd14:6e0e:f855::1", ext: ups(true, "fd14:6e0e:f855::1")},
		{name: "IPv4 and IPv6 localhost", input: "nameserver 127.0.0.53\nnameserver ::1", ext: ups(true, "127.0.0.53", "::1")},
		{name: "ndots present and required", input: "nameserver 127.0.0.53\noptions ndots:1", reqdOptions: []string{"ndots:0"},
			ext: ups(true, "127.0.0.53")},
		{name: "ndots missing but required", input: "nameserver 127.0.0.53", reqdOptions: []string{"ndots:0"}, ext: ups(true, "127.0.0.53")},
		{name: "ndots host, override and required", input: "nameserver 127.0.0.53", reqdOptions: []string{"ndots:0"},
			overrideOptions: []string{"ndots:2"}, ext: ups(true, "127.0.0.53")},
		{name: "Extra required options", input: "nameserver 127.0.0.53\noptions trust-ad",
			reqdOptions: []string{"ndots:0", "attempts:3", "edns0", "trust-ad"}, ext: ups(true, "127.0.0.53")},
		{name: "No config"},
	},
}

func TestMobyTransformForIntNS(t *testing.T) {
	for tag, cases := range intNSCases {
		for _, tc := range cases {
			t.Run(tag+"/"+tc.name, func(t *testing.T) {
				rc := parseResolv([]byte(tc.input), false)
				rc.source = defaultPath
				var o ResolvOptions
				for _, a := range tc.overrideNS {
					o.DNS = append(o.DNS, netip.MustParseAddr(a))
				}
				o.DNSOptions = tc.overrideOptions
				rc.override(o)
				ext := rc.transformIntNS(mobyTags[tag], tc.ipv6, tc.reqdOptions)
				assert.Equal(t, mobyGolden(t, tag, "TestRCTransformForIntNS/"+tc.name), generated(rc))
				assert.Equal(t, tc.ext, ext, "ExtServers")
			})
		}
	}
}

func TestMobyTransformForLegacyNw(t *testing.T) {
	for _, tc := range []struct {
		name       string
		input      string
		ipv6       bool
		overrideNS []string
	}{
		{name: "Routable IPv4 only", input: "nameserver 10.0.0.1"},
		{name: "Routable IPv4 and IPv6, ipv6 enabled", input: "nameserver 10.0.0.1\nnameserver fdb6:b8fe:b528::1", ipv6: true},
		{name: "Routable IPv4 and IPv6, ipv6 disabled", input: "nameserver 10.0.0.1\nnameserver fdb6:b8fe:b528::1"},
		{name: "IPv4 localhost, ipv6 disabled", input: "nameserver 127.0.0.53"},
		{name: "IPv4 localhost, ipv6 enabled", input: "nameserver 127.0.0.53", ipv6: true},
		{name: "IPv4 and IPv6 localhost, ipv6 disabled", input: "nameserver 127.0.0.53\nnameserver ::1"},
		{name: "IPv4 and IPv6 localhost, ipv6 enabled", input: "nameserver 127.0.0.53\nnameserver ::1", ipv6: true},
		{name: "IPv4 localhost, IPv6 routeable, ipv6 enabled", input: "nameserver 127.0.0.53\nnameserver fd3e:2d1a:1f5a::1", ipv6: true},
		{name: "IPv4 localhost, IPv6 routeable, ipv6 disabled", input: "nameserver 127.0.0.53\nnameserver fd3e:2d1a:1f5a::1"},
		{name: "Override nameservers", input: "nameserver 127.0.0.53", overrideNS: []string{"127.0.0.1", "::1"}},
	} {
		for tag, r := range mobyTags {
			t.Run(tag+"/"+tc.name, func(t *testing.T) {
				o := ResolvOptions{Release: r, Host: []byte(tc.input), IPv6: tc.ipv6}
				for _, a := range tc.overrideNS {
					o.DNS = append(o.DNS, netip.MustParseAddr(a))
				}
				got := string(ResolvConf(o).File)
				require.True(t, strings.HasPrefix(got, resolvHeader+"\n\n"), "header:\n%s", got)
				assert.Equal(t, mobyGolden(t, tag, "TestRCTransformForLegacyNw/"+tc.name), strings.TrimPrefix(got, resolvHeader+"\n\n"))
			})
		}
	}
}

func TestMobyUnknownDirectivesAndInvalidNS(t *testing.T) {
	const input = `
something unexpected
nameserver 127.0.0.53
options ndots:1
unrecognised thing
`
	for tag := range mobyTags {
		rc := parseResolv([]byte(input), false)
		rc.source = defaultPath
		assert.Equal(t, mobyGolden(t, tag, "TestRCUnknownDirectives"), generated(rc), tag)
		rc = parseResolv([]byte("nameserver 1.2.3.4.5"), false)
		assert.Equal(t, mobyGolden(t, tag, "TestRCInvalidNS"), generated(rc), tag)
	}
}
