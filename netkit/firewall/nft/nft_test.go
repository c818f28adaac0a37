package nft

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from Build")

var (
	docker0 = firewall.Network{Bridge: "docker0", Subnet: netip.MustParsePrefix("172.17.0.0/16")}
	userNet = firewall.Network{Bridge: "br-0123456789ab", Subnet: netip.MustParsePrefix("172.18.0.0/16")}
	intNet  = firewall.Network{Bridge: "br-internal0001", Subnet: netip.MustParsePrefix("172.19.0.0/16"), Internal: true}

	ctr1 = netip.MustParseAddr("172.17.0.2")
	ctr2 = netip.MustParseAddr("172.18.0.2")
	ctr3 = netip.MustParseAddr("172.19.0.2")

	// v6Net is docker network create --ipv6 --subnet fd00:db8:1::/64
	// (its IPv4 subnet the default pools' next), bridge br-0123456789ab,
	// docs/docker.md §1.5's network.
	v6Net = firewall.Network{Bridge: "br-0123456789ab", Subnet: netip.MustParsePrefix("172.18.0.0/16"),
		Subnet6: netip.MustParsePrefix("fd00:db8:1::/64")}
	// v6SNAT is v6Net with com.docker.network.host_ipv6.
	v6SNAT = withNet(v6Net, func(n *firewall.Network) { n.HostIPv6 = netip.MustParseAddr("2001:db8:190::128") })
)

// container is a container of a scenario: its network, its address and
// its -p values, which the ports package parses as docker run does. On a
// network with IPv6 it also has the address of the same host number in
// the IPv6 subnet (addr6), as IPAM gives the first container of a network
// .2 and ::2.
type container struct {
	net     firewall.Network
	addr    netip.Addr
	publish []string
}

// addr6 is the container's IPv6 address, or the zero Addr on a network
// without IPv6.
func (c container) addr6() netip.Addr {
	if !c.net.Subnet6.IsValid() {
		return netip.Addr{}
	}
	a, h := c.net.Subnet6.Masked().Addr().As16(), c.addr.As4()
	copy(a[12:], h[:])
	for i, b := range c.net.Subnet.Masked().Addr().As4() {
		a[12+i] &^= b
	}
	return netip.AddrFrom16(a)
}

// scenario is an engine's state: its settings, its networks in creation
// order and its containers in start order.
type scenario struct {
	name     string
	noProxy  bool
	networks []firewall.Network
	ctrs     []container
}

// state is the scenario as the engine keeps it: each container's endpoints
// and then its bindings, sorted as Docker sorts them, a binding with no
// host address on 0.0.0.0 and on :: (netkit's Container.publish), those
// on an IPv6 host address to the container's IPv6 address if it has one.
func (s scenario) state(t *testing.T) State {
	t.Helper()
	st := State{Config: firewall.Config{NoUserlandProxy: s.noProxy}, Networks: s.networks}
	for _, c := range s.ctrs {
		ep := Endpoint{Bridge: c.net.Bridge, Addr: c.addr}
		ep6 := Endpoint{Bridge: c.net.Bridge, Addr: c.addr6()}
		st.Endpoints = append(st.Endpoints, ep)
		if ep6.Addr.IsValid() {
			st.Endpoints = append(st.Endpoints, ep6)
		}
		if c.net.Internal {
			continue // Docker maps no port on an internal network
		}
		var bs []ports.Binding
		for _, spec := range c.publish {
			b, err := ports.ParsePublish(spec)
			require.NoError(t, err)
			bs = append(bs, b...)
		}
		ports.Sort(bs)
		for _, b := range bs {
			ips := []netip.Addr{b.HostIP}
			if !b.HostIP.IsValid() {
				ips = []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}
			}
			for _, ip := range ips {
				pb := b
				pb.HostIP, pb.HostPortEnd = ip, 0
				to := ep
				if ip.Is6() && ep6.Addr.IsValid() {
					to = ep6
				}
				st.Ports = append(st.Ports, Publication{Endpoint: to, Binding: pb})
			}
		}
	}
	return st
}

// web publishes a plain port, a port on one host address, a port on a
// loopback address, a range and a UDP port.
var web = []string{"8080:80", "192.168.190.128:8081:80", "127.0.0.1:8082:80", "9800-9802:90-92", "5353:53/udp"}

// webNoProxy is web with a container port per host port.
var webNoProxy = []string{"8080:80", "192.168.190.128:8081:81", "127.0.0.1:8082:82", "9800-9802:90-92", "5353:53/udp"}

func withNet(n firewall.Network, f func(*firewall.Network)) firewall.Network {
	f(&n)
	return n
}

// scenarios are the states with golden files (testdata/NAME.golden). Each
// golden is what Docker 29.8.1 with --firewall-backend=nftables lists
// (`nft list ruleset`, nft 1.0.6) after the same commands, its bridges
// named as here: cmd/labrun/fidelity's TestNFTGoldens replays each on the
// real engine and compares its listing with the golden.
func scenarios() []scenario {
	noICC := withNet(docker0, func(n *firewall.Network) { n.NoICC = true })
	noMasq := withNet(docker0, func(n *firewall.Network) { n.NoIPMasq = true })
	snat := withNet(userNet, func(n *firewall.Network) { n.HostIPv4 = netip.MustParseAddr("192.168.190.128") })
	return []scenario{
		{name: "engine"},
		{name: "network", networks: []firewall.Network{docker0}},
		{name: "ports", networks: []firewall.Network{docker0}, ctrs: []container{{docker0, ctr1, web}}},
		// Each host port to a container port of its own: Docker 29.8.1
		// with the userland proxy off fails a container whose two host
		// ports map one container port (its second MASQ TO OWN PORT rule
		// "exists").
		{name: "noproxy", noProxy: true, networks: []firewall.Network{docker0}, ctrs: []container{{docker0, ctr1, webNoProxy}}},
		{name: "noicc", networks: []firewall.Network{noICC}, ctrs: []container{{noICC, ctr1, []string{"8080:80"}}}},
		{name: "nomasq", networks: []firewall.Network{noMasq}, ctrs: []container{{noMasq, ctr1, []string{"8080:80"}}}},
		{name: "internal", networks: []firewall.Network{docker0, intNet}, ctrs: []container{
			{docker0, ctr1, []string{"8080:80"}},
			{intNet, ctr3, []string{"9090:90"}}, // internal: no port rules
		}},
		{name: "internal_noicc", networks: []firewall.Network{docker0, withNet(intNet, func(n *firewall.Network) { n.NoICC = true })}, ctrs: []container{
			{intNet, ctr3, nil},
		}},
		{name: "twonets", networks: []firewall.Network{docker0, userNet}, ctrs: []container{
			{docker0, ctr1, []string{"8080:80"}},
			{userNet, ctr2, []string{"8081:80"}},
		}},
		// Two host ports for one container port share the ACCEPT rule;
		// a host IPv6 binding gets it too, and no NAT (docker-proxy).
		{name: "multiport", networks: []firewall.Network{docker0}, ctrs: []container{
			{docker0, ctr1, []string{"8080:80", "8081:80", "[::1]:8083:83"}},
		}},
		// Two containers with ports on a loopback address: each
		// endpoint's raw rule, then its ports'.
		{name: "loopback", networks: []firewall.Network{docker0}, ctrs: []container{
			{docker0, ctr1, []string{"127.0.0.1:8080:80"}},
			{docker0, netip.MustParseAddr("172.17.0.3"), []string{"127.0.0.1:8081:80"}},
		}},
		// com.docker.network.host_ipv4: SNAT instead of MASQUERADE.
		{name: "snat", noProxy: true, networks: []firewall.Network{docker0, snat}, ctrs: []container{{snat, ctr2, []string{"8080:80"}}}},
		// docs/docker.md §1.5: an IPv6 network with a container
		// publishing -p 8080:80 (172.18.0.2 and fd00:db8:1::2), in both
		// tables.
		{name: "ipv6", networks: []firewall.Network{docker0, v6Net}, ctrs: []container{{v6Net, ctr2, []string{"8080:80"}}}},
		// The userland proxy off, a port on ::1 (no raw rule in ip6) and
		// com.docker.network.host_ipv6 (SNAT in ip6, MASQUERADE in ip).
		{name: "ipv6_noproxy", noProxy: true, networks: []firewall.Network{docker0, v6SNAT},
			ctrs: []container{{v6SNAT, ctr2, []string{"8080:80", "[::1]:8081:81"}}}},
	}
}

func goldenPath(name string) string { return filepath.Join("testdata", name+".golden") }

// compareGolden compares got with testdata/NAME.golden; -update rewrites
// the file instead.
func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(goldenPath(name), []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(goldenPath(name))
	require.NoError(t, err, "reading golden (run `go test -update` to create it)")
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- want\n%s\n--- got\n%s", name, goldenPath(name), want, got)
	}
}

// listing is what `nft list ruleset` prints of state s: its ip table,
// then its ip6 table.
func listing(s State) string { return Build(s).String() + Build6(s).String() }

// TestBuildGoldens pins Build's and Build6's tables, in nft list
// ruleset's form, for each scenario. The tables are Docker 29's (dockerd
// has no nftables back end before), so an engine configured as era 28
// gets the same ones.
func TestBuildGoldens(t *testing.T) {
	for _, s := range scenarios() {
		for _, era := range []release.Era{release.Era29, release.Era28} {
			t.Run(s.name+"/era"+era.String(), func(t *testing.T) {
				st := s.state(t)
				st.Config.Release.Era = era
				compareGolden(t, s.name, listing(st))
			})
		}
	}
}

// TestKernelGoldens programs each scenario's tables into a fresh network
// namespace and checks that nft lists them as the golden says (tier 2:
// skipped without root or without the nft binary).
func TestKernelGoldens(t *testing.T) {
	if *update {
		t.Skip("skipping: -update rewrites the goldens from Build")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skipf("skipping kernel test: nft not found: %v", err)
	}
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) {
			ns, err := netns.New()
			if err != nil {
				t.Skipf("skipping kernel test: cannot create a network namespace (needs root or CAP_SYS_ADMIN): %v", err)
			}
			defer ns.Close()
			p := NewProgrammer(ns.Fd())
			st := s.state(t)
			require.NoError(t, p.Apply(Build(st), Build6(st)))
			compareGolden(t, s.name, nftList(t, ns))
			// Each table alone, as `nft list table` prints it.
			assert.Equal(t, Build(st).String(), nftList(t, ns, "table", "ip", TableName), "nft list table ip")
			assert.Equal(t, Build6(st).String(), nftList(t, ns, "table", "ip6", TableName), "nft list table ip6")
			// Replacing both keeps them in their order, ip first.
			require.NoError(t, p.Apply(Build(State{}), Build6(State{})))
			assert.Equal(t, listing(State{}), nftList(t, ns), "after a second Apply")
			require.NoError(t, p.Delete())
			assert.Empty(t, nftList(t, ns), "after Delete, nft lists")
		})
	}
}

// TestElementOrder: nft lists a map's elements by their keys as host-endian
// numbers, which Ruleset.String follows: the last byte of the longer name
// weighs most.
func TestElementOrder(t *testing.T) {
	nets := []firewall.Network{
		{Bridge: "docker0", Subnet: netip.MustParsePrefix("172.17.0.0/16")},
		{Bridge: "br-1a2b3c4d5e6f", Subnet: netip.MustParsePrefix("172.18.0.0/16")},
		{Bridge: "br-0f9e8d7c6b5a", Subnet: netip.MustParsePrefix("172.19.0.0/16")},
		{Bridge: "br-zz", Subnet: netip.MustParsePrefix("172.20.0.0/16")},
	}
	var got []string
	for _, e := range sortedElements(Build(State{Networks: nets}).Maps[0].Elements) {
		got = append(got, e.Ifname)
	}
	assert.Equal(t, []string{"br-zz", "docker0", "br-0f9e8d7c6b5a", "br-1a2b3c4d5e6f"}, got)
}

// nftList is `nft list ruleset` in ns, or `nft list WHAT…`, its counters
// zeroed.
func nftList(t *testing.T, ns *netns.NS, what ...string) string {
	t.Helper()
	if len(what) == 0 {
		what = []string{"ruleset"}
	}
	var out, errb bytes.Buffer
	cmd := exec.Command("nft", append([]string{"list"}, what...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, ns.Start(cmd, netns.StartOptions{}))
	require.NoError(t, cmd.Wait(), "nft list %s: %s", strings.Join(what, " "), errb.String())
	return zeroCounters(out.String())
}

// zeroCounters rewrites every "counter packets N bytes M" to zeros.
func zeroCounters(s string) string {
	var b strings.Builder
	for l := range strings.Lines(s) {
		words := strings.Split(l, " ")
		for i := 0; i+4 < len(words); i++ {
			if words[i] == "counter" && words[i+1] == "packets" && words[i+3] == "bytes" {
				words[i+2], words[i+4] = "0", "0"
			}
		}
		b.WriteString(strings.Join(words, " "))
	}
	return b.String()
}
