package netkit

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/proc"
)

var (
	any4 = netip.IPv4Unspecified()
	any6 = netip.IPv6Unspecified()
)

// publish allocates host ports for the container's -p/-P bindings on network
// n, where it has address ctr on endpoint epID, starts the userland proxies
// and programs DNAT, as Docker's bridge driver does when the endpoint joins.
// On error nothing of it remains; unpublishAll undoes a success.
func (c *Container) publish(n *Network, ctr netip.Addr, epID string, t *batch.Ticket) (err error) {
	e := c.e
	bs := portsOf(c.opts)
	if len(bs) == 0 || n.Internal {
		// Docker maps no ports on an --internal network (the daemon's
		// buildCreateEndpointOptions skips them).
		return nil
	}
	ports.Sort(bs)
	var got []PortBinding
	var proxies []io.Closer
	defer func() {
		if err != nil {
			for _, p := range proxies {
				p.Close()
			}
			c.unpublishBindings(n, ctr, got, nil)
		}
	}()
	fail := func(cause error) error {
		return derr(ErrConflict, "driver failed programming external connectivity on endpoint %s (%s): %s", c.Name, epID, cause.Error())
	}
	for _, b := range bs {
		ips := []netip.Addr{b.HostIP}
		switch {
		case b.HostIP.IsValid():
		case n.HostBinding.IsValid() && !n.HostBinding.IsUnspecified():
			ips = []netip.Addr{n.HostBinding}
		default:
			ips = []netip.Addr{any4, any6}
		}
		// Ephemeral and range requests move on to the next port when the
		// kernel refuses the bind (Docker retries up to 10 times); an exact
		// port fails at once.
		ephemeral := b.HostPort == 0 || (b.HostPortEnd != 0 && b.HostPortEnd != b.HostPort)
		var lastErr error
		for attempt := 0; attempt < 10; attempt++ {
			port, aerr := e.allocate(ips, b)
			if aerr != nil {
				if lastErr != nil {
					return fail(lastErr)
				}
				return fail(aerr)
			}
			var these []io.Closer
			var bound []PortBinding
			lastErr = nil
			for _, ip := range ips {
				pb := PortBinding{Container: b.Container, HostIP: ip, HostPort: port}
				if !e.opts.NoUserlandProxy {
					p, perr := e.startProxy(pb, ctr)
					if perr != nil {
						lastErr = perr
						break
					}
					these = append(these, p)
				}
				bound = append(bound, pb)
			}
			if lastErr != nil {
				for _, p := range these {
					p.Close()
				}
				for _, ip := range ips {
					e.alloc.Release(ip, b.Container.Proto, port)
				}
				if !ephemeral {
					return fail(lastErr)
				}
				continue
			}
			proxies = append(proxies, these...)
			got = append(got, bound...)
			break
		}
		if lastErr != nil {
			return fail(lastErr)
		}
	}
	if ferr := e.fw.addPorts(n, ctr, got, t); ferr != nil {
		return fail(ferr)
	}
	c.mu.Lock()
	c.bindings = got
	c.proxies = proxies
	c.mu.Unlock()
	return nil
}

// allocate reserves one host port for every address in ips, as Docker 27
// does (the same port for 0.0.0.0 and ::).
func (e *Engine) allocate(ips []netip.Addr, b ports.Binding) (uint16, error) {
	start, end := b.HostPort, b.HostPortEnd
	if end == 0 {
		end = start
	}
	return e.alloc.RequestSame(ips, b.Container.Proto, start, end)
}

// unpublishAll undoes a successful publish on network n, where the
// container has address ctr: its proxies, rules and host ports.
func (c *Container) unpublishAll(n *Network, ctr netip.Addr) error {
	c.mu.Lock()
	proxies, bindings := c.proxies, c.bindings
	c.proxies, c.bindings = nil, nil
	c.mu.Unlock()
	var errs []error
	for _, p := range proxies {
		errs = append(errs, p.Close())
	}
	errs = append(errs, c.unpublishBindings(n, ctr, bindings, nil))
	return errors.Join(errs...)
}

// unpublish removes the DNAT rules, proxies are closed by the caller, and the
// host ports are released.
func (c *Container) unpublish(bindings []PortBinding, eps []*endpoint, t *batch.Ticket) error {
	if len(eps) == 0 {
		return nil
	}
	n := eps[0].net
	return c.unpublishBindings(n, eps[0].addr, bindings, t)
}

func (c *Container) unpublishBindings(n *Network, ctr netip.Addr, bindings []PortBinding, t *batch.Ticket) error {
	if len(bindings) == 0 {
		return nil
	}
	var err error
	if !c.e.discarding.Load() {
		err = c.e.fw.delPorts(n, ctr, bindings, t)
	}
	for _, b := range bindings {
		c.e.alloc.Release(b.HostIP, b.Container.Proto, b.HostPort)
	}
	return err
}

// startProxy starts the userland proxy for one binding: a listener in the
// host node that forwards to the container, so that the host itself reaches
// its published ports (127.0.0.1 is never DNATed), as docker-proxy does.
func (e *Engine) startProxy(b PortBinding, ctr netip.Addr) (io.Closer, error) {
	network := string(b.Container.Proto)
	if b.HostIP.Is4() {
		network += "4"
	} else {
		network += "6"
	}
	addr := net.JoinHostPort(b.HostIP.String(), strconv.Itoa(int(b.HostPort)))
	target := netip.AddrPortFrom(ctr, b.Container.Num)
	// The socket is made in the host node and used from anywhere after.
	listen := func(f func() error) error {
		if err := e.host.ns.Do(f); err != nil {
			return fmt.Errorf("Error starting userland proxy: %w", err) //nolint:staticcheck // Docker's text
		}
		return nil
	}
	switch b.Container.Proto {
	case ports.TCP:
		var ln net.Listener
		if err := listen(func() (err error) { ln, err = net.Listen(network, addr); return err }); err != nil {
			return nil, err
		}
		p := &tcpProxy{ln: ln, e: e, target: target}
		go p.serve()
		return p, nil
	case ports.UDP:
		var pc net.PacketConn
		if err := listen(func() (err error) { pc, err = net.ListenPacket(network, addr); return err }); err != nil {
			return nil, err
		}
		p := &udpProxy{pc: pc, e: e, target: target, conns: map[string]net.Conn{}}
		go p.serve()
		return p, nil
	default:
		return io.NopCloser(nil), nil
	}
}

type tcpProxy struct {
	ln     net.Listener
	e      *Engine
	target netip.AddrPort
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func (p *tcpProxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer in.Close()
			var out net.Conn
			err := p.e.host.ns.Do(func() error {
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
		}()
	}
}

func closeWrite(c net.Conn) {
	if t, ok := c.(*net.TCPConn); ok {
		t.CloseWrite()
	}
}

func (p *tcpProxy) track(cs ...net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, cs...)
	p.mu.Unlock()
}

func (p *tcpProxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	return err
}

type udpProxy struct {
	pc     net.PacketConn
	e      *Engine
	target netip.AddrPort
	mu     sync.Mutex
	conns  map[string]net.Conn
	closed bool
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
			err := p.e.host.ns.Do(func() error {
				var err error
				out, err = net.Dial("udp", p.target.String())
				return err
			})
			if err != nil {
				continue
			}
			p.mu.Lock()
			p.conns[from.String()] = out
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

func (p *udpProxy) Close() error {
	err := p.pc.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	return err
}

// Descendants returns roots and every process descended from them, roots
// first, each once. It is proc.Descendants, kept for netkit's users.
func Descendants(roots []int) []int { return proc.Descendants(roots) }
