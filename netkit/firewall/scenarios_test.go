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
type scenario struct {
	name string
	cfg  Config
	nets []Network
	ctrs []container
}

func (s scenario) phase1() [][]Op {
	batches := [][]Op{s.cfg.Start()}
	for _, n := range s.nets {
		batches = append(batches, s.cfg.AddNetwork(n))
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
		batches = append(batches, s.cfg.RemoveNetwork(s.nets[i]))
	}
	return batches
}

// baseline is what phase 3 must leave: Start and the first network.
func (s scenario) baseline() [][]Op {
	return [][]Op{s.cfg.Start(), s.cfg.AddNetwork(s.nets[0])}
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
			scenario{prefix + "default", with(flipped), []Network{docker0}, oneWeb},
			scenario{prefix + "noproxy", with(noProxy), []Network{docker0}, oneWeb},
			scenario{prefix + "noicc", with(flipped), []Network{withNet(docker0, func(n *Network) { n.NoICC = true })}, oneWeb},
			scenario{prefix + "nomasq", with(flipped), []Network{withNet(docker0, func(n *Network) { n.NoIPMasq = true })}, oneWeb},
			scenario{prefix + "internal", with(flipped), []Network{docker0, intNet}, []container{
				{0, ctr1, []ports.Binding{web}},
				{1, ctr3, []ports.Binding{tcp(9090, 90)}}, // internal: no port rules
			}},
			scenario{prefix + "internal_noicc", with(flipped), []Network{docker0, withNet(intNet, func(n *Network) { n.NoICC = true })}, []container{
				{1, ctr3, nil},
			}},
			scenario{prefix + "twonets", with(flipped), []Network{docker0, userNet}, []container{
				{0, ctr1, []ports.Binding{web}},
				{1, ctr2, []ports.Binding{tcp(8081, 80)}},
			}},
			scenario{prefix + "threenets", with(flipped), []Network{docker0, userNet, intNet}, nil},
			scenario{prefix + "udp", with(flipped), []Network{docker0}, []container{
				{0, ctr1, []ports.Binding{{Container: ports.Port{Num: 53, Proto: ports.UDP}, HostPort: 5353}}},
			}},
			scenario{prefix + "hostip", with(flipped), []Network{docker0}, []container{
				{0, ctr1, []ports.Binding{on("192.168.190.128", tcp(8080, 80))}},
			}},
			scenario{prefix + "loopback", with(flipped), []Network{docker0}, []container{
				{0, ctr1, []ports.Binding{on("127.0.0.1", tcp(8080, 80))}},
			}},
			// Three bindings of one container port share the ACCEPT (and in
			// 27 the hairpin MASQUERADE) rule: it is added and removed once.
			// 8080 is on 0.0.0.0 only: engines refuse -p 8080:80 with
			// -p [::]:8080:80, the first binding both (docs/docker.md §2.4).
			scenario{prefix + "multiport", with(flipped), []Network{docker0}, []container{
				{0, ctr1, []ports.Binding{
					on("0.0.0.0", web),
					tcp(8081, 80),
					on("0.0.0.0", tcp(8443, 443)),
					on("::", tcp(8080, 80)), // docker-proxy only
				}},
			}},
			// A network on bridge docker0 with host_ipv4: real engines
			// ignore host_ipv4 on the default bridge, so the engines'
			// goldens come from dockerd -b none and a network created with
			// -o com.docker.network.bridge.name=docker0 (the rules do not
			// tell the two apart).
			scenario{prefix + "snat_noproxy", with(noProxy), []Network{withNet(docker0, func(n *Network) {
				n.HostIPv4 = netip.MustParseAddr("192.168.190.128")
			})}, oneWeb},
			scenario{prefix + "forward_accept", with(Config{}), []Network{docker0}, oneWeb},
			scenario{prefix + "iptables_off", with(Config{IPForwardFlipped: true, NoIPTables: true}), []Network{docker0}, oneWeb},
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
