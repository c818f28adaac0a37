package fidelity

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/cmd/labrun/fidelity/oracle"
)

// nftGolden is one golden of netkit/firewall/nft (testdata/NAME.golden,
// or file from the repository's root) as the real engine makes it: its
// daemon flags, shell lines run on its host before it starts, and docker
// command lines, the user-defined networks named after the golden's
// bridges (com.docker.network.bridge.name).
type nftGolden struct {
	name  string
	file  string
	flags []string
	host  []string
	steps []string
}

const (
	nftServe       = "busybox sleep 3600"
	nftUserNet     = "-o com.docker.network.bridge.name=br-0123456789ab --subnet 172.18.0.0/16"
	nftInternalNet = "-o com.docker.network.bridge.name=br-internal0001 --subnet 172.19.0.0/16 --internal"
	nftV6Net       = "--ipv6 --subnet fd00:db8:1::/64 -o com.docker.network.bridge.name=br-0123456789ab"
	// nftIPv6Forwarding turns the host's IPv6 forwarding on before the
	// engine starts: Docker 29 with nftables does not, and refuses a
	// network with IPv6 without it ("IPv6 global forwarding is disabled",
	// moby/moby docker-v29.7.2 daemon/libnetwork/drivers/bridge/
	// setup_ip_forwarding.go).
	nftIPv6Forwarding = "sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1"
)

var nftGoldens = []nftGolden{
	// netkit's TestGoldenNFTables.
	{name: "p8080", file: "testdata/netkit/nftables-29-p8080.golden", steps: []string{"run -d --name web -p 8080:80 IMG"}},
	{name: "engine", flags: []string{"--bridge=none"}},
	{name: "network"},
	{name: "ports", steps: []string{"run -d --name web -p 8080:80 -p 192.168.190.128:8081:80 -p 127.0.0.1:8082:80 -p 9800-9802:90-92 -p 5353:53/udp IMG"}},
	{name: "noproxy", flags: []string{"--userland-proxy=false"},
		steps: []string{"run -d --name web -p 8080:80 -p 192.168.190.128:8081:81 -p 127.0.0.1:8082:82 -p 9800-9802:90-92 -p 5353:53/udp IMG"}},
	{name: "noicc", flags: []string{"--icc=false"}, steps: []string{"run -d --name web -p 8080:80 IMG"}},
	{name: "nomasq", flags: []string{"--ip-masq=false"}, steps: []string{"run -d --name web -p 8080:80 IMG"}},
	{name: "internal", steps: []string{"network create " + nftInternalNet + " int", "run -d --name web -p 8080:80 IMG",
		"run -d --name c3 --network int -p 9090:90 IMG"}},
	{name: "internal_noicc", steps: []string{"network create " + nftInternalNet + " -o com.docker.network.bridge.enable_icc=false int",
		"run -d --name c3 --network int IMG"}},
	{name: "twonets", steps: []string{"network create " + nftUserNet + " un", "run -d --name web -p 8080:80 IMG",
		"run -d --name c2 --network un -p 8081:80 IMG"}},
	{name: "multiport", steps: []string{"run -d --name web -p 8080:80 -p 8081:80 -p [::1]:8083:83 IMG"}},
	{name: "loopback", steps: []string{"run -d --name ca -p 127.0.0.1:8080:80 IMG", "run -d --name cb -p 127.0.0.1:8081:80 IMG"}},
	{name: "snat", flags: []string{"--userland-proxy=false"}, steps: []string{
		"network create " + nftUserNet + " -o com.docker.network.host_ipv4=192.168.190.128 un", "run -d --name c2 --network un -p 8080:80 IMG"}},
	// docs/docker.md §1.5.
	{name: "ipv6", host: []string{nftIPv6Forwarding},
		steps: []string{"network create " + nftV6Net + " v6net", "run -d --name web --network v6net -p 8080:80 IMG"}},
	{name: "ipv6_noproxy", flags: []string{"--userland-proxy=false"}, host: []string{nftIPv6Forwarding},
		steps: []string{"network create " + nftV6Net + " -o com.docker.network.host_ipv6=2001:db8:190::128 v6net",
			"run -d --name web --network v6net -p 8080:80 -p [::1]:8081:81 IMG"}},
}

var nftCounterRE = regexp.MustCompile(`counter packets \d+ bytes \d+`)

// TestNFTGoldens replays the states of the nftables back end's goldens on
// Docker 29.8.1 with --firewall-backend=nftables (a fresh oracle engine
// each) and checks that its `nft list ruleset`, counters zeroed, is the
// golden: the goldens are the real engine's.
func TestNFTGoldens(t *testing.T) {
	if os.Getenv(optIn) == "" {
		t.Skipf("skipping: set %s=1 (make fidelity) to compare with real Docker Engines", optIn)
	}
	if !slices.Contains(oracle.Available(""), "29.8.1") {
		t.Skipf("skipping: no Docker 29.8.1 in %s (make oracle)", oracle.DefaultDir())
	}
	for _, g := range nftGoldens {
		t.Run(g.name, func(t *testing.T) {
			file := g.file
			if file == "" {
				file = filepath.Join("netkit", "firewall", "nft", "testdata", g.name+".golden")
			}
			want, err := os.ReadFile(filepath.Join("..", "..", "..", file))
			require.NoError(t, err)
			e, err := oracle.Start(context.Background(), oracle.Options{Version: "29.8.1", Backend: oracle.NFTables, IPForward: true,
				Flags: g.flags, Host: g.host})
			require.NoError(t, err)
			defer e.Close()
			require.NoError(t, oracle.Import(e.Docker, caseImage, "EXPOSE 80/tcp", `CMD ["sh"]`))
			for _, step := range g.steps {
				args := strings.Fields(strings.ReplaceAll(step, "IMG", caseImage+" "+nftServe))
				out, err := e.Docker(args...).CombinedOutput()
				require.NoError(t, err, "docker %s: %s", step, out)
			}
			got, err := e.Output("nft", "list", "ruleset")
			require.NoError(t, err)
			assert.Equal(t, string(want), nftCounterRE.ReplaceAllString(string(got), "counter packets 0 bytes 0"))
		})
	}
}
