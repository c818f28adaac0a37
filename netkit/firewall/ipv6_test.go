package firewall

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/release"
)

// The ip6tables rules: unit tests of the operations (the goldens of
// scenarios_test.go's ipv6 scenarios pin the resulting tables, era by
// era), and kernel tests of the IPv6 Programmer.

func configOf(e release.Era) Config {
	return Config{Release: release.Release{Era: e}, IPForwardFlipped: true}
}

// TestIPv6Sequence checks the ip6tables commands of docs/docker.md §1.5's
// example in era 28, network and container, command by command.
func TestIPv6Sequence(t *testing.T) {
	c := configOf(release.Era28)
	var got []string
	for _, ops := range [][]Op{c.AddNetwork6(v6Net), c.AddEndpoint(v6Net, ctr6), c.AddBindings(v6Net, ctr6, web)} {
		for _, o := range ops {
			assert.Equal(t, IPv6, o.Rule.Family, "%s", o)
			got = append(got, o.String())
		}
	}
	want := []string{
		"ip6tables -t nat -C POSTROUTING -s fd00:db8:1::/64 ! -o br-0123456789ab -j MASQUERADE || ip6tables -t nat -I POSTROUTING -s fd00:db8:1::/64 ! -o br-0123456789ab -j MASQUERADE",
		"ip6tables -t nat -C DOCKER -i br-0123456789ab -j RETURN || ip6tables -t nat -I DOCKER -i br-0123456789ab -j RETURN",
		"ip6tables -C DOCKER-FORWARD -i br-0123456789ab -j ACCEPT || ip6tables -A DOCKER-FORWARD -i br-0123456789ab -j ACCEPT",
		"ip6tables -C DOCKER ! -i br-0123456789ab -o br-0123456789ab -j DROP || ip6tables -A DOCKER ! -i br-0123456789ab -o br-0123456789ab -j DROP",
		"ip6tables -C DOCKER-CT -o br-0123456789ab -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT || ip6tables -A DOCKER-CT -o br-0123456789ab -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		"ip6tables -C DOCKER-BRIDGE -o br-0123456789ab -j DOCKER || ip6tables -A DOCKER-BRIDGE -o br-0123456789ab -j DOCKER",
		"ip6tables -C DOCKER-ISOLATION-STAGE-1 -i br-0123456789ab ! -o br-0123456789ab -j DOCKER-ISOLATION-STAGE-2 || ip6tables -A DOCKER-ISOLATION-STAGE-1 -i br-0123456789ab ! -o br-0123456789ab -j DOCKER-ISOLATION-STAGE-2",
		"ip6tables -C DOCKER-ISOLATION-STAGE-2 -o br-0123456789ab -j DROP || ip6tables -I DOCKER-ISOLATION-STAGE-2 -o br-0123456789ab -j DROP",
		"ip6tables -L DOCKER-USER >/dev/null 2>&1 || ip6tables -N DOCKER-USER",
		"ip6tables -D FORWARD -j DOCKER-USER; ip6tables -I FORWARD -j DOCKER-USER",
		"ip6tables -t raw -A PREROUTING -d fd00:db8:1::2/128 ! -i br-0123456789ab -j DROP",
		"ip6tables -t nat -A DOCKER ! -s fe80::/10 ! -i br-0123456789ab -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00:db8:1::2]:80",
		"ip6tables -I DOCKER -d fd00:db8:1::2/128 ! -i br-0123456789ab -o br-0123456789ab -p tcp -m tcp --dport 80 -j ACCEPT",
	}
	if !slices.Equal(got, want) {
		t.Errorf("sequence:\n%s", diff(strings.Join(want, "\n"), strings.Join(got, "\n")))
	}
}

// TestIPv6PerEra: what each era writes to ip6tables for an IPv4-only
// network, at start and for link-local sources.
func TestIPv6PerEra(t *testing.T) {
	for _, tc := range []struct {
		era                       release.Era
		isolatesIPv4, dropAtStart bool
		skipLinkLocal             bool
	}{
		{release.Era27, true, true, false},
		{release.Era28, false, false, true},
		{release.Era29, false, false, true},
	} {
		c := configOf(tc.era)
		// ≤27: docker0, IPv4 only, gets its ip6tables isolation rules.
		ops := c.AddNetwork6(docker0)
		assert.Equal(t, tc.isolatesIPv4, slices.ContainsFunc(ops, func(o Op) bool {
			return o.Rule.Chain == ChainIsolation1 && o.Rule.String() == "-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2"
		}), "era %s: ip6tables isolation of an IPv4-only network", tc.era)
		if !tc.isolatesIPv4 {
			assert.Empty(t, ops, "era %s: ip6tables rules of an IPv4-only network", tc.era)
			assert.Empty(t, c.RemoveNetwork6(docker0), "era %s", tc.era)
		}
		// ≤27: FORWARD DROP at start, whatever forwarding was; 28+ when
		// the first IPv6 network turns it on (ForwardDrop6).
		assert.Equal(t, tc.dropAtStart, slices.ContainsFunc(c.Start6(), func(o Op) bool { return o.Kind == Policy }),
			"era %s: policy at start", tc.era)
		dnat := c.AddBindings(v6Net, ctr6, web)[0]
		assert.Equal(t, tc.skipLinkLocal, strings.Contains(dnat.Rule.String(), "! -s fe80::/10"), "era %s: %s", tc.era, dnat)
		// The IPv4 builders are unchanged by Subnet6.
		assert.Equal(t, c.AddNetwork(withNet(v6Net, func(n *Network) { n.Subnet6 = netip.Prefix{} })), c.AddNetwork(v6Net), "era %s", tc.era)
	}
	p := ForwardDrop6()
	require.Len(t, p, 1)
	assert.Equal(t, "ip6tables -P FORWARD DROP", p[0].String())
}

// TestIPv6Off: --ip6tables=false leaves ip6tables alone and IPv4 as it
// was; --iptables=false leaves ip6tables on.
func TestIPv6Off(t *testing.T) {
	for _, e := range []release.Era{release.Era27, release.Era28, release.Era29} {
		off := configOf(e)
		off.NoIP6Tables = true
		for _, ops := range [][]Op{
			off.Start6(), off.AddNetwork6(v6Net), off.RemoveNetwork6(v6Net), off.AddNetwork6(docker0),
			off.AddEndpoint(v6Net, ctr6), off.RemoveEndpoint(v6Net, ctr6),
			off.AddBindings(v6Net, ctr6, web), off.RemoveBindings(v6Net, ctr6, web),
		} {
			assert.Empty(t, ops, "era %s: --ip6tables=false produced operations", e)
		}
		assert.Equal(t, configOf(e).Start(), off.Start(), "era %s: IPv4 start", e)
		assert.Equal(t, configOf(e).AddBindings(v6Net, ctr2, web), off.AddBindings(v6Net, ctr2, web), "era %s: IPv4 ports", e)

		no4 := configOf(e)
		no4.NoIPTables = true
		assert.Empty(t, no4.Start(), "era %s", e)
		assert.Equal(t, configOf(e).Start6(), no4.Start6(), "era %s: --iptables=false changed ip6tables", e)
		assert.NotEmpty(t, no4.AddBindings(v6Net, ctr6, web), "era %s", e)
	}
}

// TestIPv6Variants: bindings of the other family, host_ipv6, and the
// family of every rule.
func TestIPv6Variants(t *testing.T) {
	c := configOf(release.Era29)
	// An IPv4 host address for an IPv6 container: no rule (Docker refuses
	// or proxies it); a :: or zero host address: every address.
	assert.Empty(t, c.AddBindings(v6Net, ctr6, on("0.0.0.0", web)), "IPv4 host address, IPv6 container")
	assert.Equal(t, c.AddBindings(v6Net, ctr6, web), c.AddBindings(v6Net, ctr6, on("::", web)), ":: is every address")
	// An IPv6 container's port on an IPv4 network's builder gets IPv6
	// rules, an IPv4 one none of them.
	for _, o := range c.AddBindings(v6Net, ctr2, web) {
		assert.Equal(t, IPv4, o.Rule.Family, "%s", o)
	}
	// host_ipv6: SNAT instead of MASQUERADE.
	snat := withNet(v6Net, func(n *Network) { n.HostIPv6 = netip.MustParseAddr("2001:db8:190::128") })
	assert.Contains(t, opStrings(c.AddNetwork6(snat)),
		"ip6tables -t nat -C POSTROUTING -s fd00:db8:1::/64 ! -o br-0123456789ab -j SNAT --to-source 2001:db8:190::128 || ip6tables -t nat -I POSTROUTING -s fd00:db8:1::/64 ! -o br-0123456789ab -j SNAT --to-source 2001:db8:190::128")
	assert.NotContains(t, strings.Join(opStrings(c.AddNetwork(snat)), "\n"), "2001:db8:190::128", "host_ipv6 in iptables")
	// An IPv6 subnet given as Subnet is no IPv4 subnet.
	wrong := Network{Bridge: "br-x", Subnet: netip.MustParsePrefix("fd00::/64")}
	assert.Empty(t, c.AddNetwork(wrong), "IPv6 prefix in Subnet")
	assert.Empty(t, c.AddNetwork6(Network{Bridge: "br-x", Subnet6: netip.MustParsePrefix("10.0.0.0/8")}), "IPv4 prefix in Subnet6")
}

func opStrings(ops []Op) []string {
	var out []string
	for _, o := range ops {
		out = append(out, o.String())
	}
	return out
}

// TestProgrammerFamily: a Programmer refuses rules of the other family
// before it runs anything.
func TestProgrammerFamily(t *testing.T) {
	c := configOf(release.Era29)
	p4 := NewProgrammer(nil, Options{})
	p6 := NewProgrammer(nil, Options{Family: IPv6})
	assert.Equal(t, IPv4, p4.Family())
	assert.Equal(t, IPv6, p6.Family())
	assert.ErrorIs(t, p4.Apply(c.AddBindings(v6Net, ctr6, web)), ErrRuleset, "IPv6 rules to iptables")
	assert.ErrorIs(t, p6.Apply(c.Start()), ErrRuleset, "IPv4 rules to ip6tables")
	assert.ErrorIs(t, p6.Check(c.AddBindings(docker0, ctr1, web)), ErrRuleset, "checking IPv4 rules with ip6tables")
}

// TestKernelIPv6 applies an era's ip6tables operations with an IPv6
// Programmer: they land in ip6tables and not in iptables, a second start
// changes nothing, Check sees them, and Teardown leaves ip6tables as fresh.
func TestKernelIPv6(t *testing.T) {
	for _, e := range []release.Era{release.Era27, release.Era28, release.Era29} {
		t.Run(e.String(), func(t *testing.T) {
			t.Parallel()
			p := newFamilyProgrammer(t, IPv6)
			p4 := NewProgrammer(p.ns, Options{Logf: t.Logf})
			fresh4, fresh6 := save(t, p4, DefaultTables...), save(t, p, DefaultTables...)
			c := configOf(e)
			setup := [][]Op{c.Start6(), ForwardDrop6(), c.AddNetwork6(docker0), c.AddNetwork6(v6Net)}
			apply(t, p, setup)
			before := save(t, p)
			apply(t, p, setup)
			if after := save(t, p); after != before {
				t.Errorf("a second start changed the rules:\n%s", diff(before, after))
			}
			ports := append(c.AddEndpoint(v6Net, ctr6), c.AddBindings(v6Net, ctr6, web)...)
			apply(t, p, [][]Op{ports})
			assert.NoError(t, p.Check(concat(append(setup, ports))))
			assert.Contains(t, save(t, p), "--to-destination [fd00:db8:1::2]:80", "ip6tables-save")
			assert.Equal(t, fresh4, save(t, p4, DefaultTables...), "iptables changed by ip6tables operations")

			apply(t, p, [][]Op{append(c.RemoveBindings(v6Net, ctr6, web), c.RemoveEndpoint(v6Net, ctr6)...), c.RemoveNetwork6(v6Net)})
			require.NoError(t, p.Teardown(true))
			assert.Equal(t, fresh6, save(t, p, DefaultTables...), "after teardown: want a fresh namespace's ip6tables")
		})
	}
}

// docsIPv6Era27 is docs/docker.md §1.5 (a): Docker 27, docker0 and v6net
// with fd00:db8:1::2 publishing -p 8080:80, ip6tables-save -t of each
// table.
const docsIPv6Era27 = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o br-0123456789ab -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o br-0123456789ab -j DOCKER
-A FORWARD -i br-0123456789ab ! -o br-0123456789ab -j ACCEPT
-A FORWARD -i br-0123456789ab -o br-0123456789ab -j ACCEPT
-A DOCKER -d fd00:db8:1::2/128 ! -i br-0123456789ab -o br-0123456789ab -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i br-0123456789ab ! -o br-0123456789ab -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o br-0123456789ab -j DROP
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s fd00:db8:1::/64 ! -o br-0123456789ab -j MASQUERADE
-A POSTROUTING -s fd00:db8:1::2/128 -d fd00:db8:1::2/128 -p tcp -m tcp --dport 80 -j MASQUERADE
-A DOCKER -i br-0123456789ab -j RETURN
-A DOCKER ! -i br-0123456789ab -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00:db8:1::2]:80
COMMIT
`

// docsIPv6Era28 is §1.5 (b), abbreviated as the docs give it.
const docsIPv6Era28 = `*raw
-A PREROUTING -d fd00:db8:1::2/128 ! -i br-0123456789ab -j DROP
*filter
:FORWARD DROP [0:0]
:DOCKER - [0:0]
:DOCKER-BRIDGE - [0:0]
:DOCKER-CT - [0:0]
:DOCKER-FORWARD - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-FORWARD
-A DOCKER -d fd00:db8:1::2/128 ! -i br-0123456789ab -o br-0123456789ab -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER ! -i br-0123456789ab -o br-0123456789ab -j DROP
-A DOCKER-BRIDGE -o br-0123456789ab -j DOCKER
-A DOCKER-CT -o br-0123456789ab -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A DOCKER-FORWARD -j DOCKER-CT
-A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1
-A DOCKER-FORWARD -j DOCKER-BRIDGE
-A DOCKER-FORWARD -i br-0123456789ab -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i br-0123456789ab ! -o br-0123456789ab -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-2 -o br-0123456789ab -j DROP
*nat
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s fd00:db8:1::/64 ! -o br-0123456789ab -j MASQUERADE
-A DOCKER -i br-0123456789ab -j RETURN
-A DOCKER ! -s fe80::/10 ! -i br-0123456789ab -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00:db8:1::2]:80
`

// TestIPv6GoldensMatchDocs pins the ipv6 goldens to docs/docker.md §1.5:
// era 27's byte for byte, era 28's (the real engine's) on its -A lines,
// table headers and FORWARD policy.
func TestIPv6GoldensMatchDocs(t *testing.T) {
	skipWhileUpdating(t)
	if got := readGolden(t, "era27_ipv6"); got != docsIPv6Era27 {
		t.Errorf("era27_ipv6.golden differs from docs/docker.md §1.5 (a):\n%s", diff(docsIPv6Era27, got))
	}
	keep := func(s string) string {
		var out []string
		for l := range strings.Lines(s) {
			if strings.HasPrefix(l, "-A ") || strings.HasPrefix(l, "*") || strings.HasPrefix(l, ":FORWARD") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "")
	}
	if got, want := keep(readGolden(t, "era28_ipv6")), keep(docsIPv6Era28); got != want {
		t.Errorf("era28_ipv6.golden differs from docs/docker.md §1.5 (b):\n%s", diff(want, got))
	}
}
