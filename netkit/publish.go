package netkit

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/proxy"
	"github.com/labrun/labrun/netkit/release"
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
	if len(bs) == 0 || n.Internal || n.link != nil {
		// Docker maps no ports on an --internal network (the daemon's
		// buildCreateEndpointOptions skips them), nor on macvlan or ipvlan.
		return nil
	}
	if e.opts.API() < apiSortAndNorm {
		ports.SortPortMap(bs)
	} else {
		ports.Sort(bs)
	}
	var got []ports.Binding
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
		if e.opts.NoUserlandProxy && e.opts.ProxylessIPv6Skipped() {
			// Containers have no IPv6 address: nothing carries host IPv6
			// to them without docker-proxy (docs/docker.md §2.4).
			ips = slices.DeleteFunc(ips, func(ip netip.Addr) bool { return ip.Is6() && !ip.Is4In6() })
			if len(ips) == 0 {
				continue
			}
		}
		if err := e.ownBindConflict(got, ips, b); err != nil {
			return fail(err)
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
			var bound []ports.Binding
			lastErr = nil
			for _, ip := range ips {
				pb := ports.Binding{Container: b.Container, HostIP: ip, HostPort: port}
				if !e.opts.NoUserlandProxy {
					p, perr := proxy.Start(e.host.NS(), pb.Container.Proto, netip.AddrPortFrom(ip, port), netip.AddrPortFrom(ctr, b.Container.Num))
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
	if ferr := e.fw.AddPorts(fwNet(n), ctr, got, t); ferr != nil {
		return fail(ferr)
	}
	c.mu.Lock()
	c.bindings = got
	c.proxies = proxies
	c.portsNet, c.portsAddr = n, ctr
	c.mu.Unlock()
	return nil
}

// ownBindConflict is the kernel's refusal of an exact host port that
// another of the container's own bindings holds (-p 8080:80 -p
// [::]:8080:80, the first of which binds :: too): from 28 the allocator
// lets one container's bindings share a port, and the bind fails, as
// 28.5.2 ("failed to listen on TCP socket") and 29.8.1 ("failed to bind
// host port [::]:8080/tcp") say; before, the allocator refuses it ("Bind
// for :::8080 failed", seen on 20.10.24).
func (e *Engine) ownBindConflict(got []ports.Binding, ips []netip.Addr, b ports.Binding) error {
	if e.opts.Era < release.Era28 || b.HostPort == 0 || (b.HostPortEnd != 0 && b.HostPortEnd != b.HostPort) {
		return nil
	}
	for _, ip := range ips {
		for _, g := range got {
			if g.HostIP != ip || g.HostPort != b.HostPort || g.Container.Proto != b.Container.Proto {
				continue
			}
			if e.opts.Era >= release.Era29 {
				return fmt.Errorf("failed to bind host port %s/%s: address already in use",
					netip.AddrPortFrom(ip, b.HostPort), b.Container.Proto)
			}
			return fmt.Errorf("failed to listen on %s socket: address already in use", strings.ToUpper(string(b.Container.Proto)))
		}
	}
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
	c.proxies, c.bindings, c.portsNet = nil, nil, nil
	c.mu.Unlock()
	var errs []error
	for _, p := range proxies {
		errs = append(errs, p.Close())
	}
	errs = append(errs, c.unpublishBindings(n, ctr, bindings, nil))
	return errors.Join(errs...)
}

// unpublish removes the DNAT rules of bindings, published on network n
// where the container has address ctr (nil n: none were), and releases the
// host ports; the caller closes the proxies.
func (c *Container) unpublish(n *Network, ctr netip.Addr, bindings []ports.Binding, t *batch.Ticket) error {
	if n == nil {
		return nil
	}
	return c.unpublishBindings(n, ctr, bindings, t)
}

func (c *Container) unpublishBindings(n *Network, ctr netip.Addr, bindings []ports.Binding, t *batch.Ticket) error {
	if len(bindings) == 0 {
		return nil
	}
	var err error
	if !c.e.discarding.Load() {
		err = c.e.fw.DelPorts(fwNet(n), ctr, bindings, t)
	}
	for _, b := range bindings {
		c.e.alloc.Release(b.HostIP, b.Container.Proto, b.HostPort)
	}
	return err
}
