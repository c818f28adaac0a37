package netkit_test

import (
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/release"
)

// TestGoldenPublish8080Eras checks that after -p 8080:80 on a fresh engine
// the host's rules equal Docker 28.3–28.5's and 29's (docs/docker.md §1.2 (b), (c)),
// and that removing the container leaves only the engine's own rules.
func TestGoldenPublish8080Eras(t *testing.T) {
	for _, era := range []release.Era{release.Era28, release.Era29} {
		t.Run("era"+era.String(), func(t *testing.T) {
			lab, e := newLab(t, netkit.LabOptions{HostIPForwardOff: true}, netkit.DaemonOptions{Release: release.Release{Era: era}})
			_, err := e.Run(netkit.RunOptions{Name: "web", Publish: mustBindings(t, "8080:80")})
			require.NoError(t, err)
			golden(t, "iptables-"+era.String()+"-p8080.golden", iptablesSave(t, lab))
			require.NoError(t, e.Remove("web", true))
			golden(t, "iptables-"+era.String()+"-engine.golden", iptablesSave(t, lab))
		})
	}
}

// TestGoldenNFTables pins the nftables back end's table after -p 8080:80,
// in nft list ruleset's form, rendered from what was programmed; where the
// nft binary exists, it must list the same chains and rules.
func TestGoldenNFTables(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era29}, FirewallBackend: "nftables"})
	_, err := e.Run(netkit.RunOptions{Name: "web", Publish: mustBindings(t, "8080:80")})
	require.NoError(t, err)
	got := e.NFTRuleset()
	golden(t, "nftables-29-p8080.golden", got)
	if _, err := exec.LookPath("nft"); err == nil {
		out, err := lab.Host().Output("nft", "list", "table", "ip", "docker-bridges")
		require.NoError(t, err)
		for _, want := range []string{`iifname != "docker0" tcp dport 8080 counter`, `dnat to 172.17.0.2:80 comment "DNAT"`,
			`ip daddr 172.17.0.2 iifname != "docker0" counter`, `oifname != "docker0" ip saddr 172.17.0.0/16 counter`,
			// The maps' keys are host-endian to nft, else it lists "".
			`elements = { "docker0" : jump filter-forward-in__docker0 }`} {
			require.Contains(t, string(out), want)
		}
	}
	// No iptables rule of the engine's: the nftables back end replaces
	// them.
	require.NotContains(t, iptablesSave(t, lab), "DOCKER")
	require.NoError(t, e.Remove("web", true))
	require.NotContains(t, e.NFTRuleset(), "dnat to")
	require.NoError(t, lab.StopEngine())
	if _, err := exec.LookPath("nft"); err == nil {
		out, _ := lab.Host().Output("nft", "list", "tables")
		require.NotContains(t, string(out), "docker-bridges")
	}
}

// TestNFTablesBehaviour: with the nftables back end, the client reaches
// 192.168.190.128:801 and lands on the container's port 80 with its own
// address, and the container reaches the internet, which sees the host.
func TestNFTablesBehaviour(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era29}, FirewallBackend: "nftables"})
	_, err := e.Run(netkit.RunOptions{Name: "web", Publish: mustBindings(t, "801:80")})
	require.NoError(t, err)
	requireSource(t, lab, "client", "192.168.190.128:801", "web", ":80", "192.168.190.1", "DNAT keeps the client's address")
	// An unpublished port of the container is not reachable through the
	// host.
	_, err = dial(node(t, lab, "client"), "192.168.190.128:802")
	require.Error(t, err)

	requireSource(t, lab, "web", "203.0.113.10:80", "internet", "203.0.113.10:80", "192.168.190.128", "MASQUERADE: the internet sees the host")

	require.NoError(t, e.Remove("web", true))
	_, err = dial(node(t, lab, "client"), "192.168.190.128:801")
	require.Error(t, err)
}

// TestEraMACs: before 28 a container's MAC is 02:42 and its IPv4 address;
// from 28 it is random, locally administered and unicast.
func TestEraMACs(t *testing.T) {
	for _, era := range []release.Era{release.Era27, release.Era28} {
		_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: era}})
		c, err := e.Run(netkit.RunOptions{Name: "ctr-c"})
		require.NoError(t, err)
		mac, err := net.ParseMAC(c.Inspect().NetworkSettings.Networks["bridge"].MacAddress)
		require.NoError(t, err)
		if era == release.Era27 {
			require.Equal(t, "02:42:ac:11:00:02", mac.String())
			continue
		}
		require.Equal(t, byte(0x02), mac[0]&0x03, "locally administered unicast: %s", mac)
		require.NotEqual(t, "02:42:ac:11:00:02", mac.String())
	}
}

// TestEraShapes checks the key order of NetworkSettings, an endpoint and a
// network for API 1.41 (20.10), 1.47 (27), 1.51 (28) and 1.52 (29).
func TestEraShapes(t *testing.T) {
	cases := []struct {
		opts             netkit.DaemonOptions
		settings, ep, nw string
	}{
		{netkit.DaemonOptions{Release: release.Release{APIVersion: "1.41"}}, "Bridge SandboxID HairpinMode", "IPAMConfig Links Aliases NetworkID", "Name Id Created Scope Driver EnableIPv6 IPAM"},
		{netkit.DaemonOptions{}, "Bridge SandboxID SandboxKey Ports", "IPAMConfig Links Aliases MacAddress DriverOpts NetworkID", "Name Id Created Scope Driver EnableIPv6 IPAM"},
		{netkit.DaemonOptions{Release: release.Release{Era: release.Era28}}, "Bridge SandboxID SandboxKey Ports", "IPAMConfig Links Aliases MacAddress DriverOpts GwPriority NetworkID", "Name Id Created Scope Driver EnableIPv4 EnableIPv6 IPAM"},
		{netkit.DaemonOptions{Release: release.Release{Era: release.Era29}}, "SandboxID SandboxKey Ports Networks", "IPAMConfig Links Aliases DriverOpts GwPriority NetworkID EndpointID Gateway IPAddress MacAddress", "Name Id Created Scope Driver EnableIPv4 EnableIPv6 IPAM"},
	}
	for _, tc := range cases {
		_, e := newLab(t, netkit.LabOptions{}, tc.opts)
		c, err := e.Run(netkit.RunOptions{Name: "ctr-c"})
		require.NoError(t, err)
		j := c.Inspect()
		require.Equal(t, tc.settings, strings.Join(keys(t, j.NetworkSettings), " ")[:len(tc.settings)])
		require.Equal(t, tc.ep, strings.Join(keys(t, j.NetworkSettings.Networks["bridge"]), " ")[:len(tc.ep)])
		n, err := e.Network("bridge")
		require.NoError(t, err)
		nk := strings.Join(keys(t, n.Inspect(e)), " ")
		require.Equal(t, tc.nw, nk[:len(tc.nw)])
		if tc.opts.Era == release.Era29 {
			require.True(t, strings.HasSuffix(nk, "Options Labels Containers Status"), nk)
		}
	}
}

// keys returns the top-level keys of v's JSON object, in order.
func keys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	dec := json.NewDecoder(strings.NewReader(string(b)))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var out []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		out = append(out, k.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return out
}

// TestRerunOnSameAddressWithNewMAC: with Docker 28's random MACs, a
// container run right after the last one left docker0 gets the same address
// and a new MAC, and the host reaches it at once: docker0 lost its carrier,
// and with it the old container's ARP entry, before the new port brought
// the carrier back (see Container.plumb).
func TestRerunOnSameAddressWithNewMAC(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era28}})
	host := node(t, lab, "host")
	var macs []string
	for _, name := range []string{"ctr-a", "ctr-b"} {
		c, err := e.Run(netkit.RunOptions{Name: name, Command: "sleep infinity", Comm: "sleep"})
		require.NoError(t, err)
		require.Equal(t, "172.17.0.2", c.IP("bridge").String())
		eth0, err := c.Node().Netlink().LinkByName("eth0")
		require.NoError(t, err)
		macs = append(macs, eth0.Attrs().HardwareAddr.String())
		listen(t, node(t, lab, name), ":80")
		out, err := dial(host, "172.17.0.2:80")
		require.NoError(t, err, "container %s (MAC %s) from the host", name, macs[len(macs)-1])
		require.Equal(t, "hello", out)
		require.NoError(t, e.Remove(name, true))
	}
	require.NotEqual(t, macs[0], macs[1], "Docker 28 gives each container a random MAC")
}
