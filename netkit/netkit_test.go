package netkit_test

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// newLab makes a fresh lab with a started engine, or skips when this
// machine cannot make network namespaces.
func newLab(t *testing.T, lo netkit.LabOptions, do netkit.DaemonOptions) (*netkit.Lab, *netkit.Engine) {
	t.Helper()
	testkit.RequireNetAdmin(t)
	testkit.RequireBinary(t, "iptables-restore")
	lab, err := netkit.NewLab(lo)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, lab.Close()) })
	e, err := lab.StartEngine(do)
	require.NoError(t, err)
	return lab, e
}

// listen opens a TCP listener inside node n; accepted connections report
// their remote address on the returned channel and get "hello" written.
func listen(t *testing.T, n *netkit.Node, addr string) (<-chan string, net.Listener) {
	t.Helper()
	var ln net.Listener
	require.NoError(t, n.NS().Do(func() error {
		var err error
		ln, err = net.Listen("tcp4", addr)
		return err
	}))
	t.Cleanup(func() { ln.Close() })
	seen := make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			seen <- c.RemoteAddr().String() + " -> " + c.LocalAddr().String()
			c.Write([]byte("hello"))
			c.Close()
		}
	}()
	return seen, ln
}

// dial connects from node n to addr and returns what the server wrote.
func dial(n *netkit.Node, addr string) (string, error) {
	var c net.Conn
	err := n.NS().Do(func() error {
		var err error
		c, err = net.DialTimeout("tcp4", addr, time.Second)
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

// requireSource dials addr from node from, with node to listening on at,
// and requires "hello" back and the listener to see source address src.
func requireSource(t *testing.T, lab *netkit.Lab, from, addr, to, at, src string, msgAndArgs ...any) {
	t.Helper()
	seen, _ := listen(t, node(t, lab, to), at)
	out, err := dial(node(t, lab, from), addr)
	require.NoError(t, err)
	require.Equal(t, "hello", out)
	require.Equal(t, src, strings.Split(<-seen, ":")[0], msgAndArgs...)
}

func node(t *testing.T, lab *netkit.Lab, name string) *netkit.Node {
	t.Helper()
	n, err := lab.Node(name)
	require.NoError(t, err)
	return n
}

func mustBindings(t *testing.T, spec string) []ports.Binding {
	t.Helper()
	b, err := ports.ParsePublish(spec)
	require.NoError(t, err)
	return b
}

func TestWorldReachability(t *testing.T) {
	lab, _ := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	requireSource(t, lab, "client", "203.0.113.10:80", "internet", "203.0.113.10:80", "192.168.190.1")
	_, _ = listen(t, node(t, lab, "host"), "192.168.190.128:22")
	out, err := dial(node(t, lab, "client"), "192.168.190.128:22")
	require.NoError(t, err)
	require.Equal(t, "hello", out)
}

func TestBridgeModeAndIPAM(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	a, err := e.Run(netkit.RunOptions{Name: "ctr-a"})
	require.NoError(t, err)
	b, err := e.Run(netkit.RunOptions{Name: "ctr-b"})
	require.NoError(t, err)
	require.Equal(t, "172.17.0.2", a.IP("").String())
	require.Equal(t, "172.17.0.3", b.IP("").String())
	j := a.Inspect()
	require.Equal(t, "02:42:ac:11:00:02", j.NetworkSettings.MacAddress)
	require.Equal(t, "172.17.0.1", j.NetworkSettings.Gateway)
	require.Equal(t, a.Pid(), j.State.Pid)
	// /proc/PID/ns/net is the container's namespace.
	ns, err := netns.OpenPID(a.Pid())
	require.NoError(t, err)
	defer ns.Close()
	i1, _ := ns.Inode()
	i2, _ := node(t, lab, "ctr-a").NS().Inode()
	require.Equal(t, i1, i2)
	// Containers on docker0 reach each other.
	_, _ = listen(t, node(t, lab, "ctr-b"), ":80")
	out, err := dial(node(t, lab, "ctr-a"), "172.17.0.3:80")
	require.NoError(t, err)
	require.Equal(t, "hello", out)
	// Reuse after release: lowest free address.
	require.NoError(t, e.Remove("ctr-a", true))
	c, err := e.Run(netkit.RunOptions{Name: "ctr-c"})
	require.NoError(t, err)
	require.Equal(t, "172.17.0.2", c.IP("").String())
}

func TestFixedCIDRAndExhaustion(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{
		BIP: netip.MustParsePrefix("10.2.2.1/16"), FixedCIDR: netip.MustParsePrefix("10.2.2.0/30"),
	})
	var got []string
	var err error
	for i := 0; i < 5 && err == nil; i++ {
		var c *netkit.Container
		c, err = e.Run(netkit.RunOptions{})
		if err == nil {
			got = append(got, c.IP("").String())
		}
	}
	require.Equal(t, []string{"10.2.2.0", "10.2.2.2", "10.2.2.3"}, got)
	require.Error(t, err)
	require.True(t, errors.Is(err, netkit.ErrConflict))
	require.Contains(t, err.Error(), "no available IPv4 addresses on this network's address pools: bridge (")
}

func TestPublishInboundDNAT(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	c, err := e.Run(netkit.RunOptions{Name: "web", Publish: mustBindings(t, "801:80")})
	require.NoError(t, err)
	requireSource(t, lab, "client", "192.168.190.128:801", "web", ":80", "192.168.190.1", "DNAT keeps the client's address")
	require.Equal(t, []ports.Binding{
		{Container: ports.Port{Num: 80, Proto: ports.TCP}, HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: 801},
		{Container: ports.Port{Num: 80, Proto: ports.TCP}, HostIP: netip.MustParseAddr("::"), HostPort: 801},
	}, c.Ports())
	// The host itself reaches it on 127.0.0.1 through the userland proxy.
	out, err := dial(node(t, lab, "host"), "127.0.0.1:801")
	require.NoError(t, err)
	require.Equal(t, "hello", out)
	// A second container cannot take the same host port.
	_, err = e.Run(netkit.RunOptions{Name: "web2", Publish: mustBindings(t, "801:80")})
	require.Error(t, err)
	require.Contains(t, err.Error(), "Bind for 0.0.0.0:801 failed: port is already allocated")
	// After removal the port is closed again.
	require.NoError(t, e.Remove("web", true))
	_, err = dial(node(t, lab, "client"), "192.168.190.128:801")
	require.Error(t, err)
}

func TestOutboundMasquerade(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	_, err := e.Run(netkit.RunOptions{Name: "ctr-c"})
	require.NoError(t, err)
	requireSource(t, lab, "ctr-c", "203.0.113.10:80", "internet", "203.0.113.10:80", "192.168.190.128", "MASQUERADE: the internet sees the host")
}

func TestNoMasqueradeLosesReplies(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{NoIPMasq: true})
	_, err := e.Run(netkit.RunOptions{Name: "ctr-c"})
	require.NoError(t, err)
	_, _ = listen(t, node(t, lab, "internet"), "203.0.113.10:80")
	_, err = dial(node(t, lab, "ctr-c"), "203.0.113.10:80")
	require.Error(t, err, "without MASQUERADE the reply to 172.17.0.2 has no route back")
}

func TestHostMode(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	c, err := e.Run(netkit.RunOptions{Name: "ctr-h", Network: netkit.Mode{Kind: netkit.ModeHost}, Publish: mustBindings(t, "80:80")})
	require.NoError(t, err)
	require.Equal(t, []string{"Published ports are discarded when using host network mode"}, c.Warnings)
	i1, _ := node(t, lab, "ctr-h").NS().Inode()
	i2, _ := node(t, lab, "host").NS().Inode()
	require.Equal(t, i1, i2)
	ns, err := netns.OpenPID(c.Pid())
	require.NoError(t, err)
	defer ns.Close()
	i3, _ := ns.Inode()
	require.Equal(t, i2, i3, "the container's process lives in the host's namespace")
	require.Empty(t, c.Ports())
}

func TestNoneMode(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	_, err := e.Run(netkit.RunOptions{Name: "ctr-n", Network: netkit.Mode{Kind: netkit.ModeNone}})
	require.NoError(t, err)
	links, err := node(t, lab, "ctr-n").Netlink().LinkList()
	require.NoError(t, err)
	require.Len(t, links, 1)
	require.Equal(t, "lo", links[0].Attrs().Name)
}

func TestContainerMode(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	a, err := e.Run(netkit.RunOptions{Name: "ctr-a"})
	require.NoError(t, err)
	b, err := e.Run(netkit.RunOptions{Name: "ctr-b", Network: netkit.Mode{Kind: netkit.ModeContainer, Container: "ctr-a"}})
	require.NoError(t, err)
	i1, _ := node(t, lab, "ctr-a").NS().Inode()
	nsb, err := netns.OpenPID(b.Pid())
	require.NoError(t, err)
	defer nsb.Close()
	i2, _ := nsb.Inode()
	require.Equal(t, i1, i2)
	require.Equal(t, a.Hostname(), b.Hostname())
	// They talk over lo.
	_, _ = listen(t, node(t, lab, "ctr-a"), "127.0.0.1:9000")
	out, err := dial(node(t, lab, "ctr-b"), "127.0.0.1:9000")
	require.NoError(t, err)
	require.Equal(t, "hello", out)

	_, err = e.Run(netkit.RunOptions{Name: "ctr-x", Network: netkit.Mode{Kind: netkit.ModeContainer, Container: "ctr-x"}})
	require.EqualError(t, err, "cannot join own network")
	_, err = e.Run(netkit.RunOptions{Name: "ctr-y", Network: netkit.Mode{Kind: netkit.ModeContainer, Container: "ctr-a"}, Publish: mustBindings(t, "80")})
	require.EqualError(t, err, "conflicting options: port publishing and the container type network mode")
	_, err = e.Run(netkit.RunOptions{Network: netkit.Mode{Kind: netkit.ModeContainer, Container: "nope"}})
	require.EqualError(t, err, "No such container: nope")
}

func TestUserNetwork(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	n, err := e.CreateNetwork(netkit.NetworkOptions{Name: "mynet"})
	require.NoError(t, err)
	require.Equal(t, "172.18.0.0/16", n.Subnet.String())
	require.Equal(t, "br-"+n.ID[:12], n.Bridge)
	c, err := e.Run(netkit.RunOptions{Name: "ctr-u", Network: netkit.Mode{Kind: netkit.ModeBridge, Network: "mynet"}})
	require.NoError(t, err)
	require.Equal(t, "172.18.0.2", c.IP("mynet").String())
	seen, _ := listen(t, node(t, lab, "internet"), "203.0.113.10:80")
	_, err = dial(node(t, lab, "ctr-u"), "203.0.113.10:80")
	require.NoError(t, err)
	require.Equal(t, "192.168.190.128", strings.Split(<-seen, ":")[0])
	require.Error(t, e.RemoveNetwork("mynet"), "active endpoints")
	require.NoError(t, e.Remove("ctr-u", true))
	require.NoError(t, e.RemoveNetwork("mynet"))
	_, err = node(t, lab, "host").Netlink().LinkByName(n.Bridge)
	require.Error(t, err)
}

func TestEngineFlagErrors(t *testing.T) {
	lab, _ := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	_, err := lab.StartEngine(netkit.DaemonOptions{Bridge: "bridge0", BIP: netip.MustParsePrefix("10.0.0.1/24")})
	require.EqualError(t, err, "You specified -b & --bip, mutually exclusive options. Please specify only one")
	_, err = lab.StartEngine(netkit.DaemonOptions{Bridge: "bridge0"})
	require.EqualError(t, err, "bridge device with non default name bridge0 must be created manually")
}

// TestEngineRestartKeepsState: a dockerd restart, even after a failed start,
// keeps user-defined networks and (stopped) containers, as Docker's on-disk
// state does.
func TestEngineRestartKeepsState(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	_, err := e.Run(netkit.RunOptions{Name: "old"})
	require.NoError(t, err)
	_, err = e.CreateNetwork(netkit.NetworkOptions{Name: "lan2"})
	require.NoError(t, err)
	_, err = lab.StartEngine(netkit.DaemonOptions{Bridge: "bridge0"})
	require.Error(t, err)
	e, err = lab.StartEngine(netkit.DaemonOptions{})
	require.NoError(t, err)
	c, err := e.Container("old")
	require.NoError(t, err)
	require.Equal(t, "exited", c.State())
	require.NoError(t, c.Start())
	_, err = e.Network("lan2")
	require.NoError(t, err)
}

// TestNodeHostname: commands on a world node see the node's name as
// hostname; in a container, the container's.
func TestNodeHostname(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	out, err := lab.Host().Output("hostname")
	require.NoError(t, err)
	require.Equal(t, "host\n", string(out))
	_, err = e.Run(netkit.RunOptions{Name: "web", Hostname: "box1"})
	require.NoError(t, err)
	out, err = node(t, lab, "web").Output("hostname")
	require.NoError(t, err)
	require.Equal(t, "box1\n", string(out))
}

// TestClosedNodeHandle: a stopped container's node never hands out a handle
// that would act on labrun's own namespace.
func TestClosedNodeHandle(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	_, err := e.Run(netkit.RunOptions{Name: "gone"})
	require.NoError(t, err)
	n := node(t, lab, "gone")
	require.NoError(t, e.Remove("gone", true))
	h := n.Netlink()
	require.NotNil(t, h)
	links, err := h.LinkList()
	require.NoError(t, err)
	for _, l := range links {
		require.Equal(t, "lo", l.Attrs().Name, "a closed node's handle must not see another namespace")
	}
	// The same for a world node, whose handle was open from the start.
	host := lab.Host()
	require.NoError(t, lab.Close())
	links, err = host.Netlink().LinkList()
	require.NoError(t, err)
	for _, l := range links {
		require.Equal(t, "lo", l.Attrs().Name, "a closed host node's handle must not see another namespace")
	}
}

// TestEngineRestartBIP: a dockerd started again with another --bip
// replaces docker0's address, and one started without --bip keeps the
// address docker0 has (its subnet becomes the default bridge's), as
// Docker 28.5.2 and 29.8.1 do (fidelity cases daemon_bip_replaces and
// daemon_bip_kept).
func TestEngineRestartBIP(t *testing.T) {
	lab, _ := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{BIP: netip.MustParsePrefix("10.55.0.1/24")})
	addrs := func() []string {
		out, err := lab.Host().Output("ip", "-4", "-o", "addr", "show", "dev", "docker0")
		require.NoError(t, err)
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			got = append(got, strings.Fields(l)[3])
		}
		return got
	}
	require.Equal(t, []string{"10.55.0.1/24"}, addrs())
	_, err := lab.StartEngine(netkit.DaemonOptions{BIP: netip.MustParsePrefix("10.66.0.1/24")})
	require.NoError(t, err)
	require.Equal(t, []string{"10.66.0.1/24"}, addrs(), "the second --bip replaces the first")
	e, err := lab.StartEngine(netkit.DaemonOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"10.66.0.1/24"}, addrs())
	n, err := e.Network("bridge")
	require.NoError(t, err)
	require.Equal(t, "10.66.0.0/24", n.Subnet.String(), "without --bip, docker0's address")
}
