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
)

// loNS makes a namespace with lo up, closed when the test ends, or skips
// where namespaces cannot be made.
func loNS(t *testing.T) *netns.NS {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("skipping: cannot make network namespaces: %v", err)
	}
	ns, err := netns.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	h, err := link.OpenHandle(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := link.SetLoUp(h); err != nil {
		t.Fatal(err)
	}
	return ns
}

// inNS returns what open makes in namespace ns (a socket), failing t if it
// fails.
func inNS[T any](t *testing.T, ns *netns.NS, open func() (T, error)) T {
	t.Helper()
	var v T
	if err := ns.Do(func() (err error) { v, err = open(); return err }); err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	c := inNS(t, ns, func() (net.Conn, error) { return net.DialTimeout("tcp4", host.String(), 5*time.Second) })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("ping"))
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	c.Close()
	if string(got) != "ping" || err != nil {
		t.Errorf("through the proxy: %q, %v; want ping", got, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ns.Do(func() error {
		c, err := net.Dial("tcp4", host.String())
		if err == nil {
			c.Close()
		}
		return err
	}); err == nil {
		t.Error("the proxy still listens after Close")
	}
	// The port is taken while a proxy holds it: Docker's error text.
	p, err = Start(ns, ports.TCP, host, target)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := Start(ns, ports.TCP, host, target); err == nil {
		t.Error("a second proxy on the same port started")
	} else if want := "Error starting userland proxy: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not begin with %q", err, want)
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
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := inNS(t, ns, func() (net.Conn, error) { return net.Dial("udp4", host.String()) })
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("ping"))
	b := make([]byte, 100)
	n, err := c.Read(b)
	if string(b[:n]) != "ping" || err != nil {
		t.Errorf("through the proxy: %q, %v; want ping", b[:n], err)
	}
}
