package etcfiles

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/release"
)

const defaultsV6 = "::1\tlocalhost ip6-localhost ip6-loopback\nfe00::\tip6-localnet\nff00::\tip6-mcastprefix\n" +
	"ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"

// TestHostsFacts checks the project's facts (§1.3, §1.8, §1.9), checked
// there against real 28.5.2 and 29.8.1.
func TestHostsFacts(t *testing.T) {
	gw := addrs("172.17.0.1")
	for _, tc := range []struct {
		name     string
		releases []release.Release
		o        HostsOptions
		extra    []string
		gw       []netip.Addr
		want     string
	}{
		{
			name: "default", releases: []release.Release{r28, r29},
			o:    HostsOptions{Own: addrs("172.18.0.2"), Hostname: "3f1c0a9e2b7d"},
			want: "127.0.0.1\tlocalhost\n" + defaultsV6 + "172.18.0.2\t3f1c0a9e2b7d\n",
		},
		{
			name: "default, 27 and 20.10", releases: []release.Release{r2010, r27},
			o: HostsOptions{Own: addrs("172.18.0.2"), Hostname: "3f1c0a9e2b7d"},
			want: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n" +
				"ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n172.18.0.2\t3f1c0a9e2b7d\n",
		},
		{
			name: "-h webhost", releases: []release.Release{r28, r29},
			o:    HostsOptions{Own: addrs("172.18.0.2"), Hostname: "webhost"},
			want: "127.0.0.1\tlocalhost\n" + defaultsV6 + "172.18.0.2\twebhost\n",
		},
		{
			name: "-h c1.invalid", releases: []release.Release{r28, r29},
			o:    HostsOptions{Own: addrs("192.168.123.2"), Hostname: "c1.invalid"},
			want: "127.0.0.1\tlocalhost\n" + defaultsV6 + "192.168.123.2\tc1.invalid c1\n",
		},
		{
			name: "-h c1 --domainname invalid", releases: []release.Release{r2010, r27, r28, r29},
			o:    HostsOptions{Own: addrs("172.18.0.2"), Hostname: "c1", Domainname: "invalid", Release: r28},
			want: "c1.invalid c1\n",
		},
		{
			name: "add-host forms and host-gateway", releases: []release.Release{r28, r29},
			o:     HostsOptions{Own: addrs("172.17.0.3"), Hostname: "abc"},
			extra: []string{"a:10.0.0.1", "b:::1", "host.docker.internal:host-gateway", "a:10.0.0.2"}, gw: gw,
			want: "127.0.0.1\tlocalhost\n" + defaultsV6 + "10.0.0.1\ta\n::1\tb\n172.17.0.1\thost.docker.internal\n" +
				"10.0.0.2\ta\n172.17.0.3\tabc\n",
		},
		{
			name: "host-gateway with IPv6", releases: []release.Release{r28, r29},
			o:     HostsOptions{},
			extra: []string{"gw:host-gateway"}, gw: addrs("172.17.0.1", "2001:db8:1::1"),
			want: "127.0.0.1\tlocalhost\n" + defaultsV6 + "172.17.0.1\tgw\n2001:db8:1::1\tgw\n",
		},
		{
			name: "host-gateway with IPv6, 27", releases: []release.Release{r27},
			o:     HostsOptions{Release: r28},
			extra: []string{"gw:host-gateway"}, gw: addrs("172.17.0.1", "2001:db8:1::1"),
			want: "172.17.0.1\tgw\n",
		},
		{
			name: "NoIPv6", releases: []release.Release{r28, r29},
			o: HostsOptions{NoIPv6: true, Own: addrs("172.17.0.2", "2001:db8::2"), Hostname: "abc",
				Extra: []Record{{Addr: netip.MustParseAddr("2001:db8::9"), Names: []string{"v6"}}, {Addr: netip.MustParseAddr("10.0.0.9"), Names: []string{"v4"}}}},
			want: "127.0.0.1\tlocalhost\n10.0.0.9\tv4\n172.17.0.2\tabc\n",
		},
		{
			name: "NoIPv6 unknown to 20.10", releases: []release.Release{r2010},
			o: HostsOptions{NoIPv6: true, Own: addrs("172.17.0.2"), Hostname: "abc"},
			want: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n" +
				"ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n172.17.0.2\tabc\n",
		},
		{
			name: "host network copy", releases: []release.Release{r2010, r27, r28, r29},
			o:    HostsOptions{HostNetwork: true, Host: []byte("127.0.0.1 localhost\n# mine\n10.1.1.1 box"), Own: addrs("10.9.9.9")},
			want: "127.0.0.1 localhost\n# mine\n10.1.1.1 box",
		},
		{
			name: "host network with add-host", releases: []release.Release{r28, r29},
			o:     HostsOptions{HostNetwork: true, Host: []byte("127.0.0.1 localhost\n"), Hostname: "box", Own: addrs("10.9.9.9")},
			extra: []string{"x:10.9.8.7"},
			want:  "127.0.0.1\tlocalhost\n" + defaultsV6 + "10.9.8.7\tx\n",
		},
		{
			name: "links after add-hosts", releases: []release.Release{r28, r29},
			o: HostsOptions{Own: addrs("172.17.0.3"), Hostname: "c0ffee000000", Extra: []Record{
				LinkRecord(netip.MustParseAddr("172.17.0.2"), "web", "5c1d2e3f4a5b", "/w"),
				LinkRecord(netip.MustParseAddr("172.17.0.4"), "ww", "6d2e3f4a5b6c", "/ww"),
			}},
			extra: []string{"a:10.0.0.1"},
			want: "127.0.0.1\tlocalhost\n" + defaultsV6 + "10.0.0.1\ta\n172.17.0.2\tweb 5c1d2e3f4a5b w\n" +
				"172.17.0.4\tww 6d2e3f4a5b6c\n172.17.0.3\tc0ffee000000\n",
		},
	} {
		for _, r := range tc.releases {
			t.Run(tc.name+"/"+r.APIVersion+r.Era.String(), func(t *testing.T) {
				o := tc.o
				o.Release = r
				recs, err := ExtraRecords(r, tc.extra, tc.gw)
				require.NoError(t, err)
				o.Extra = append(recs, o.Extra...)
				got := string(Hosts(o))
				if strings.Contains(tc.want, "\tlocalhost") || tc.o.HostNetwork {
					assert.Equal(t, tc.want, got)
				} else {
					assert.True(t, strings.HasSuffix(got, tc.want), "%q does not end with %q", got, tc.want)
				}
			})
		}
	}
}

// TestMobyEtcHostsDisconnect checks moby's own goldens of
// integration/networking/etchosts_test.go TestEtcHostsDisconnect (v28.5.2,
// the same as docker-v29.7.2): a container on two IPv6 networks, connected
// and disconnected; the file lists the networks' addresses in join order.
func TestMobyEtcHostsDisconnect(t *testing.T) {
	net1, net2 := addrs("192.168.123.2", "fde6:be58:aedf::2"), addrs("192.168.124.2", "fdd2:c4e3:c4d5::2")
	extra, err := ExtraRecords(r28, []string{"otherhost.invalid:192.0.2.3", "otherhost.invalid:2001:db8::1234"}, nil)
	require.NoError(t, err)
	for i, own := range [][]netip.Addr{append(net1, net2...), net2, append(net2, net1...), net2, nil} {
		for _, r := range []release.Release{r28, r29} {
			got := Hosts(HostsOptions{Release: r, Extra: extra, Own: own, Hostname: "c1.invalid"})
			assert.Equal(t, mobyGolden(t, "v28.5.2", "TestEtcHostsDisconnect"+string(rune('1'+i))), string(got), "step %d", i+1)
		}
	}
}

func TestHostname(t *testing.T) {
	assert.Equal(t, "3f1c0a9e2b7d\n", string(Hostname("3f1c0a9e2b7d")))
	assert.Equal(t, "c1.invalid\n", string(Hostname("c1.invalid")))
}

func TestLinkRecord(t *testing.T) {
	a := netip.MustParseAddr("172.17.0.2")
	assert.Equal(t, "172.17.0.2\tweb 5c1d2e3f4a5b w", LinkRecord(a, "web", "5c1d2e3f4a5b", "/w").String())
	assert.Equal(t, "172.17.0.2\tww 5c1d2e3f4a5b", LinkRecord(a, "ww", "5c1d2e3f4a5b", "ww").String())
}

func TestParseExtraHost(t *testing.T) {
	for in, want := range map[string]string{
		"name:10.0.0.1": "name:10.0.0.1", "name=10.0.0.1": "name:10.0.0.1", "name:::1": "name:::1",
		"name=::1": "name:::1", "name=[::1]": "name:::1", "name=[10.0.0.1]": "name:10.0.0.1",
		"gw:host-gateway": "gw:host-gateway", "gw=host-gateway": "gw:host-gateway",
		"name:0:0::1": "name:0:0::1", "a b= 10.0.0.1": "a b: 10.0.0.1", "name:[::1]": "name:::1",
	} {
		got, err := ParseExtraHost(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for in, msg := range map[string]string{
		"nocolon":         `bad format for add-host: "nocolon"`,
		":10.0.0.1":       `bad format for add-host: ":10.0.0.1"`,
		"=10.0.0.1":       `bad format for add-host: "=10.0.0.1"`,
		"a:b=10.0.0.1":    `bad format for add-host: "a:b=10.0.0.1"`,
		"name:notanip":    `invalid IP address in add-host: "notanip"`,
		"name=[::1":       `invalid IP address in add-host: "[::1"`,
		"name=a=1.2.3.4":  `invalid IP address in add-host: "a=1.2.3.4"`,
		"name:":           `invalid IP address in add-host: ""`,
		"name:fe80::1%lo": `invalid IP address in add-host: "fe80::1%lo"`,
		"name=[]":         `invalid IP address in add-host: "[]"`,
	} {
		_, err := ParseExtraHost(in)
		require.Error(t, err, in)
		assert.Equal(t, msg, err.Error(), in)
		assert.ErrorIs(t, err, ErrInvalidExtraHost, in)
		var he *ExtraHostError
		assert.True(t, errors.As(err, &he), in)
	}
}

func TestExtraRecordsReleases(t *testing.T) {
	extra := []string{"m:::ffff:10.0.0.1", "z:0:0::1", "s: 10.0.0.2"}
	write := func(recs []Record) string {
		var s []string
		for _, r := range recs {
			s = append(s, r.String())
		}
		return strings.Join(s, "|")
	}
	recs, err := ExtraRecords(r27, extra, nil)
	require.NoError(t, err)
	assert.Equal(t, "::ffff:10.0.0.1\tm|0:0::1\tz| 10.0.0.2\ts", write(recs), "27 writes them as given")
	assert.Equal(t, "127.0.0.1\tlocalhost\n 10.0.0.2\ts\n", string(Hosts(HostsOptions{Release: r27, NoIPv6: true, Extra: recs})),
		"27's BuildNoIPv6 keeps what netip cannot read")

	_, err = ExtraRecords(r28, extra, nil)
	require.Error(t, err, "28 refuses to start")
	assert.True(t, strings.HasPrefix(err.Error(), "could not parse extra host IP  10.0.0.2: "), err.Error())
	recs, err = ExtraRecords(r28, extra[:2], nil)
	require.NoError(t, err)
	assert.Equal(t, "::ffff:10.0.0.1\tm|::1\tz", write(recs))

	recs, err = ExtraRecords(r29, extra, addrs("::ffff:172.17.0.1"))
	require.NoError(t, err)
	assert.Equal(t, "10.0.0.1\tm|::1\tz", write(recs), "29 unmaps and leaves out")

	_, err = ExtraRecords(r29, []string{"gw:host-gateway"}, nil)
	assert.ErrorIs(t, err, ErrNoHostGateway)
	assert.Equal(t, "unable to derive the IP value for host-gateway", err.Error())
	_, err = ExtraRecords(r29, []string{"gw=10.0.0.1"}, nil)
	assert.Equal(t, `bad format for add-host: "gw=10.0.0.1"`, err.Error())
	_, err = ExtraRecords(r29, []string{"gw:nope"}, nil)
	assert.Equal(t, `invalid IP address in add-host: "nope"`, err.Error())
}
