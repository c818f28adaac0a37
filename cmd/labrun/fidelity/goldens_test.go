package fidelity

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/cmd/labrun/fidelity/oracle"
	"github.com/labrun/labrun/netkit/testkit"
)

// writeGoldens makes TestGoldens write the firewall goldens of eras 28 and
// 29 from the real engines instead of comparing them.
var writeGoldens = flag.Bool("goldens", false, "rewrite netkit/firewall/testdata/era{28,29}_*.golden from the oracle engines")

// goldenDir is package firewall's testdata, from this package's directory.
const goldenDir = "../../../netkit/firewall/testdata"

// goldenImage is the image of the recipes: busybox with EXPOSE 80/tcp, as
// the fidelity cases' (oracle.Import).
const goldenImage = "labrun-goldens:busybox"

// goldenSleep keeps a container of goldenImage running.
const goldenSleep = "busybox sleep 3600"

// goldenEras are the engines whose goldens are written, by era.
var goldenEras = map[string]string{"28": "28.5.2", "29": "29.8.1"}

// recipe reaches a scenario of package firewall (scenarios_test.go) on a
// real engine: the engine's flags and host, docker command lines (without
// "docker"; IMG is goldenImage, SLEEP goldenSleep) run in order for
// NAME.golden, and then Remove for NAME_removed.golden (the scenario's
// containers removed, last first). An ipv6 recipe's goldens are
// ip6tables-save's, not iptables-save's.
type recipe struct {
	name      string
	daemon    []string
	ipForward bool
	ipv6      bool
	steps     []string
	remove    []string
}

// Bridge names and subnets of the scenarios' networks (userNet, intNet):
// com.docker.network.bridge.name gives a real engine's bridge the
// scenario's name.
const (
	userNet = "network create --subnet 172.18.0.0/16 -o com.docker.network.bridge.name=br-0123456789ab net"
	intNet  = "network create --internal --subnet 172.19.0.0/16 -o com.docker.network.bridge.name=br-internal0001"
	// v6Net is docs/docker.md §1.5's network (the scenarios' v6Net, its
	// IPv4 subnet from the default pools) and intNet6 the scenarios'
	// intNet6.
	v6Net   = "network create --ipv6 --subnet fd00:db8:1::/64 -o com.docker.network.bridge.name=br-0123456789ab v6net"
	intNet6 = "network create --internal --ipv6 --subnet 172.19.0.0/16 --subnet fd00:db8:2::/64 -o com.docker.network.bridge.name=br-internal0001 int6"
)

// goldenRecipes are the scenarios' recipes; they are the same for 28 and
// 29.
var goldenRecipes = []recipe{
	{name: "default", steps: []string{"run -d --name c1 -p 8080:80 IMG SLEEP"}, remove: []string{"rm -f c1"}},
	{name: "noproxy", daemon: []string{"--userland-proxy=false"},
		steps: []string{"run -d --name c1 -p 8080:80 IMG SLEEP"}, remove: []string{"rm -f c1"}},
	{name: "noicc", daemon: []string{"--icc=false"},
		steps: []string{"run -d --name c1 -p 8080:80 IMG SLEEP"}, remove: []string{"rm -f c1"}},
	{name: "nomasq", daemon: []string{"--ip-masq=false"},
		steps: []string{"run -d --name c1 -p 8080:80 IMG SLEEP"}, remove: []string{"rm -f c1"}},
	{name: "internal", steps: []string{intNet + " int",
		"run -d --name c1 -p 8080:80 IMG SLEEP", "run -d --name c3 --network int -p 9090:90 IMG SLEEP"},
		remove: []string{"rm -f c3", "rm -f c1"}},
	{name: "internal_noicc", steps: []string{intNet + " -o com.docker.network.bridge.enable_icc=false int",
		"run -d --name c3 --network int IMG SLEEP"}, remove: []string{"rm -f c3"}},
	{name: "twonets", steps: []string{userNet,
		"run -d --name c1 -p 8080:80 IMG SLEEP", "run -d --name c2 --network net -p 8081:80 IMG SLEEP"},
		remove: []string{"rm -f c2", "rm -f c1"}},
	{name: "threenets", steps: []string{userNet, intNet + " int"}},
	{name: "udp", steps: []string{"run -d --name c1 -p 5353:53/udp IMG SLEEP"}, remove: []string{"rm -f c1"}},
	{name: "hostip", steps: []string{"run -d --name c1 -p 192.168.190.128:8080:80 IMG SLEEP"}, remove: []string{"rm -f c1"}},
	{name: "loopback", steps: []string{"run -d --name c1 -p 127.0.0.1:8080:80 IMG SLEEP"}, remove: []string{"rm -f c1"}},
	// -p 8080:80 -p [::]:8080:80 is refused (docs/docker.md §2.4): 8080 is
	// published on 0.0.0.0 only.
	{name: "multiport", steps: []string{"run -d --name c1 -p 0.0.0.0:8080:80 -p 8081:80 -p 0.0.0.0:8443:443 -p [::]:8080:80 IMG SLEEP"},
		remove: []string{"rm -f c1"}},
	// Real engines ignore host_ipv4 given to the default bridge
	// (--default-network-opt): the scenario's docker0 is a network made
	// with that bridge name, the default bridge being off (-b none).
	{name: "snat_noproxy", daemon: []string{"--userland-proxy=false", "--bridge=none"},
		steps: []string{"network create --subnet 172.17.0.0/16 -o com.docker.network.bridge.name=docker0 -o com.docker.network.host_ipv4=192.168.190.128 snat",
			"run -d --name c1 --network snat -p 8080:80 IMG SLEEP"}, remove: []string{"rm -f c1"}},
	{name: "forward_accept", ipForward: true, steps: []string{"run -d --name c1 -p 8080:80 IMG SLEEP"}, remove: []string{"rm -f c1"}},
	{name: "iptables_off", daemon: []string{"--iptables=false"},
		steps: []string{"run -d --name c1 -p 8080:80 IMG SLEEP"}, remove: []string{"rm -f c1"}},
	// ip6tables: the engines start with IPv6 forwarding off, as a fresh
	// host, and turn it on with the first IPv6 network.
	{name: "ipv6", ipv6: true, steps: []string{v6Net, "run -d --name c1 --network v6net -p 8080:80 IMG SLEEP"},
		remove: []string{"rm -f c1"}},
	{name: "ipv6_noproxy", ipv6: true, daemon: []string{"--userland-proxy=false"},
		steps: []string{v6Net, "run -d --name c1 --network v6net -p 8080:80 IMG SLEEP"}, remove: []string{"rm -f c1"}},
	{name: "ipv6_hostip", ipv6: true, steps: []string{v6Net, "run -d --name c1 --network v6net -p [::1]:8080:80 IMG SLEEP"},
		remove: []string{"rm -f c1"}},
	{name: "ipv6_internal", ipv6: true, steps: []string{intNet6, "run -d --name c3 --network int6 -p 9090:90 IMG SLEEP"},
		remove: []string{"rm -f c3"}},
	{name: "ipv6_snat", ipv6: true, steps: []string{v6Net + " -o com.docker.network.host_ipv6=2001:db8:190::128",
		"run -d --name c1 --network v6net -p 8080:80 IMG SLEEP"}, remove: []string{"rm -f c1"}},
}

// TestGoldens runs every recipe on a fresh oracle engine of each era and
// compares iptables-save (ip6tables-save for an ipv6 recipe; comments
// dropped, counters zeroed) with package firewall's goldens; with -goldens
// it writes them, each headed by a comment naming the engine and the
// recipe.
func TestGoldens(t *testing.T) {
	if os.Getenv(optIn) == "" {
		t.Skipf("skipping: set %s=1 to run the recipes on real Docker Engines", optIn)
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: oracle engines need root")
	}
	have := oracle.Available("")
	for _, era := range []string{"28", "29"} {
		version := goldenEras[era]
		if !contains(have, version) {
			if *writeGoldens {
				t.Errorf("cannot write the goldens of era %s: no Docker %s in %s (make oracle)", era, version, oracle.DefaultDir())
			} else {
				t.Logf("skipping era %s: no Docker %s in %s (make oracle)", era, version, oracle.DefaultDir())
			}
			continue
		}
		for _, r := range goldenRecipes {
			t.Run("era"+era+"_"+r.name, func(t *testing.T) {
				added, removed := runRecipe(t, version, r)
				name := "era" + era + "_" + r.name
				checkGolden(t, name, goldenHeader(version, r, r.steps)+added)
				checkGolden(t, name+"_removed", goldenHeader(version, r, slices.Concat(r.steps, r.remove))+removed)
			})
		}
	}
}

// runRecipe starts a fresh engine, runs r's steps and returns its rules
// after them and after r.remove.
func runRecipe(t *testing.T, version string, r recipe) (added, removed string) {
	e, err := oracle.Start(context.Background(), oracle.Options{Version: version, Flags: r.daemon, IPForward: r.ipForward})
	require.NoError(t, err)
	defer e.Close()
	require.NoError(t, oracle.Import(e.Docker, goldenImage, "EXPOSE 80/tcp"))
	steps := func(lines []string) {
		for _, l := range lines {
			args := strings.Fields(l)
			for i, a := range args {
				switch a {
				case "IMG":
					args[i] = goldenImage
				case "SLEEP":
					args = append(append(args[:i:i], strings.Fields(goldenSleep)...), args[i+1:]...)
				}
			}
			out, err := e.Docker(args...).CombinedOutput()
			require.NoError(t, err, "docker %s: %s", strings.Join(args, " "), out)
		}
	}
	output := e.Output
	if r.ipv6 {
		// hostRules reads iptables-save; an ipv6 recipe's rules are
		// ip6tables-save's, normalised the same way.
		output = func(args ...string) ([]byte, error) {
			return e.Output(append([]string{"ip6tables-save"}, args[1:]...)...)
		}
	}
	steps(r.steps)
	added = hostRules(oracle.IPTables, output)
	steps(r.remove)
	return added, hostRules(oracle.IPTables, output)
}

// goldenHeader is a golden's first line: an iptables-save comment naming
// the engine, its flags and the docker commands that reached the state.
func goldenHeader(version string, r recipe, steps []string) string {
	engine := "Docker " + version + " (make oracle"
	if r.ipv6 {
		engine += ", ip6tables-save"
	}
	if len(r.daemon) > 0 {
		engine += ", dockerd " + strings.Join(r.daemon, " ")
	}
	if r.ipForward {
		engine += ", ip_forward=1 before"
	}
	var cmds []string
	for _, s := range steps {
		s = strings.ReplaceAll(s, "IMG", goldenImage)
		s = strings.ReplaceAll(s, "SLEEP", goldenSleep)
		cmds = append(cmds, "docker "+s)
	}
	return "# " + engine + "): " + strings.Join(cmds, "; ") + "\n"
}

// checkGolden writes the golden (-goldens) or compares it with got, both
// headers included.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name+".golden")
	if *writeGoldens {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "reading golden (-goldens writes it)")
	if string(want) != got {
		t.Errorf("%s differs from the engine (-goldens rewrites it):\n%s", name, testkit.TextDiff("golden", string(want), "engine", got))
	}
}
