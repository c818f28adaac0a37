package world

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/testkit"
	"github.com/labrun/labrun/worlds"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// TestFiles: every node names the world's resolver, and its hosts file
// names the node.
func TestFiles(t *testing.T) {
	assert.Equal(t, "nameserver 203.0.113.10\n", ResolvConf())
	assert.Contains(t, Hosts("client"), "\n127.0.1.1\tclient\n")
}

// TestServeResolver: the world's resolver answers its zone and NXDOMAIN
// for the rest, from inside a namespace that has its address.
func TestServeResolver(t *testing.T) {
	ns := testkit.NewNS(t, testkit.NSOptions{})
	h := testkit.Handle(t, ns)
	lo, err := h.LinkByName("lo")
	require.NoError(t, err)
	require.NoError(t, h.LinkSetUp(lo))
	a, _ := netlink.ParseAddr(Resolver.String() + "/32")
	require.NoError(t, h.AddrAdd(lo, a))
	z, err := ServeResolver(ns, nil)
	require.NoError(t, err)
	defer z.Close()
	ask := func(name string) *dns.Msg {
		var m *dns.Msg
		require.NoError(t, ns.Do(func() error {
			c, err := net.Dial("udp4", Resolver.String()+":53")
			if err != nil {
				return err
			}
			defer c.Close()
			co := &dns.Conn{Conn: c}
			if err := co.WriteMsg(new(dns.Msg).SetQuestion(name, dns.TypeA)); err != nil {
				return err
			}
			m, err = co.ReadMsg()
			return err
		}))
		return m
	}
	m := ask("www.example.test.")
	require.Len(t, m.Answer, 1)
	assert.Equal(t, "203.0.113.10", m.Answer[0].(*dns.A).A.String())
	assert.Equal(t, dns.RcodeNameError, ask("nosuch.example.test.").Rcode)
}

// TestBuildBothFamilies: in the built default world the client reaches
// the internet server through the gateway over IPv4 and over IPv6 (the
// documentation prefixes), and the host's IPv6 forwarding is left to its
// engine.
func TestBuildBothFamilies(t *testing.T) {
	testkit.RequireNetAdmin(t)
	b, err := Build(Default(), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	nodes := b.Nodes
	for _, dst := range []netip.Prefix{InternetAddr, InternetAddr6, HostAddr6} {
		var srv net.Listener
		require.NoError(t, nodes[nodeOf(dst)].NS().Do(func() (err error) {
			srv, err = net.Listen("tcp", netip.AddrPortFrom(dst.Addr(), 0).String())
			return err
		}))
		var c net.Conn
		err := nodes[Client].NS().Do(func() (err error) {
			c, err = net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
			return err
		})
		if assert.NoError(t, err, "client to %s", srv.Addr()) {
			from, _ := netip.ParseAddrPort(c.LocalAddr().String())
			assert.Equal(t, dst.Addr().Is6(), from.Addr().Is6(), "the client's source address %s", from)
			c.Close()
		}
		srv.Close()
	}
	for node, want := range map[string]string{Host: "0", Gateway: "1", Client: "0"} {
		fwd, err := nodes[node].NS().ReadSysctl("net/ipv6/conf/all/forwarding")
		require.NoError(t, err)
		assert.Equal(t, want, fwd, "%s's IPv6 forwarding before any engine", node)
	}
	for node, want := range map[string]string{Host: "1", Gateway: "1", Client: "0", Internet: "0", Switch: "0"} {
		fwd, err := nodes[node].NS().ReadSysctl("net/ipv4/ip_forward")
		require.NoError(t, err)
		assert.Equal(t, want, fwd, "%s's IPv4 forwarding", node)
	}
}

// nodeOf names the node that has address p.
func nodeOf(p netip.Prefix) string {
	switch p {
	case InternetAddr, InternetAddr6:
		return Internet
	case HostAddr, HostAddr6:
		return Host
	}
	return ""
}

// smallWorld is two LANs joined by a router, and a server behind a
// point-to-point link from the router, in both families.
const smallWorld = `
lans: [left, right]
nodes:
  a:
    interfaces:
      eth0: {lan: left, addresses: [10.1.0.10/24, fd00:1::10/64]}
    routes: [default via 10.1.0.1, default via fd00:1::1]
  r:
    router: true
    interfaces:
      eth0: {lan: left, addresses: [10.1.0.1/24, fd00:1::1/64]}
      eth1: {lan: right, addresses: [10.2.0.1/24]}
      wan: {peer: srv/eth0, addresses: [10.9.0.1/30]}
  b:
    interfaces:
      eth0: {lan: right, addresses: [10.2.0.10/24]}
    routes: [10.0.0.0/8 via 10.2.0.1]
    sysctls: {net.ipv4.conf.all.rp_filter: 2}
  srv:
    interfaces:
      eth0: {addresses: [10.9.0.2/30]}
    routes: [10.0.0.0/8 via 10.9.0.1]
`

// TestBuildSmallWorld: a world file's nodes reach each other across its
// LANs, its router and its link, as the file says; its sysctls and
// forwarding are set; its LAN ports are where the file names them.
func TestBuildSmallWorld(t *testing.T) {
	testkit.RequireNetAdmin(t)
	w, err := Parse("small.yaml", []byte(smallWorld))
	require.NoError(t, err)
	b, err := Build(w, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	dial := func(from, to string, addr netip.Addr) error {
		var srv net.Listener
		require.NoError(t, b.Nodes[to].NS().Do(func() (err error) {
			srv, err = net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
			return err
		}))
		defer srv.Close()
		return b.Nodes[from].NS().Do(func() error {
			c, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
			if err == nil {
				c.Close()
			}
			return err
		})
	}
	assert.NoError(t, dial("a", "b", netip.MustParseAddr("10.2.0.10")), "a to b across the router")
	assert.NoError(t, dial("a", "srv", netip.MustParseAddr("10.9.0.2")), "a to srv over the link")
	assert.NoError(t, dial("b", "srv", netip.MustParseAddr("10.9.0.2")), "b to srv")
	assert.NoError(t, dial("a", "r", netip.MustParseAddr("fd00:1::1")), "a to r in IPv6")
	for node, want := range map[string]string{"r": "1", "a": "0", "b": "0", "srv": "0", Switch: "0"} {
		v, err := b.Nodes[node].NS().ReadSysctl("net/ipv4/ip_forward")
		require.NoError(t, err)
		assert.Equal(t, want, v, "%s forwards", node)
	}
	v, err := b.Nodes["b"].NS().ReadSysctl("net/ipv4/conf/all/rp_filter")
	require.NoError(t, err)
	assert.Equal(t, "2", v)
	for _, port := range []struct{ name, lan string }{{"p-a", "left"}, {"p-r", "left"}, {"p-r-eth1", "right"}, {"p-b", "right"}} {
		l, err := b.Nodes[Switch].Netlink().LinkByName(port.name)
		if assert.NoError(t, err, port.name) {
			br, err := b.Nodes[Switch].Netlink().LinkByIndex(l.Attrs().MasterIndex)
			require.NoError(t, err)
			assert.Equal(t, port.lan, br.Attrs().Name, "%s's bridge", port.name)
		}
	}
}

// TestBuildCommand: a node's start-up command runs in the node once the
// world is built, and stops with it.
func TestBuildCommand(t *testing.T) {
	testkit.RequireNetAdmin(t)
	testkit.RequireBinary(t, "sleep")
	w, err := Parse("cmd.yaml", []byte("nodes:\n  a:\n    command: sleep 1000\n"))
	require.NoError(t, err)
	b, err := Build(w, Options{})
	require.NoError(t, err)
	require.Len(t, b.procs, 1)
	p := b.procs[0].Process
	ns, err := os.Readlink("/proc/" + strconv.Itoa(p.Pid) + "/ns/net")
	require.NoError(t, err)
	ino, err := b.Nodes["a"].NS().Inode()
	require.NoError(t, err)
	assert.Equal(t, "net:["+strconv.FormatUint(ino, 10)+"]", ns, "the command's network namespace")
	require.NoError(t, b.Close())
	assert.Error(t, p.Signal(syscall.Signal(0)), "the command after Close")
}

// TestLineShipped: worlds/line-50.yaml is Line(50), as `labrun world line
// -n 50` writes it.
func TestLineShipped(t *testing.T) {
	want, err := Line(50)
	require.NoError(t, err)
	have, err := worlds.FS.ReadFile("line-50.yaml")
	require.NoError(t, err)
	require.Equal(t, string(want), string(have), "worlds/line-50.yaml is stale: labrun world line -n 50 > worlds/line-50.yaml")
	_, err = Line(1)
	assert.ErrorContains(t, err, "want 2 to 256")
	_, err = Line(MaxLine + 1)
	assert.Error(t, err)
	long, err := Line(MaxLine)
	require.NoError(t, err)
	w, err := Parse("long.yaml", long)
	require.NoError(t, err)
	assert.Equal(t, []Sysctl{{Key: "net.ipv4.ip_default_ttl", Value: "255", Pos: Pos{"long.yaml", w.Node("r1").Sysctls[0].Pos.Line}}}, w.Node("r1").Sysctls,
		"r1 of a line longer than the default TTL")
	assert.Equal(t, "10.0.255.2", w.Vars()["R256_IP"])
	assert.Empty(t, Default().Node(Host).Routes[0].Dev)
}

// TestBuildLine: a line of 50 routers comes up, and its ends reach each
// other through the 48 routers between them, both ways; routers between
// reach r1 (whose link every router routes back).
func TestBuildLine(t *testing.T) {
	testkit.RequireNetAdmin(t)
	w, err := Shipped("line-50")
	require.NoError(t, err)
	b, err := Build(w, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	vars := w.Vars()
	addr := func(node string) netip.Addr { return netip.MustParseAddr(vars[VarName(node)+"_IP"]) }
	dial := func(from, to string) error {
		var srv net.Listener
		require.NoError(t, b.Nodes[to].NS().Do(func() (err error) {
			srv, err = net.Listen("tcp", netip.AddrPortFrom(addr(to), 0).String())
			return err
		}))
		defer srv.Close()
		return b.Nodes[from].NS().Do(func() error {
			c, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
			if err == nil {
				c.Close()
			}
			return err
		})
	}
	assert.NoError(t, dial("r1", "r50"), "r1 to r50")
	assert.NoError(t, dial("r50", "r1"), "r50 to r1")
	for _, r := range []string{"r2", "r25", "r49"} {
		assert.NoError(t, dial(r, "r1"), "%s to r1", r)
	}
}

// BenchmarkBuildLine builds and removes lines of routers: the cost of a
// node (ns/node) must stay flat as the world grows.
func BenchmarkBuildLine(b *testing.B) {
	testkit.RequireNetAdmin(b)
	for _, n := range []int{10, 50} {
		b.Run(fmt.Sprintf("routers=%d", n), func(b *testing.B) {
			text, err := Line(n)
			require.NoError(b, err)
			w, err := Parse("line.yaml", text)
			require.NoError(b, err)
			for b.Loop() {
				built, err := Build(w, Options{})
				require.NoError(b, err)
				require.NoError(b, built.Close())
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
		})
	}
}
