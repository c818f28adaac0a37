package netkit_test

import (
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/ipam"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/netkit/testkit"
)

// ip6tablesSave is iptablesSave for ip6tables: the raw, filter and nat
// tables in full, without comments, counters zeroed, as netkit/firewall's
// ipv6 goldens hold them.
func ip6tablesSave(t *testing.T, lab *netkit.Lab) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"raw", "filter", "nat"} {
		out, err := lab.Host().Output("ip6tables-save", "-t", table)
		require.NoError(t, err)
		for _, line := range strings.SplitAfter(string(out), "\n") {
			if !strings.HasPrefix(line, "#") && line != "" {
				b.WriteString(counters.ReplaceAllString(line, "[0:0]"))
			}
		}
	}
	return b.String()
}

// firewallGolden reads a golden of netkit/firewall without its comments.
func firewallGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("firewall/testdata/" + name + ".golden")
	require.NoError(t, err)
	var out strings.Builder
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasPrefix(line, "#") {
			out.WriteString(line)
		}
	}
	return out.String()
}

// v6net is docs/docker.md §1.5's network: docker network create --ipv6
// --subnet fd00:db8:1::/64 -o com.docker.network.bridge.name=br-0123456789ab v6net.
var v6net = netkit.NetworkOptions{Name: "v6net", IPv6: true, IPAM6: ipam.Request6{Subnet: netip.MustParsePrefix("fd00:db8:1::/64")},
	Options: map[string]string{"com.docker.network.bridge.name": "br-0123456789ab"}}

// TestIPv6Network is docs/docker.md §1.5's example in each era, on a host
// that forwarded neither family: a dual-stack network, a container with
// an IPv6 address and -p 8080:80, reached over IPv6 from the host node
// (directly, through ip6tables' DNAT on the bridge's address, and through
// docker-proxy on ::1), its ip6tables rules equal to netkit/firewall's
// goldens (28's and 29's are the real engines'), and after its removal.
func TestIPv6Network(t *testing.T) {
	testkit.RequireBinary(t, "ip6tables-save")
	for _, era := range []string{"27", "28", "29"} {
		t.Run(era, func(t *testing.T) {
			r, ok := release.Parse(era)
			require.True(t, ok)
			lab, e := newLab(t, netkit.LabOptions{HostIPForwardOff: true}, netkit.DaemonOptions{Release: r})
			n, err := e.CreateNetwork(v6net)
			require.NoError(t, err)
			require.Equal(t, "fd00:db8:1::1", n.IPv6.Gateway.String())
			c, err := e.Run(netkit.RunOptions{Name: "c1", Network: netkit.Mode{Network: "v6net"}, Publish: mustBindings(t, "8080:80")})
			require.NoError(t, err)
			es := c.Inspect().NetworkSettings.Networks["v6net"]
			require.Equal(t, []any{"172.18.0.2", "fd00:db8:1::2", 64, "fd00:db8:1::1"},
				[]any{es.IPAddress, es.GlobalIPv6Address, es.GlobalIPv6PrefixLen, es.IPv6Gateway})

			host, ctr := lab.Host(), node(t, lab, "c1")
			for key, want := range map[string]string{"net/ipv6/conf/all/forwarding": "1", "net/ipv6/conf/default/forwarding": "1",
				"net/ipv6/conf/br-0123456789ab/accept_ra": "0", "net/ipv6/conf/br-0123456789ab/disable_ipv6": "0"} {
				got, err := host.NS().ReadSysctl(key)
				require.NoError(t, err)
				require.Equal(t, want, got, key)
			}
			got, err := ctr.NS().ReadSysctl("net/ipv6/conf/eth0/disable_ipv6")
			require.NoError(t, err)
			require.Equal(t, "0", got, "the container's eth0 keeps IPv6")
			eth, err := ctr.Netlink().LinkByName("eth0")
			require.NoError(t, err)
			addrs, err := ctr.Netlink().AddrList(eth, netlink.FAMILY_V6)
			require.NoError(t, err)
			var global []string
			for _, a := range addrs {
				if a.Scope == unix.RT_SCOPE_UNIVERSE {
					global = append(global, a.IPNet.String())
					require.NotZero(t, a.Flags&unix.IFA_F_NODAD, "the container's address is nodad")
				}
			}
			require.Equal(t, []string{"fd00:db8:1::2/64"}, global)

			waitDAD(t, host, "br-0123456789ab")
			serve6(t, ctr, "[::]:80")
			for _, addr := range []string{"[fd00:db8:1::2]:80", "[fd00:db8:1::1]:8080", "[::1]:8080"} {
				out, err := dial6(host, addr)
				require.NoError(t, err, addr)
				require.Equal(t, "hello", out, addr)
			}

			require.Equal(t, firewallGolden(t, "era"+era+"_ipv6"), ip6tablesSave(t, lab))
			require.NoError(t, e.Remove("c1", true))
			require.Equal(t, firewallGolden(t, "era"+era+"_ipv6_removed"), ip6tablesSave(t, lab))
		})
	}
}

// waitDAD waits until the bridge's global IPv6 addresses are no longer
// tentative (Docker 27 adds the gateway's with duplicate address
// detection), with a deadline.
func waitDAD(t *testing.T, n *netkit.Node, bridge string) {
	t.Helper()
	br, err := n.Netlink().LinkByName(bridge)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		addrs, err := n.Netlink().AddrList(br, netlink.FAMILY_V6)
		if err != nil {
			return false
		}
		for _, a := range addrs {
			if a.Scope == unix.RT_SCOPE_UNIVERSE && a.Flags&unix.IFA_F_TENTATIVE != 0 {
				return false
			}
		}
		return true
	}, 5*time.Second, 20*time.Millisecond)
}

// serve6 listens on an IPv6 address inside node n and writes "hello" to
// every connection.
func serve6(t *testing.T, n *netkit.Node, addr string) {
	t.Helper()
	var ln net.Listener
	require.NoError(t, n.NS().Do(func() (err error) {
		ln, err = net.Listen("tcp6", addr)
		return err
	}))
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello"))
			c.Close()
		}
	}()
}

// dial6 connects from node n to an IPv6 addr and returns what the server
// wrote.
func dial6(n *netkit.Node, addr string) (string, error) {
	var c net.Conn
	if err := n.NS().Do(func() (err error) {
		c, err = net.DialTimeout("tcp6", addr, 2*time.Second)
		return err
	}); err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

// TestIPv4OnlyNoIPv6: an IPv4-only lab costs no IPv6 per container: eth0
// has IPv6 off and the engine leaves the host's IPv6 forwarding off; from
// 28 ip6tables holds only the engine's chains.
func TestIPv4OnlyNoIPv6(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{Release: release.Release{Era: release.Era28}})
	c, err := e.Run(netkit.RunOptions{Name: "web", Publish: mustBindings(t, "8080:80")})
	require.NoError(t, err)
	got, err := node(t, lab, "web").NS().ReadSysctl("net/ipv6/conf/eth0/disable_ipv6")
	require.NoError(t, err)
	require.Equal(t, "1", got)
	got, err = lab.Host().NS().ReadSysctl("net/ipv6/conf/all/forwarding")
	require.NoError(t, err)
	require.Equal(t, "0", got)
	require.Empty(t, c.Inspect().NetworkSettings.Networks["bridge"].GlobalIPv6Address)
}
