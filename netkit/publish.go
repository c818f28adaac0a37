package netkit

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/proxy"
	"github.com/labrun/labrun/netkit/release"
)

// publish allocates host ports for the container's -p/-P bindings on the
// network of endpoint ep, where it has ep's addresses, starts the userland
// proxies and programs DNAT, as Docker's bridge driver does when the
// endpoint joins. On error nothing of it remains; unpublishAll undoes a
// success.
func (c *Container) publish(ep *endpoint, t *batch.Ticket) error {
	e, n, ctr, ctr6, epID := c.e, ep.net, ep.addr, ep.addr6, ep.ID
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
	fail := func(cause error) error {
		return derr(ErrConflict, "driver failed programming external connectivity on endpoint %s (%s): %s", c.Name, epID, cause.Error())
	}
	got, proxies, err := proxy.Bind{NS: e.host.NS(), Alloc: e.alloc, Default: n.HostBinding, Ctr: ctr, Ctr6: ctr6,
		NoProxy: e.opts.NoUserlandProxy, SkipIPv6: e.opts.NoUserlandProxy && e.opts.ProxylessIPv6Skipped(),
		Conflict: e.ownBindConflict}.Publish(bs)
	if err != nil {
		return fail(err)
	}
	if ferr := e.fw.AddPorts(fwNet(n), ctr, ctr6, got, t); ferr != nil {
		for _, p := range proxies {
			p.Close()
		}
		c.unpublishBindings(n, ctr, ctr6, got, nil)
		return fail(ferr)
	}
	c.mu.Lock()
	c.bindings = got
	c.proxies = proxies
	c.portsNet, c.portsAddr, c.portsAddr6 = n, ctr, ctr6
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

// unpublishAll undoes a successful publish on network n: its proxies,
// rules and host ports.
func (c *Container) unpublishAll(n *Network) error {
	c.mu.Lock()
	proxies, bindings, ctr, ctr6 := c.proxies, c.bindings, c.portsAddr, c.portsAddr6
	c.proxies, c.bindings, c.portsNet = nil, nil, nil
	c.mu.Unlock()
	var errs []error
	for _, p := range proxies {
		errs = append(errs, p.Close())
	}
	errs = append(errs, c.unpublishBindings(n, ctr, ctr6, bindings, nil))
	return errors.Join(errs...)
}

// unpublish removes the DNAT rules of bindings, published on network n
// where the container has addresses ctr and ctr6 (nil n: none were), and
// releases the host ports; the caller closes the proxies.
func (c *Container) unpublish(n *Network, ctr, ctr6 netip.Addr, bindings []ports.Binding, t *batch.Ticket) error {
	if n == nil {
		return nil
	}
	return c.unpublishBindings(n, ctr, ctr6, bindings, t)
}

func (c *Container) unpublishBindings(n *Network, ctr, ctr6 netip.Addr, bindings []ports.Binding, t *batch.Ticket) error {
	if len(bindings) == 0 {
		return nil
	}
	var err error
	if !c.e.discarding.Load() {
		err = c.e.fw.DelPorts(fwNet(n), ctr, ctr6, bindings, t)
	}
	for _, b := range bindings {
		c.e.alloc.Release(b.HostIP, b.Container.Proto, b.HostPort)
	}
	return err
}
