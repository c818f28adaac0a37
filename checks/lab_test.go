package checks

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
	"github.com/labrun/labrun/netkit/world"
)

// This file builds the small topologies the kernel tests use, in fresh
// namespaces only: nothing here touches the namespace the test runs in.

// newNS returns a fresh namespace with lo up and IPv6 off (so that no
// router solicitations or MLD reports land in captures), or skips the test
// when namespaces cannot be made here.
func newNS(t testing.TB) *netns.NS {
	t.Helper()
	return testkit.NewNS(t, testkit.NSOptions{LoopbackUp: true, NoIPv6: true})
}

// end is one end of a veth pair.
type end struct {
	ns   *netns.NS
	name string
	addr netip.Prefix // may be invalid: no address
}

// vethPair links a and b with a veth pair, addresses both ends and brings
// them up.
//
// Equivalent to: ip link add A netns NSA type veth peer name B netns NSB; ip addr add …; ip link set … up
func vethPair(t testing.TB, a, b end) {
	t.Helper()
	ha := testkit.Handle(t, a.ns)
	v := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: a.name},
		PeerName:      b.name,
		PeerNamespace: netlink.NsFd(b.ns.Fd()),
	}
	require.NoError(t, ha.LinkAdd(v), "adding veth %s/%s", a.name, b.name)
	for _, e := range []end{a, b} {
		h := testkit.Handle(t, e.ns)
		l, err := h.LinkByName(e.name)
		require.NoError(t, err)
		if e.addr.IsValid() {
			addr := &netlink.Addr{IPNet: &net.IPNet{IP: e.addr.Addr().AsSlice(), Mask: net.CIDRMask(e.addr.Bits(), e.addr.Addr().BitLen())}}
			require.NoError(t, h.AddrAdd(l, addr), "adding %s to %s", e.addr, e.name)
		}
		require.NoError(t, h.LinkSetUp(l))
	}
	for _, e := range []end{a, b} {
		waitUp(t, e.ns, e.name)
	}
}

// waitUp polls until link is operationally up. Until the kernel's link
// watcher has run, a new link has no working queue and drops what is sent
// (the first ARP request, typically), which costs a one-second
// retransmission.
func waitUp(t testing.TB, ns *netns.NS, link string) {
	t.Helper()
	h := testkit.Handle(t, ns)
	deadline := time.Now().Add(5 * time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		l, err := h.LinkByName(link)
		require.NoError(t, err)
		if l.Attrs().OperState == netlink.OperUp {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("link %s is still %s after 5s", link, l.Attrs().OperState)
		}
		<-time.After(wait)
	}
}

// addAddr adds one more address to a link.
func addAddr(t testing.TB, ns *netns.NS, link string, p netip.Prefix) {
	t.Helper()
	h := testkit.Handle(t, ns)
	l, err := h.LinkByName(link)
	require.NoError(t, err)
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	require.NoError(t, h.AddrAdd(l, addr), "adding %s to %s", p, link)
}

// addRoute adds a route to dst via gw.
//
// Equivalent to: ip route add DST via GW
func addRoute(t testing.TB, ns *netns.NS, dst netip.Prefix, gw netip.Addr) {
	t.Helper()
	h := testkit.Handle(t, ns)
	r := &netlink.Route{
		Dst: &net.IPNet{IP: dst.Addr().AsSlice(), Mask: net.CIDRMask(dst.Bits(), dst.Addr().BitLen())},
		Gw:  gw.AsSlice(),
	}
	require.NoError(t, h.RouteAdd(r), "adding route %s via %s", dst, gw)
}

// run runs a command inside ns and fails the test if it fails.
func run(t testing.TB, ns *netns.NS, name string, args ...string) {
	t.Helper()
	testkit.RequireBinary(t, name)
	var out strings.Builder
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, ns.Start(cmd, netns.StartOptions{}))
	require.NoError(t, cmd.Wait(), "%s %s\n%s", name, strings.Join(args, " "), out.String())
}

// listen opens a listener inside ns; only the socket is made there.
func listen(t testing.TB, ns *netns.NS, network, addr string) net.Listener {
	t.Helper()
	var l net.Listener
	err := ns.Do(func() error {
		var err error
		l, err = net.Listen(network, addr)
		return err
	})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

// serveHTTP serves "hello from ADDR\n" on addr inside ns.
func serveHTTP(t testing.TB, ns *netns.NS, addr string) {
	t.Helper()
	l := listen(t, ns, "tcp", addr)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from "+addr+"\n")
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// serveUDPEcho echoes datagrams on addr inside ns.
func serveUDPEcho(t testing.TB, ns *netns.NS, addr string) {
	t.Helper()
	var c net.PacketConn
	err := ns.Do(func() error {
		var err error
		c, err = net.ListenPacket("udp", addr)
		return err
	})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	testkit.EchoUDP(c)
}

// natLab is the recording topology:
//
//	client 192.168.190.1/24, 203.0.113.10/24 (c0)
//	   |
//	router 192.168.190.128/24 (r0) — 172.17.0.1/16 (r1), forwarding
//	   |
//	server 172.17.0.2/16 (s0), default via 172.17.0.1
//
// The client reaches 172.17.0.0/16 through the router, and the router
// reaches 203.0.113.0/24 (the "internet") through the client namespace.
type natLab struct {
	client, router, server *netns.NS
}

// The recording topology's addresses are the article's: the router stands
// where its Docker host does, the server where its first container does.
var (
	clientAddr   = world.ClientAddr.Addr()
	internetAddr = world.InternetAddr.Addr()
	routerLAN    = world.HostAddr.Addr()
	routerBridge = netip.MustParseAddr("172.17.0.1")
	serverAddr   = netip.MustParseAddr("172.17.0.2")
)

func newNATLab(t testing.TB) *natLab {
	t.Helper()
	l := &natLab{client: newNS(t), router: newNS(t), server: newNS(t)}
	vethPair(t, end{l.client, "c0", netip.PrefixFrom(clientAddr, 24)}, end{l.router, "r0", netip.PrefixFrom(routerLAN, 24)})
	vethPair(t, end{l.router, "r1", netip.PrefixFrom(routerBridge, 16)}, end{l.server, "s0", netip.PrefixFrom(serverAddr, 16)})
	addAddr(t, l.client, "c0", netip.PrefixFrom(internetAddr, 24))
	addRoute(t, l.client, netip.MustParsePrefix("172.17.0.0/16"), routerLAN)
	addRoute(t, l.server, netip.MustParsePrefix("0.0.0.0/0"), routerBridge)
	addRoute(t, l.router, netip.MustParsePrefix("203.0.113.0/24"), clientAddr)
	require.NoError(t, l.router.WriteSysctl("net/ipv4/ip_forward", "1"))
	return l
}

// dnat publishes server:80 on the router's 192.168.190.128:801.
//
// Equivalent to: iptables -t nat -A PREROUTING -d 192.168.190.128 -p tcp --dport 801 -j DNAT --to-destination 172.17.0.2:80
func (l *natLab) dnat(t testing.TB) {
	run(t, l.router, "iptables", "-w", "-t", "nat", "-A", "PREROUTING", "-d", routerLAN.String(), "-p", "tcp", "--dport", "801",
		"-j", "DNAT", "--to-destination", serverAddr.String()+":80")
}

// masquerade hides 172.17.0.0/16 behind the router's LAN address.
//
// Equivalent to: iptables -t nat -A POSTROUTING -s 172.17.0.0/16 -o r0 -j MASQUERADE
func (l *natLab) masquerade(t testing.TB) {
	run(t, l.router, "iptables", "-w", "-t", "nat", "-A", "POSTROUTING", "-s", "172.17.0.0/16", "-o", "r0", "-j", "MASQUERADE")
}

// mustStop stops a capture and fails on any error.
func mustStop(t testing.TB, c *Capture) []Packet {
	t.Helper()
	pkts, err := c.Stop()
	require.NoError(t, err)
	return pkts
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
