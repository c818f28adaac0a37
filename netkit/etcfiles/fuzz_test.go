package etcfiles

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/release"
)

var fuzzReleases = []release.Release{r2010, {APIVersion: "1.45"}, {APIVersion: "1.46"}, r27, r280,
	{Era: release.Era28, APIVersion: "1.49"}, r28, r29}

func FuzzParseExtraHost(f *testing.F) {
	for _, s := range []string{
		"name:10.0.0.1", "name=10.0.0.1", "name:::1", "name=::1", "name=[::1]", "name:[::1]", "gw:host-gateway",
		"gw=host-gateway", "nocolon", ":1.2.3.4", "=1.2.3.4", "a:b=1.2.3.4", "a b= 10.0.0.1", "name=[]", "name:",
		"x:::ffff:1.2.3.4", "x:0:0::1", "x:fe80::1%eth0", "x=[host-gateway]", "",
	} {
		f.Add(s)
	}
	gw := addrs("172.17.0.1", "fd00::1")
	f.Fuzz(func(t *testing.T, s string) {
		api, err := ParseExtraHost(s)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidExtraHost, "ParseExtraHost(%q)", s)
			var he *ExtraHostError
			require.True(t, errors.As(err, &he), "ParseExtraHost(%q): %T", s, err)
			require.True(t, strings.HasPrefix(he.Msg, "bad format for add-host: ") ||
				strings.HasPrefix(he.Msg, "invalid IP address in add-host: "), "ParseExtraHost(%q): %q", s, he.Msg)
			require.Empty(t, api)
			return
		}
		name, ip, ok := strings.Cut(api, ":")
		require.True(t, ok && name != "" && !strings.ContainsAny(name, ":"), "ParseExtraHost(%q) = %q", s, api)
		again, err := ParseExtraHost(api)
		require.NoError(t, err, "ParseExtraHost(%q) = %q, which it refuses", s, api)
		require.Equal(t, api, again, "ParseExtraHost(%q) = %q is not its own API form", s, api)
		// The daemon takes what the CLI gives it; only 28 refuses an
		// address netip cannot read.
		for _, r := range fuzzReleases {
			recs, err := ExtraRecords(r, []string{api}, gw)
			_, perr := netip.ParseAddr(ip)
			if r.HostsParsedAddrs() && !r.ExtraHostsUnmapped() && ip != HostGateway && perr != nil {
				require.ErrorIs(t, err, ErrInvalidExtraHost, "%+v ExtraRecords(%q)", r, api)
				continue
			}
			require.NoError(t, err, "%+v ExtraRecords(%q)", r, api)
			for _, rec := range recs {
				// Docker writes the name and, before 28, the address as
				// given, a newline in them included.
				require.Equal(t, []string{name}, rec.Names)
				if ip != HostGateway && !r.HostsParsedAddrs() {
					require.Equal(t, ip, rec.Literal)
				} else {
					require.True(t, rec.Addr.IsValid() && rec.Literal == "", "%+v %q: %+v", r, api, rec)
				}
			}
			hosts := Hosts(HostsOptions{Release: r, Extra: recs})
			require.True(t, bytes.HasSuffix(hosts, []byte("\n")))
		}
	})
}

// FuzzResolvConf feeds host files and overrides to every release: no
// panic; from 26.0 the file has the header, ends with a newline and its
// trailer, at least one nameserver line, and the embedded resolver's file
// exactly one, 127.0.0.11; 20.10's embedded resolver file starts with it.
func FuzzResolvConf(f *testing.F) {
	for _, s := range []struct {
		host, search, options string
	}{
		{"nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n", "", ""},
		{"nameserver 10.0.0.1\nnameserver fd00::1\nnameserver fe80::1%eth0\n", "a.example .", "ndots:2 rotate"},
		{"# c\n ; d\ndomain x\nsearch a b\noptions ndots:x\noptions ndots:-1 ndots:\nsortlist 1.2.3.4\r\n", ".", ""},
		{"nameserver 1.2.3.4.5\nnameserver\nnameserver010.0.0.1\nnameserver 127.0.0.1234\n \n", "", "ndots"},
		{"", "", ""},
		{"nameserver 127.0.0.11\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4", "", "nondots"},
	} {
		for res := 0; res < 3; res++ {
			f.Add([]byte(s.host), s.search, s.options, "", uint8(res), false)
			f.Add([]byte(s.host), s.search, s.options, "10.0.0.9 127.0.0.1 ::1", uint8(res), true)
		}
	}
	f.Fuzz(func(t *testing.T, host []byte, search, options, dns string, res uint8, ipv6 bool) {
		o := ResolvOptions{Host: host, Resolver: Resolver(res % 4), IPv6: ipv6,
			DNSSearch: strings.Fields(search), DNSOptions: strings.Fields(options)}
		for _, d := range strings.Fields(dns) {
			if a, err := netip.ParseAddr(d); err == nil {
				o.DNS = append(o.DNS, a)
			}
		}
		for _, r := range fuzzReleases {
			o.Release = r
			got := ResolvConf(o)
			require.LessOrEqual(t, len(got.Upstreams), maxUpstreams)
			if o.Resolver != Internal {
				require.Empty(t, got.Upstreams)
				require.False(t, got.UserNdots || got.NoResolver)
			}
			lines := strings.Split(string(got.File), "\n")
			var ns []string
			for _, l := range lines {
				if strings.HasPrefix(l, "nameserver ") {
					ns = append(ns, l)
				}
			}
			if !r.ResolvConfGenerated() {
				if o.Resolver == Internal && !got.NoResolver {
					require.NotEmpty(t, ns, "%+v %q", r, got.File)
					require.Equal(t, "nameserver 127.0.0.11", ns[0], "%+v %q", r, got.File)
					require.True(t, bytes.HasSuffix(got.File, []byte("\n")), "%+v %q", r, got.File)
				}
				continue
			}
			require.False(t, got.NoResolver)
			require.True(t, bytes.HasPrefix(got.File, []byte(resolvHeader+"\n\n")), "%+v %q", r, got.File)
			require.True(t, bytes.HasSuffix(got.File, []byte("\n")), "%+v %q", r, got.File)
			require.Contains(t, string(got.File), "\n# Based on host file: '", "%+v", r)
			require.Contains(t, string(got.File), "\n# Overrides: [", "%+v", r)
			switch o.Resolver {
			case Internal:
				require.Equal(t, []string{"nameserver 127.0.0.11"}, ns, "%+v %q", r, got.File)
				require.Contains(t, string(got.File), "\noptions ", "%+v: no ndots option", r)
			case HostNetwork:
			default:
				require.NotEmpty(t, ns, "%+v %q", r, got.File)
			}
		}
	})
}
