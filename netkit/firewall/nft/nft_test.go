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
)

// container is a container of a scenario: its network, its address and
// its -p values, which the ports package parses as docker run does.
type container struct {
	net     firewall.Network
	addr    netip.Addr
	publish []string
}

// scenario is an engine's state: its settings, its networks in creation
// order and its containers in start order.
type scenario struct {
	name     string
	noProxy  bool
	networks []firewall.Network
	ctrs     []container
}

// state is the scenario as the engine keeps it: each container's endpoint
// and then its bindings, in the order the engine programs them.
func (s scenario) state(t *testing.T) State {
	t.Helper()
	st := State{Config: firewall.Config{NoUserlandProxy: s.noProxy}, Networks: s.networks}
	for _, c := range s.ctrs {
		ep := Endpoint{Bridge: c.net.Bridge, Addr: c.addr}
		st.Endpoints = append(st.Endpoints, ep)
		for _, spec := range c.publish {
			bs, err := ports.ParsePublish(spec)
			require.NoError(t, err)
			for _, b := range bs {
				st.Ports = append(st.Ports, Publication{Endpoint: ep, Binding: b})
			}
		}
	}
	return st
}

// web publishes a plain port, a port on one host address, a port on a
// loopback address, a range and a UDP port.
var web = []string{"8080:80", "192.168.190.128:8081:80", "127.0.0.1:8082:80", "9800-9802:90-92", "5353:53/udp"}

func withNet(n firewall.Network, f func(*firewall.Network)) firewall.Network {
	f(&n)
	return n
}

// scenarios are the states with golden files (testdata/NAME.golden).
func scenarios() []scenario {
	noICC := withNet(docker0, func(n *firewall.Network) { n.NoICC = true })
	noMasq := withNet(docker0, func(n *firewall.Network) { n.NoIPMasq = true })
	return []scenario{
		{name: "engine"},
		{name: "network", networks: []firewall.Network{docker0}},
		{name: "ports", networks: []firewall.Network{docker0}, ctrs: []container{{docker0, ctr1, web}}},
		{name: "noproxy", noProxy: true, networks: []firewall.Network{docker0}, ctrs: []container{{docker0, ctr1, web}}},
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
		// a host IPv6 binding gets no rule (docker-proxy only).
		{name: "multiport", networks: []firewall.Network{docker0}, ctrs: []container{
			{docker0, ctr1, []string{"8080:80", "8081:80", "[::]:8080:80"}},
		}},
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

// TestBuildGoldens pins Build's table, in nft list ruleset's form, for
// each scenario. The table is Docker 29's (dockerd has no nftables back end
// before), so an engine configured as era 28 gets the same one.
func TestBuildGoldens(t *testing.T) {
	for _, s := range scenarios() {
		for _, era := range []release.Era{release.Era29, release.Era28} {
			t.Run(s.name+"/era"+era.String(), func(t *testing.T) {
				st := s.state(t)
				st.Config.Release.Era = era
				compareGolden(t, s.name, Build(st).String())
			})
		}
	}
}

// TestKernelGoldens programs each scenario's table into a fresh network
// namespace and checks that nft lists it as the golden says (tier 2:
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
			require.NoError(t, p.Apply(Build(s.state(t))))
			compareGolden(t, s.name, nftList(t, ns))
			require.NoError(t, p.Delete())
			assert.Empty(t, nftList(t, ns), "after Delete, nft lists")
		})
	}
}

// nftList is `nft list ruleset` in ns in Ruleset.String's form: counters
// at zero, and the nat output chain's priority by its name. nft prints
// the name "dstnat" only for the prerouting hook and -100 elsewhere, while
// Ruleset.String names it on both (a known difference of the rendering,
// kept so that the engine's NFTRuleset output does not change).
func nftList(t *testing.T, ns *netns.NS) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command("nft", "list", "ruleset")
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, ns.Start(cmd, netns.StartOptions{}))
	require.NoError(t, cmd.Wait(), "nft list ruleset: %s", errb.String())
	return strings.ReplaceAll(zeroCounters(out.String()),
		"type nat hook output priority -100;", "type nat hook output priority dstnat;")
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
