// Package proxy is netkit's userland proxy, the docker-proxy of its engine:
// for each published port, a listener in the Docker host's namespace that
// forwards TCP connections and UDP datagrams to the container, so that the
// host reaches its own published ports (the NAT rules never see its
// loopback traffic).
//
// It exists apart from the engine so that the forwarding code, which
// outlives every engine call that starts it, has a room of its own. It is
// not the NAT rules (netkit/firewall) nor the choice of host ports
// (netkit/ports); it enters a namespace only through netns.
package proxy

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/ports"
)

// Start starts the userland proxy for one published port: a listener on
// host (an address and port in namespace ns, the Docker host's) that
// forwards every connection or datagram to target (the container's address
// and port), so that the host itself reaches its published ports
// (127.0.0.1 is never DNATed), as docker-proxy does. Close stops it and
// closes the connections it forwards. A protocol it does not proxy (sctp)
// gets a proxy that does nothing.
//
// Equivalent to: docker-proxy -proto PROTO -host-ip HOST_IP -host-port
// HOST_PORT -container-ip CTR_IP -container-port CTR_PORT
func Start(ns *netns.NS, proto ports.Proto, host, target netip.AddrPort) (io.Closer, error) {
	network := string(proto)
	if host.Addr().Is4() {
		network += "4"
	} else {
		network += "6"
	}
	addr := net.JoinHostPort(host.Addr().String(), strconv.Itoa(int(host.Port())))
	// The socket is made in the host's namespace and used from anywhere
	// after.
	listen := func(f func() error) error {
		if err := ns.Do(f); err != nil {
			return fmt.Errorf("Error starting userland proxy: %w", err) //nolint:staticcheck // Docker's text
		}
		return nil
	}
	switch proto {
	case ports.TCP:
		var ln net.Listener
		if err := listen(func() (err error) { ln, err = net.Listen(network, addr); return err }); err != nil {
			return nil, err
		}
		p := &tcpProxy{ln: ln, ns: ns, target: target}
		go p.serve()
		return p, nil
	case ports.UDP:
		var pc net.PacketConn
		if err := listen(func() (err error) { pc, err = net.ListenPacket(network, addr); return err }); err != nil {
			return nil, err
		}
		p := &udpProxy{pc: pc, ns: ns, target: target, conns: map[string]net.Conn{}}
		go p.serve()
		return p, nil
	default:
		return io.NopCloser(nil), nil
	}
}

type tcpProxy struct {
	ln     net.Listener
	ns     *netns.NS // where target is dialled from
	target netip.AddrPort
	wg     sync.WaitGroup
	tracker
}

func (p *tcpProxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() {
			defer in.Close()
			var out net.Conn
			err := p.ns.Do(func() error {
				var err error
				out, err = net.DialTimeout("tcp", p.target.String(), 5*time.Second)
				return err
			})
			if err != nil {
				return
			}
			defer out.Close()
			p.track(in, out)
			done := make(chan struct{}, 2)
			go func() { io.Copy(out, in); closeWrite(out); done <- struct{}{} }()
			go func() { io.Copy(in, out); closeWrite(in); done <- struct{}{} }()
			<-done
			<-done
		})
	}
}

func closeWrite(c net.Conn) {
	if t, ok := c.(*net.TCPConn); ok {
		t.CloseWrite()
	}
}

// tracker holds the connections a proxy forwards, to close them with it.
type tracker struct {
	mu  sync.Mutex
	all []net.Conn
}

func (k *tracker) track(cs ...net.Conn) {
	k.mu.Lock()
	k.all = append(k.all, cs...)
	k.mu.Unlock()
}

// closeAll closes l, then every tracked connection; it returns l's error.
func (k *tracker) closeAll(l io.Closer) error {
	err := l.Close()
	k.mu.Lock()
	for _, c := range k.all {
		c.Close()
	}
	k.mu.Unlock()
	return err
}

func (p *tcpProxy) Close() error { return p.closeAll(p.ln) }

type udpProxy struct {
	pc     net.PacketConn
	ns     *netns.NS // where target is dialled from
	target netip.AddrPort
	tracker
	conns map[string]net.Conn // by sender, under mu
}

func (p *udpProxy) serve() {
	buf := make([]byte, 65535)
	for {
		n, from, err := p.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		p.mu.Lock()
		out, ok := p.conns[from.String()]
		p.mu.Unlock()
		if !ok {
			err := p.ns.Do(func() error {
				var err error
				out, err = net.Dial("udp", p.target.String())
				return err
			})
			if err != nil {
				continue
			}
			p.mu.Lock()
			p.conns[from.String()] = out
			p.all = append(p.all, out)
			p.mu.Unlock()
			go func(out net.Conn, from net.Addr) {
				b := make([]byte, 65535)
				for {
					out.SetReadDeadline(time.Now().Add(90 * time.Second))
					n, err := out.Read(b)
					if err != nil {
						return
					}
					p.pc.WriteTo(b[:n], from)
				}
			}(out, from)
		}
		out.Write(buf[:n])
	}
}

func (p *udpProxy) Close() error { return p.closeAll(p.pc) }
