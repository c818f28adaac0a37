package proxy

import (
	"io"
	"net/netip"
	"slices"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/ports"
)

// Bind is how a container's ports are published on one of its networks,
// as Docker's bridge driver binds them when the endpoint joins: host ports
// from an allocator and a proxy per host address.
type Bind struct {
	// NS is the Docker host's namespace, Alloc its host ports.
	NS    *netns.NS
	Alloc *ports.Allocator
	// Default is the network's default host address (--ip,
	// com.docker.network.bridge.host_binding_ipv4): zero or unspecified
	// means 0.0.0.0 and ::.
	Default netip.Addr
	// Ctr and Ctr6 are the container's addresses: a binding on an IPv6
	// host address goes to Ctr6 when it is valid (docs/docker.md §2.4).
	Ctr, Ctr6 netip.Addr
	// NoProxy is --userland-proxy=false: no listener. SkipIPv6 leaves
	// out the IPv6 host addresses of a container without Ctr6, which
	// nothing would carry there without a proxy.
	NoProxy, SkipIPv6 bool
	// Conflict, when set, refuses binding b on host addresses ips given
	// the bindings got so far (the kernel's refusal of a port that
	// another of the container's bindings holds).
	Conflict func(got []ports.Binding, ips []netip.Addr, b ports.Binding) error
}

var (
	any4 = netip.IPv4Unspecified()
	any6 = netip.IPv6Unspecified()
)

// Publish allocates a host port for each of bs, in order, the same one
// for each of its host addresses (Docker 27's 0.0.0.0 and ::), and starts
// a proxy on each. An ephemeral or range request moves on to the next
// port when the bind fails (Docker retries up to 10 times); an exact port
// fails at once. It returns the bindings as bound, one per host address
// (HostIP and HostPort set), and their proxies; on error nothing of them
// remains.
func (r Bind) Publish(bs []ports.Binding) (got []ports.Binding, proxies []io.Closer, err error) {
	defer func() {
		if err != nil {
			for _, p := range proxies {
				p.Close()
			}
			for _, b := range got {
				r.Alloc.Release(b.HostIP, b.Container.Proto, b.HostPort)
			}
			got, proxies = nil, nil
		}
	}()
	for _, b := range bs {
		ips := []netip.Addr{b.HostIP}
		switch {
		case b.HostIP.IsValid():
		case r.Default.IsValid() && !r.Default.IsUnspecified():
			ips = []netip.Addr{r.Default}
		default:
			ips = []netip.Addr{any4, any6}
		}
		if r.SkipIPv6 && !r.Ctr6.IsValid() {
			ips = slices.DeleteFunc(ips, func(ip netip.Addr) bool { return ip.Is6() && !ip.Is4In6() })
			if len(ips) == 0 {
				continue
			}
		}
		if r.Conflict != nil {
			if err := r.Conflict(got, ips, b); err != nil {
				return got, proxies, err
			}
		}
		bound, these, err := r.bind(ips, b)
		if err != nil {
			return got, proxies, err
		}
		got, proxies = append(got, bound...), append(proxies, these...)
	}
	return got, proxies, nil
}

// bind binds b on every address of ips, on one port.
func (r Bind) bind(ips []netip.Addr, b ports.Binding) ([]ports.Binding, []io.Closer, error) {
	ephemeral := b.HostPort == 0 || (b.HostPortEnd != 0 && b.HostPortEnd != b.HostPort)
	end := b.HostPortEnd
	if end == 0 {
		end = b.HostPort
	}
	var lastErr error
	for attempt := 0; attempt < 10; attempt++ {
		port, aerr := r.Alloc.RequestSame(ips, b.Container.Proto, b.HostPort, end)
		if aerr != nil {
			if lastErr != nil {
				return nil, nil, lastErr
			}
			return nil, nil, aerr
		}
		var these []io.Closer
		var bound []ports.Binding
		lastErr = nil
		for _, ip := range ips {
			pb := ports.Binding{Container: b.Container, HostIP: ip, HostPort: port}
			if !r.NoProxy {
				to := r.Ctr
				if ip.Is6() && !ip.Is4In6() && r.Ctr6.IsValid() {
					to = r.Ctr6
				}
				p, perr := Start(r.NS, pb.Container.Proto, netip.AddrPortFrom(ip, port), netip.AddrPortFrom(to, b.Container.Num))
				if perr != nil {
					lastErr = perr
					break
				}
				these = append(these, p)
			}
			bound = append(bound, pb)
		}
		if lastErr == nil {
			return bound, these, nil
		}
		for _, p := range these {
			p.Close()
		}
		for _, ip := range ips {
			r.Alloc.Release(ip, b.Container.Proto, port)
		}
		if !ephemeral {
			return nil, nil, lastErr
		}
	}
	return nil, nil, lastErr
}
