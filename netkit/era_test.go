package netkit_test

import (
	"encoding/json"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/netkit/testkit"
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

// TestGoldenNFTables pins the nftables back end's tables after -p 8080:80:
// the golden is Docker 29.8.1's `nft list ruleset` (nft 1.0.6, counters
// zeroed) after docker run -d -p 8080:80 on a fresh engine started with
// --firewall-backend=nftables, seen on the real engine. labrun renders the
// same from what it programmed, and, where the nft binary exists, nft
// lists the same.
func TestGoldenNFTables(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era29}, FirewallBackend: "nftables"})
	_, err := e.Run(netkit.RunOptions{Name: "web", Publish: mustBindings(t, "8080:80")})
	require.NoError(t, err)
	golden(t, "nftables-29-p8080.golden", e.NFTRuleset())
	if _, err := exec.LookPath("nft"); err == nil {
		out, err := lab.Host().Output("nft", "list", "ruleset")
		require.NoError(t, err)
		golden(t, "nftables-29-p8080.golden", zeroCounters(string(out)))
	}
	// No iptables rule of the engine's: the nftables back end replaces
	// them.
	require.NotContains(t, iptablesSave(t, lab), "DOCKER")
	require.NoError(t, e.Remove("web", true))
	require.NotContains(t, e.NFTRuleset(), "dnat to")
	require.NoError(t, lab.StopEngine(""))
	if _, err := exec.LookPath("nft"); err == nil {
		out, _ := lab.Host().Output("nft", "list", "tables")
		require.NotContains(t, string(out), "docker-bridges")
	}
}

var nftCountersRE = regexp.MustCompile(`counter packets \d+ bytes \d+`)

// zeroCounters rewrites every nft counter to zeros.
func zeroCounters(s string) string {
	return nftCountersRE.ReplaceAllString(s, "counter packets 0 bytes 0")
}

// TestNFTablesNoForwarding: Docker 29 with nftables refuses to start on a
// host that does not forward, with --iptables=false too; with -b none it
// starts, refuses each bridge network, and warns on docker run.
func TestNFTablesNoForwarding(t *testing.T) {
	nft := netkit.DaemonOptions{Release: release.Release{Era: release.Era29}, FirewallBackend: "nftables"}
	testkit.RequireNetAdmin(t)
	lab, err := netkit.NewLab(netkit.LabOptions{HostIPForwardOff: true})
	require.NoError(t, err)
	defer lab.Close()
	for _, o := range []netkit.DaemonOptions{nft, {Release: nft.Release, FirewallBackend: "nftables", NoIPTables: true}} {
		_, err = lab.StartEngine(o)
		require.ErrorIs(t, err, netkit.ErrInvalid)
		require.Nil(t, lab.Engine())
	}
	fwd, err := lab.Host().NS().ReadSysctl("net/ipv4/ip_forward")
	require.NoError(t, err)
	require.Equal(t, "0", fwd, "the engine does not turn forwarding on")

	none := nft
	none.Bridge = "none"
	e, err := lab.StartEngine(none)
	require.NoError(t, err)
	_, err = e.CreateNetwork(netkit.NetworkOptions{Name: "net"})
	require.ErrorIs(t, err, netkit.ErrInvalid)
	c, err := e.Run(netkit.RunOptions{Name: "ctr-n", Network: netkit.Mode{Kind: netkit.ModeNone}})
	require.NoError(t, err)
	require.Empty(t, c.Warnings, "--network none: forwarding does not matter")
	require.NoError(t, lab.StopEngine(""))

	// --ip-forward=false: the engine starts, leaves forwarding off, and
	// docker run warns.
	off := nft
	off.NoIPForward = true
	e, err = lab.StartEngine(off)
	require.NoError(t, err)
	c, err = e.Run(netkit.RunOptions{Name: "web"})
	require.NoError(t, err)
	require.Equal(t, []string{"IPv4 forwarding is disabled. Networking will not work."}, c.Warnings)
}

// TestNFTablesNoIPTables: with --iptables=false, Docker 29 makes no table
// ip docker-bridges but still its table ip6 docker-bridges.
func TestNFTablesNoIPTables(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era29}, FirewallBackend: "nftables", NoIPTables: true})
	_, err := e.Run(netkit.RunOptions{Name: "web", Publish: mustBindings(t, "8080:80")})
	require.NoError(t, err)
	got := e.NFTRuleset()
	require.True(t, strings.HasPrefix(got, "table ip6 docker-bridges {\n"), got)
	require.NotContains(t, got, "table ip docker-bridges")
	if _, err := exec.LookPath("nft"); err == nil {
		out, err := lab.Host().Output("nft", "list", "ruleset")
		require.NoError(t, err)
		require.Equal(t, got, zeroCounters(string(out)))
	}
}

// TestNoProxyIPv6Bindings: without the userland proxy, Docker 28 and 29
// bind no host IPv6 address for an IPv4-only container; 27 (labrun's
// reading) binds :: as with the proxy.
func TestNoProxyIPv6Bindings(t *testing.T) {
	for _, era := range []release.Era{release.Era27, release.Era28, release.Era29} {
		t.Run("era"+era.String(), func(t *testing.T) {
			_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: era}, NoUserlandProxy: true})
			c, err := e.Run(netkit.RunOptions{Name: "web", Publish: append(mustBindings(t, "8080:80"), mustBindings(t, "[::1]:8081:81")...)})
			require.NoError(t, err)
			var got []string
			for _, b := range c.Ports() {
				got = append(got, netip.AddrPortFrom(b.HostIP, b.HostPort).String())
			}
			want := []string{"0.0.0.0:8080", "[::]:8080", "[::1]:8081"}
			if era >= release.Era28 {
				want = []string{"0.0.0.0:8080"}
			}
			require.Equal(t, want, got)
		})
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
