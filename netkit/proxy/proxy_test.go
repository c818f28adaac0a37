package proxy

import (
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loNS makes a namespace with lo up, closed when the test ends, or skips
// where namespaces cannot be made.
func loNS(t *testing.T) *netns.NS {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("skipping: cannot make network namespaces: %v", err)
	}
	ns, err := netns.New()
	require.NoError(t, err)
	t.Cleanup(func() { ns.Close() })
	h, err := link.OpenHandle(ns)
	require.NoError(t, err)
	defer h.Close()
	require.NoError(t, link.SetLoUp(h))
	return ns
}

// inNS returns what open makes in namespace ns (a socket), failing t if it
// fails.
func inNS[T any](t *testing.T, ns *netns.NS, open func() (T, error)) T {
	t.Helper()
	var v T
	require.NoError(t, ns.Do(func() (err error) { v, err = open(); return err }))
	return v
}

// TestProxyTCP: a connection to the proxy reaches the target, both ways,
// and Close stops the listener.
func TestProxyTCP(t *testing.T) {
	ns := loNS(t)
	ln := inNS(t, ns, func() (net.Listener, error) { return net.Listen("tcp4", "127.0.0.1:0") })
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(c, c) // echo
			c.Close()
		}
	}()
	target := ln.Addr().(*net.TCPAddr).AddrPort()
	host := netip.MustParseAddrPort("127.0.0.1:18080")
	p, err := Start(ns, ports.TCP, host, target)
	require.NoError(t, err)
	c := inNS(t, ns, func() (net.Conn, error) { return net.DialTimeout("tcp4", host.String(), 5*time.Second) })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("ping"))
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	c.Close()
	assert.NoError(t, err, "through the proxy")
	assert.Equal(t, "ping", string(got), "through the proxy")
	require.NoError(t, p.Close())
	assert.Error(t, ns.Do(func() error {
		c, err := net.Dial("tcp4", host.String())
		if err == nil {
			c.Close()
		}
		return err
	}), "the proxy still listens after Close")
	// The port is taken while a proxy holds it: Docker's error text.
	p, err = Start(ns, ports.TCP, host, target)
	require.NoError(t, err)
	defer p.Close()
	_, err = Start(ns, ports.TCP, host, target)
	if assert.Error(t, err, "a second proxy on the same port started") {
		want := "Error starting userland proxy: "
		assert.True(t, strings.HasPrefix(err.Error(), want), "error %q does not begin with %q", err, want)
	}
}

// TestProxyUDP: a datagram to the proxy reaches the target and the answer
// comes back to the sender.
func TestProxyUDP(t *testing.T) {
	ns := loNS(t)
	pc := inNS(t, ns, func() (net.PacketConn, error) { return net.ListenPacket("udp4", "127.0.0.1:0") })
	defer pc.Close()
	testkit.EchoUDP(pc)
	target := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	host := netip.MustParseAddrPort("127.0.0.1:18081")
	p, err := Start(ns, ports.UDP, host, target)
	require.NoError(t, err)
	defer p.Close()
	c := inNS(t, ns, func() (net.Conn, error) { return net.Dial("udp4", host.String()) })
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("ping"))
	b := make([]byte, 100)
	n, err := c.Read(b)
	assert.NoError(t, err, "through the proxy")
	assert.Equal(t, "ping", string(b[:n]), "through the proxy")
}
