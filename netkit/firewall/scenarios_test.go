package firewall

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the kernel (needs root)")

var (
	docker0 = Network{Bridge: "docker0", Subnet: netip.MustParsePrefix("172.17.0.0/16")}
	userNet = Network{Bridge: "br-0123456789ab", Subnet: netip.MustParsePrefix("172.18.0.0/16")}
	intNet  = Network{Bridge: "br-internal0001", Subnet: netip.MustParsePrefix("172.19.0.0/16"), Internal: true}

	ctr1 = netip.MustParseAddr("172.17.0.2")
	ctr2 = netip.MustParseAddr("172.18.0.2")
	ctr3 = netip.MustParseAddr("172.19.0.2")

	// v6Net is docs/docker.md §1.5's network: docker network create --ipv6
	// --subnet fd00:db8:1::/64 (its IPv4 subnet the first of the default
	// pools after docker0's), bridge br-0123456789ab.
	v6Net = Network{Bridge: "br-0123456789ab", Subnet: netip.MustParsePrefix("172.18.0.0/16"),
		Subnet6: netip.MustParsePrefix("fd00:db8:1::/64")}
	// intNet6 is an --internal network with IPv6.
	intNet6 = Network{Bridge: "br-internal0001", Subnet: netip.MustParsePrefix("172.19.0.0/16"),
		Subnet6: netip.MustParsePrefix("fd00:db8:2::/64"), Internal: true}

	ctr6    = netip.MustParseAddr("fd00:db8:1::2")
	ctr6int = netip.MustParseAddr("fd00:db8:2::2")

	// web is -p 8080:80 (of the default bridge's first container).
	web = tcp(8080, 80)
)

// tcp is a binding of TCP container port ctr on host port host, on every
// host address.
func tcp(host, ctr uint16) ports.Binding {
	return ports.Binding{Container: ports.Port{Num: ctr, Proto: ports.TCP}, HostPort: host}
}

// on is binding b published on host address ip only.
func on(ip string, b ports.Binding) ports.Binding {
	b.HostIP = netip.MustParseAddr(ip)
	return b
}

// pub is a binding with the address of its container, for the tests that
// publish ports of many containers in one batch.
type pub struct {
	ctr netip.Addr
	b   ports.Binding
}

// addPubs publishes each of ps on n, one AddBindings call per container.
func addPubs(c Config, n Network, ps ...pub) []Op {
	var ops []Op
	for _, p := range ps {
		ops = append(ops, c.AddBindings(n, p.ctr, p.b)...)
	}
	return ops
}

// removePubs is the inverse of addPubs.
func removePubs(c Config, n Network, ps ...pub) []Op {
	var ops []Op
	for _, p := range ps {
		ops = append(ops, c.RemoveBindings(n, p.ctr, p.b)...)
	}
	return ops
}

// container is a container of a scenario: its network (index into
// scenario.nets), address and published ports.
type container struct {
	net   int
	addr  netip.Addr
	ports []ports.Binding
}

// scenario is an engine with networks and containers. Its phases are shared
// by the model tests (no privileges) and the kernel tests (fresh namespace):
//
//  1. Start, AddNetwork for each network, then per container AddEndpoint +
//     AddBindings (one Apply each): compared with testdata/NAME.golden;
//  2. per container (last first) RemoveBindings + RemoveEndpoint:
//     testdata/NAME_removed.golden, the engine's own rules only;
//  3. RemoveNetwork for every network but the first: must equal Start plus
//     the first network alone.
//
// An IPv6 scenario (fam IPv6) does the same with Start6, AddNetwork6 and
// RemoveNetwork6, and its containers' IPv6 addresses.
type scenario struct {
	name string
	cfg  Config
	nets []Network
	ctrs []container
	fam  Family
	// flip6: the engine turned IPv6 forwarding on for its first IPv6
	// network (ForwardDrop6, eras 28+).
	flip6 bool
}

// v4 is an IPv4 scenario.
func v4(name string, cfg Config, nets []Network, ctrs []container) scenario {
	return scenario{name: name, cfg: cfg, nets: nets, ctrs: ctrs}
}

// v6 is an IPv6 scenario of an engine that turned IPv6 forwarding on.
func v6(name string, cfg Config, nets []Network, ctrs []container) scenario {
	return scenario{name: name, cfg: cfg, nets: nets, ctrs: ctrs, fam: IPv6, flip6: true}
}

// start is the engine's start, and in eras 28+ the FORWARD policy that its
// first IPv6 network sets (policies are not rules: where in the sequence
// it comes does not show).
func (s scenario) start() []Op {
	if s.fam == IPv6 {
		ops := s.cfg.Start6()
		if s.flip6 && s.cfg.Release.Era != release.Era27 {
			ops = append(ops, ForwardDrop6()...)
		}
		return ops
	}
	return s.cfg.Start()
}

func (s scenario) addNetwork(n Network) []Op {
	if s.fam == IPv6 {
		return s.cfg.AddNetwork6(n)
	}
	return s.cfg.AddNetwork(n)
}

func (s scenario) removeNetwork(n Network) []Op {
	if s.fam == IPv6 {
		return s.cfg.RemoveNetwork6(n)
	}
	return s.cfg.RemoveNetwork(n)
}

func (s scenario) phase1() [][]Op {
	batches := [][]Op{s.start()}
	for _, n := range s.nets {
		batches = append(batches, s.addNetwork(n))
	}
	for _, c := range s.ctrs {
		n := s.nets[c.net]
		batches = append(batches, append(s.cfg.AddEndpoint(n, c.addr), s.cfg.AddBindings(n, c.addr, c.ports...)...))
	}
	return batches
}

func (s scenario) phase2() [][]Op {
	var batches [][]Op
	for i := len(s.ctrs) - 1; i >= 0; i-- {
		c := s.ctrs[i]
		n := s.nets[c.net]
		batches = append(batches, append(s.cfg.RemoveBindings(n, c.addr, c.ports...), s.cfg.RemoveEndpoint(n, c.addr)...))
	}
	return batches
}

func (s scenario) phase3() [][]Op {
	var batches [][]Op
	for i := len(s.nets) - 1; i >= 1; i-- {
		batches = append(batches, s.removeNetwork(s.nets[i]))
	}
	return batches
}

// baseline is what phase 3 must leave: Start and the first network. In an
// IPv6 scenario the first network, docker0, is IPv4 only: in era 27 the
// IPv6 networks made ip6tables rules that every network shares and that
// Docker leaves when they go (the nat jumps to DOCKER, the FORWARD jump to
// DOCKER-ISOLATION-STAGE-1), which the baseline then has too.
func (s scenario) baseline() [][]Op {
	batches := [][]Op{s.start(), s.addNetwork(s.nets[0])}
	if s.fam == IPv6 {
		for _, n := range s.nets[1:] {
			b := s.cfg.network(IPv6, n)
			var shared []Op
			for i, o := range b.ops {
				if !b.owned[i] {
					shared = append(shared, o)
				}
			}
			batches = append(batches, shared)
		}
	}
	return batches
}

func withNet(n Network, f func(*Network)) Network {
	f(&n)
	return n
}

// scenarios are the variants with golden files, for each era.
func scenarios() []scenario {
	var out []scenario
	flipped := Config{IPForwardFlipped: true}
	noProxy := Config{IPForwardFlipped: true, NoUserlandProxy: true}
	oneWeb := []container{{0, ctr1, []ports.Binding{web}}}
	for _, era := range []release.Era{release.Era27, release.Era28, release.Era29} {
		with := func(c Config) Config { c.Release.Era = era; return c }
		prefix := "era" + era.String() + "_"
		out = append(out,
			v4(prefix+"default", with(flipped), []Network{docker0}, oneWeb),
			v4(prefix+"noproxy", with(noProxy), []Network{docker0}, oneWeb),
			v4(prefix+"noicc", with(flipped), []Network{withNet(docker0, func(n *Network) { n.NoICC = true })}, oneWeb),
			v4(prefix+"nomasq", with(flipped), []Network{withNet(docker0, func(n *Network) { n.NoIPMasq = true })}, oneWeb),
			v4(prefix+"internal", with(flipped), []Network{docker0, intNet}, []container{
				{0, ctr1, []ports.Binding{web}},
				{1, ctr3, []ports.Binding{tcp(9090, 90)}}, // internal: no port rules
			}),
			v4(prefix+"internal_noicc", with(flipped), []Network{docker0, withNet(intNet, func(n *Network) { n.NoICC = true })}, []container{
				{1, ctr3, nil},
			}),
			v4(prefix+"twonets", with(flipped), []Network{docker0, userNet}, []container{
				{0, ctr1, []ports.Binding{web}},
				{1, ctr2, []ports.Binding{tcp(8081, 80)}},
			}),
			v4(prefix+"threenets", with(flipped), []Network{docker0, userNet, intNet}, nil),
			v4(prefix+"udp", with(flipped), []Network{docker0}, []container{
				{0, ctr1, []ports.Binding{{Container: ports.Port{Num: 53, Proto: ports.UDP}, HostPort: 5353}}},
			}),
			v4(prefix+"hostip", with(flipped), []Network{docker0}, []container{
				{0, ctr1, []ports.Binding{on("192.168.190.128", tcp(8080, 80))}},
			}),
			v4(prefix+"loopback", with(flipped), []Network{docker0}, []container{
				{0, ctr1, []ports.Binding{on("127.0.0.1", tcp(8080, 80))}},
			}),
			// Three bindings of one container port share the ACCEPT (and in
			// 27 the hairpin MASQUERADE) rule: it is added and removed once.
			// 8080 is on 0.0.0.0 only: engines refuse -p 8080:80 with
			// -p [::]:8080:80, the first binding both (docs/docker.md §2.4).
			v4(prefix+"multiport", with(flipped), []Network{docker0}, []container{
				{0, ctr1, []ports.Binding{
					on("0.0.0.0", web),
					tcp(8081, 80),
					on("0.0.0.0", tcp(8443, 443)),
					on("::", tcp(8080, 80)), // docker-proxy only
				}},
			}),
			// A network on bridge docker0 with host_ipv4: real engines
			// ignore host_ipv4 on the default bridge, so the engines'
			// goldens come from dockerd -b none and a network created with
			// -o com.docker.network.bridge.name=docker0 (the rules do not
			// tell the two apart).
			v4(prefix+"snat_noproxy", with(noProxy), []Network{withNet(docker0, func(n *Network) {
				n.HostIPv4 = netip.MustParseAddr("192.168.190.128")
			})}, oneWeb),
			v4(prefix+"forward_accept", with(Config{}), []Network{docker0}, oneWeb),
			v4(prefix+"iptables_off", with(Config{IPForwardFlipped: true, NoIPTables: true}), []Network{docker0}, oneWeb),
			// docs/docker.md §1.5: docker0 (IPv4 only) and an IPv6 network
			// with a container publishing -p 8080:80, its ip6tables rules.
			v6(prefix+"ipv6", with(flipped), []Network{docker0, v6Net}, []container{{1, ctr6, []ports.Binding{web}}}),
			v6(prefix+"ipv6_noproxy", with(noProxy), []Network{docker0, v6Net}, []container{{1, ctr6, []ports.Binding{web}}}),
			// A port on ::1: DNAT -d ::1/128, and no raw rule (28+ drop
			// remote packets to IPv4 loopback ports only).
			v6(prefix+"ipv6_hostip", with(flipped), []Network{docker0, v6Net}, []container{{1, ctr6, []ports.Binding{on("::1", web)}}}),
			v6(prefix+"ipv6_internal", with(flipped), []Network{docker0, intNet6}, []container{{1, ctr6int, []ports.Binding{tcp(9090, 90)}}}),
			// com.docker.network.host_ipv6: SNAT instead of MASQUERADE.
			v6(prefix+"ipv6_snat", with(flipped), []Network{docker0, withNet(v6Net, func(n *Network) {
				n.HostIPv6 = netip.MustParseAddr("2001:db8:190::128")
			})}, []container{{1, ctr6, []ports.Binding{web}}}),
		)
	}
	return out
}

func goldenPath(name string) string { return filepath.Join("testdata", name+".golden") }

// readGolden returns a golden without its comment lines ("# Docker
// 28.5.2 …", iptables-save's own comment syntax, naming where it came
// from).
func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(goldenPath(name))
	require.NoError(t, err, "reading golden (run `go test -update` as root to create it)")
	var sb strings.Builder
	for l := range strings.Lines(string(b)) {
		if !strings.HasPrefix(l, "#") {
			sb.WriteString(l)
		}
	}
	return sb.String()
}

// goldenTables are the tables a golden shows: none for an engine's, which
// is its whole iptables-save; DefaultTables for the others (era 27's, each
// table as iptables-save -t TABLE prints it, docs/docker.md §1.2).
func goldenTables(t *testing.T, name string) []string {
	t.Helper()
	if engineGolden(t, name) {
		return nil
	}
	return DefaultTables
}

// engineGolden reports whether a golden was written from a real engine
// (cmd/labrun/fidelity's TestGoldens -goldens, the eras with an engine in
// `make oracle`): it starts with a comment naming the engine, and the
// kernel test's -update leaves it alone.
func engineGolden(t *testing.T, name string) bool {
	t.Helper()
	b, err := os.ReadFile(goldenPath(name))
	return err == nil && strings.HasPrefix(string(b), "# Docker ")
}
