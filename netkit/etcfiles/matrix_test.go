package etcfiles

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
)

var update = flag.Bool("update", false, "rewrite testdata/matrix.golden")

// matrixReleases are the releases whose files differ: 20.10, 26.0 (the
// generated file), 27.0, 27.5 (the resolver skips its own address from
// 27.0.1), 28.0 (host() upstreams, parsed hosts addresses, new link
// order), 28.1 (no-upstream warning), 28.5, 29.0 (first-column comments,
// no link variables, unmapped --add-host).
var matrixReleases = []struct {
	name string
	r    release.Release
}{
	{"20.10", r2010}, {"26.0", release.Release{APIVersion: "1.45"}}, {"27.0", release.Release{APIVersion: "1.46"}},
	{"27.5", r27}, {"28.0", r280}, {"28.1", release.Release{Era: release.Era28, APIVersion: "1.49"}},
	{"28.5", r28}, {"29.0", r29},
}

const systemdStub = "# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\n" +
	"# Do not edit.\n\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n"

var matrixResolv = []struct {
	name string
	o    ResolvOptions
}{
	{"systemd stub, default bridge", ResolvOptions{Host: []byte(systemdStub)}},
	{"systemd stub, user network", ResolvOptions{Host: []byte(systemdStub), Resolver: Internal}},
	{"systemd stub, host network", ResolvOptions{Host: []byte(systemdStub), Resolver: HostNetwork}},
	{"routable and IPv6 nameservers, default bridge", ResolvOptions{Host: []byte("nameserver 10.0.0.1\nnameserver fd00::53\nsearch lan\n")}},
	{"routable and IPv6 nameservers, default bridge with IPv6",
		ResolvOptions{Host: []byte("nameserver 10.0.0.1\nnameserver fd00::53\nsearch lan\n"), IPv6: true}},
	{"routable and IPv6 nameservers, user network", ResolvOptions{Host: []byte("nameserver 10.0.0.1\nnameserver fd00::53\nsearch lan\n"), Resolver: Internal}},
	{"routable and IPv6 nameservers, user network with IPv6",
		ResolvOptions{Host: []byte("nameserver 10.0.0.1\nnameserver fd00::53\nsearch lan\n"), Resolver: Internal, IPv6: true}},
	{"no host file, default bridge", ResolvOptions{}},
	{"no host file, user network", ResolvOptions{Resolver: Internal}},
	{"empty host file, user network", ResolvOptions{Host: []byte{}, Resolver: Internal}},
	{"--dns 127.0.0.11 --dns 10.0.0.2 --dns-search . --dns-option ndots:x, user network", ResolvOptions{
		Host: []byte(systemdStub), Resolver: Internal, DNS: addrs("127.0.0.11", "10.0.0.2"),
		DNSSearch: []string{"."}, DNSOptions: []string{"ndots:x"}}},
	{"odd host file, default bridge", ResolvOptions{Host: []byte("  # indented\r\n;semi\r\ndomain a.example\r\n" +
		"nameserver 10.0.0.1 # trailing\r\nnameserver 1.2.3.4.5\r\noptions rotate\r\noptions timeout:1\r\nsortlist 10.0.0.0/8")}},
}

// matrix writes each scenario once per distinct output, headed by the
// releases that write it.
func matrix(t *testing.T) string {
	var b strings.Builder
	scenario := func(title string, out func(r release.Release) string) {
		var outs, names []string
		for _, mr := range matrixReleases {
			o := out(mr.r)
			if n := len(outs); n > 0 && outs[n-1] == o {
				names[n-1] += ", " + mr.name
				continue
			}
			outs, names = append(outs, o), append(names, mr.name)
		}
		for i, o := range outs {
			fmt.Fprintf(&b, "=== %s / %s\n%s", title, names[i], o)
			if len(o) > 0 && o[len(o)-1] != '\n' {
				b.WriteString("\n\\ no newline at end of file\n")
			}
		}
	}
	for _, sc := range matrixResolv {
		scenario("resolv.conf: "+sc.name, func(r release.Release) string {
			o := sc.o
			o.Release = r
			got := ResolvConf(o)
			if o.Resolver != Internal {
				return string(got.File)
			}
			return fmt.Sprintf("%s--- upstreams %v, user ndots %v, no resolver %v\n", got.File, got.Upstreams, got.UserNdots, got.NoResolver)
		})
	}
	own := addrs("172.17.0.3", "fd00::3")
	extra := func(r release.Release) []Record {
		recs, err := ExtraRecords(r, []string{"host.docker.internal:host-gateway", "z:0:0::1"}, addrs("172.17.0.1", "fd00::1"))
		require.NoError(t, err)
		return append(recs, LinkRecord(netip.MustParseAddr("172.17.0.2"), "web", "5c1d2e3f4a5b", "/w"))
	}
	scenario("hosts: add-host, host-gateway, link", func(r release.Release) string {
		return string(Hosts(HostsOptions{Release: r, Extra: extra(r), Own: own, Hostname: "c1", Domainname: "invalid"}))
	})
	scenario("hosts: the same without IPv6", func(r release.Release) string {
		return string(Hosts(HostsOptions{Release: r, Extra: extra(r), Own: own, Hostname: "c1", Domainname: "invalid", NoIPv6: true}))
	})
	scenario("link env: --link db:db-1", func(r release.Release) string {
		env := LinkEnv(r, "db-1", "/app", netip.MustParseAddr("172.17.0.2"),
			[]ports.Port{tcp(5433), tcp(5432), udp(5434), tcp(9000)}, []string{"HOME=/root", "PGDATA=/data"})
		return strings.Join(append(env, ""), "\n")
	})
	return b.String()
}

// TestMatrix writes every release's files for a set of containers into
// testdata/matrix.golden, so that a change of format shows as a diff: run
// go test ./netkit/etcfiles -run TestMatrix -args -update and read the diff.
func TestMatrix(t *testing.T) {
	got := matrix(t)
	path := filepath.Join("testdata", "matrix.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
}
