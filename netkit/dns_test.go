package netkit_test

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
)

// lookup asks the embedded resolver of container c, from inside c, for
// name's A records, over UDP.
//
// Equivalent to: docker exec C nslookup -type=a NAME
func lookup(tb testing.TB, lab *netkit.Lab, c *netkit.Container, name string) *dns.Msg {
	tb.Helper()
	n, err := lab.Node(c.Name)
	require.NoError(tb, err)
	var conn net.Conn
	require.NoError(tb, n.NS().Do(func() (err error) {
		conn, err = net.Dial("udp4", "127.0.0.11:53")
		return err
	}))
	defer conn.Close()
	q := new(dns.Msg).SetQuestion(dns.Fqdn(name), dns.TypeA)
	co := &dns.Conn{Conn: conn}
	require.NoError(tb, co.WriteMsg(q))
	m, err := co.ReadMsg()
	require.NoError(tb, err)
	return m
}

// TestEmbeddedDNS: a container on a user-defined network resolves its
// peer by name through 127.0.0.11, and an unknown name ends in the lab
// resolver's NXDOMAIN; the default bridge has no resolver.
func TestEmbeddedDNS(t *testing.T) {
	lab, e := benchLab(t)
	_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "app"})
	require.NoError(t, err)
	web, err := e.Run(netkit.RunOptions{Name: "web", Network: netkit.Mode{Network: "app"}})
	require.NoError(t, err)
	cli, err := e.Run(netkit.RunOptions{Name: "cli", Network: netkit.Mode{Network: "app"}})
	require.NoError(t, err)
	m := lookup(t, lab, cli, "web")
	require.Equal(t, dns.RcodeSuccess, m.Rcode)
	require.Len(t, m.Answer, 1)
	require.Equal(t, web.IP("app").String(), m.Answer[0].(*dns.A).A.String())
	m = lookup(t, lab, cli, "nosuch.example.test")
	require.Equal(t, dns.RcodeNameError, m.Rcode)

	// Nothing listens at 127.0.0.11 in a default-bridge container: the
	// query is refused (an ICMP port unreachable on lo).
	old, err := e.Run(netkit.RunOptions{Name: "old"})
	require.NoError(t, err)
	n, err := lab.Node(old.Name)
	require.NoError(t, err)
	var conn net.Conn
	require.NoError(t, n.NS().Do(func() (err error) {
		conn, err = net.Dial("udp4", "127.0.0.11:53")
		return err
	}))
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = conn.Write([]byte("query"))
	if err == nil {
		_, err = conn.Read(make([]byte, 512))
	}
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
}

// BenchmarkLookupUnknown: a container's lookup of a name nobody has, from
// the container to its resolver, forwarded to the lab's resolver and back
// (NXDOMAIN). The goal is well under 100 ms.
func BenchmarkLookupUnknown(b *testing.B) {
	lab, e := benchLab(b)
	_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "app"})
	require.NoError(b, err)
	cli, err := e.Run(netkit.RunOptions{Name: "cli", Network: netkit.Mode{Network: "app"}})
	require.NoError(b, err)
	b.ResetTimer()
	for b.Loop() {
		if m := lookup(b, lab, cli, "nosuch.example.test"); m.Rcode != dns.RcodeNameError {
			b.Fatalf("rcode %s", dns.RcodeToString[m.Rcode])
		}
	}
}

// BenchmarkRunUserNetwork: BenchmarkRun on a user-defined network, where
// each container also gets its embedded resolver and the resolver's NAT
// rules in its namespace.
func BenchmarkRunUserNetwork(b *testing.B) {
	_, e := benchLab(b)
	_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "app"})
	require.NoError(b, err)
	i := 0
	for b.Loop() {
		o := published(b, fmt.Sprintf("r%d", i), 20000+i%40000)
		o.Network = netkit.Mode{Network: "app"}
		if _, err := e.Run(o); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
