package world

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/testkit"
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
