package world

import (
	"net"
	"testing"

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
