package etcfiles

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFilterResolvDNS2010 runs libnetwork's own TestFilterResolvDns table
// (moby/libnetwork c5aa85f9b25f, the commit Docker 20.10.24 vendors,
// resolvconf/resolvconf_test.go).
func TestFilterResolvDNS2010(t *testing.T) {
	ns0 := "nameserver 10.16.60.14\nnameserver 10.16.60.21\n"
	for _, tc := range []struct {
		in, want string
		ipv6     bool
	}{
		{ns0, ns0, false},
		{"nameserver 10.16.60.14\nnameserver 10.16.60.21\nnameserver 127.0.0.1\n", ns0, false},
		{"nameserver 10.16.60.14\nnameserver 127.0.0.1\nnameserver 10.16.60.21\n", ns0, false},
		{"nameserver 127.0.1.1\nnameserver 10.16.60.14\nnameserver 10.16.60.21\n", ns0, false},
		{"nameserver ::1\nnameserver 10.16.60.14\nnameserver 127.0.2.1\nnameserver 10.16.60.21\n", ns0, false},
		{"nameserver 10.16.60.14\nnameserver ::1\nnameserver 10.16.60.21\nnameserver ::1", ns0, false},
		{"nameserver 10.16.60.14\nnameserver 2002:dead:beef::1\nnameserver 10.16.60.21\nnameserver ::1", ns0, false},
		{"nameserver 10.16.60.14\nnameserver FE80::BB1%1\nnameserver FE80::BB1%eth0\nnameserver 10.16.60.21\n", ns0, false},
		{"nameserver 10.16.60.14\nnameserver 2002:dead:beef::1\nnameserver 10.16.60.21\nnameserver ::1",
			"nameserver 10.16.60.14\nnameserver 2002:dead:beef::1\nnameserver 10.16.60.21\n", true},
		{"nameserver 127.0.0.1\nnameserver ::1\nnameserver 127.0.2.1",
			"\nnameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844", true},
		{"nameserver 127.0.0.1\nnameserver ::1\nnameserver 127.0.2.1", "\nnameserver 8.8.8.8\nnameserver 8.8.4.4", false},
	} {
		assert.Equal(t, tc.want, string(filterResolvDNS([]byte(tc.in), tc.ipv6)), "%q ipv6=%v", tc.in, tc.ipv6)
	}
}

// TestResolvConf2010 checks Docker 20.10's files (moby/moby v20.10.24
// sandbox_dns_unix.go setupDNS, updateDNS, rebuildDNS).
func TestResolvConf2010(t *testing.T) {
	systemd := "# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\n" +
		"nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n"
	for _, tc := range []struct {
		name       string
		o          ResolvOptions
		want       string
		ups        []Upstream
		ndots, off bool
	}{
		{
			name: "internal, systemd stub", o: ResolvOptions{Resolver: Internal, Host: []byte(systemd)},
			want: "nameserver 127.0.0.11\noptions edns0 trust-ad ndots:0\n", ups: ups(true, "127.0.0.53"),
		},
		{
			name: "internal, routable", o: ResolvOptions{Resolver: Internal, Host: []byte("nameserver 10.0.0.1\nsearch example.internal\n")},
			want: "search example.internal\nnameserver 127.0.0.11\noptions ndots:0\n", ups: ups(false, "10.0.0.1"),
		},
		{
			name: "internal, IPv6 nameserver listed with IPv6",
			o:    ResolvOptions{Resolver: Internal, IPv6: true, Host: []byte("nameserver 10.0.0.1\nnameserver fd00::53\n")},
			want: "nameserver 127.0.0.11\nnameserver fd00::53\noptions ndots:0\n", ups: ups(false, "10.0.0.1"),
		},
		{
			name: "internal, IPv6 nameserver dropped without IPv6",
			o:    ResolvOptions{Resolver: Internal, Host: []byte("nameserver 10.0.0.1\nnameserver fd00::53\n")},
			want: "nameserver 127.0.0.11\noptions ndots:0\n", ups: ups(false, "10.0.0.1"),
		},
		{
			name: "internal, no host nameserver", o: ResolvOptions{Resolver: Internal},
			want: "nameserver 127.0.0.11\noptions ndots:0\n", ups: ups(false, "8.8.8.8", "8.8.4.4"),
		},
		{
			name: "internal, overrides",
			o: ResolvOptions{Resolver: Internal, Host: []byte(systemd), DNS: addrs("192.168.190.2"),
				DNSSearch: []string{"lab.example"}, DNSOptions: []string{"ndots:2"}},
			want: "search lab.example\nnameserver 127.0.0.11\noptions ndots:2\n", ups: ups(false, "192.168.190.2"), ndots: true,
		},
		{
			// Only --dns-search: the host's nameservers, its 127.0.0.53
			// then queried from the container.
			name: "internal, search override only",
			o:    ResolvOptions{Resolver: Internal, Host: []byte(systemd), DNSSearch: []string{"lab.example"}},
			want: "search lab.example\nnameserver 127.0.0.11\noptions edns0 trust-ad ndots:0\n", ups: ups(false, "127.0.0.53"),
		},
		{
			name: "internal, host ndots", o: ResolvOptions{Resolver: Internal, Host: []byte("nameserver 10.0.0.1\noptions ndots:2\n")},
			want: "nameserver 127.0.0.11\noptions ndots:2\n", ups: ups(false, "10.0.0.1"), ndots: true,
		},
		{
			name: "internal, unreadable ndots: no resolver",
			o:    ResolvOptions{Resolver: Internal, Host: []byte("nameserver 127.0.0.53\nnameserver 10.0.0.1\noptions ndots:x\n")},
			want: "nameserver 10.0.0.1\noptions ndots:x\n", off: true,
		},
		{
			name: "legacy, host file copied", o: ResolvOptions{Host: []byte("# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch x\n")},
			want: "# comment\nnameserver 10.0.0.1\nsearch x\n",
		},
		{
			name: "legacy, defaults", o: ResolvOptions{Host: []byte(systemd)},
			want: "# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\n" +
				"options edns0 trust-ad\nsearch .\n\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n",
		},
		{
			name: "legacy, defaults with IPv6", o: ResolvOptions{IPv6: true},
			want: "\nnameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844",
		},
		{
			name: "legacy, overrides", o: ResolvOptions{Host: []byte(systemd), DNSSearch: []string{"."}, DNSOptions: []string{"rotate"}},
			want: "nameserver 127.0.0.53\noptions rotate\n",
		},
		{
			name: "host network copied", o: ResolvOptions{Resolver: HostNetwork, Host: []byte(systemd)},
			want: systemd,
		},
		{
			name: "host network with --dns", o: ResolvOptions{Resolver: HostNetwork, Host: []byte(systemd), DNS: addrs("1.1.1.1")},
			want: "nameserver 1.1.1.1\noptions edns0 trust-ad\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Release = r2010
			got := ResolvConf(o)
			assert.Equal(t, tc.want, string(got.File))
			assert.Equal(t, tc.ups, got.Upstreams, "upstreams")
			assert.Equal(t, tc.ndots, got.UserNdots, "UserNdots")
			assert.Equal(t, tc.off, got.NoResolver, "NoResolver")
		})
	}
}

func TestUserNdots2010(t *testing.T) {
	for _, tc := range []struct {
		opts    []string
		set, ok bool
	}{
		{nil, false, true}, {[]string{"edns0"}, false, true}, {[]string{"ndots:1", "ndots:x"}, true, true},
		{[]string{"ndots:0"}, true, true}, {[]string{"ndots"}, false, false}, {[]string{"ndots:-1"}, false, false},
		{[]string{"nondots"}, false, false}, {[]string{"ndots:1:2"}, false, false},
	} {
		set, ok := userNdots(tc.opts)
		assert.Equal(t, []bool{tc.set, tc.ok}, []bool{set, ok}, "%q", tc.opts)
	}
}
