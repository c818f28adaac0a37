package backend

import (
	"errors"
	"net/netip"
	"slices"
	"sync"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/ports"
)

// IPTables programs Docker's rules (netkit/firewall, of cfg's release) in
// namespace ns: one iptables-restore per engine operation, and one
// ip6tables-restore where it changes ip6tables too (--ip6tables, on by
// default from 27; cfg.NoIP6Tables), run at the same time.
type IPTables struct {
	cfg   firewall.Config
	prog  *firewall.Programmer
	prog6 *firewall.Programmer
	// dropped6 (under mu): the engine set the ip6tables FORWARD policy
	// to DROP, which Stop puts back.
	mu       sync.Mutex
	dropped6 bool
}

// NewIPTables returns the iptables back end of the engine whose host node
// is ns. logf, when set, receives the programmers' tolerated problems.
func NewIPTables(ns *netns.NS, cfg firewall.Config, logf func(string, ...any)) *IPTables {
	return &IPTables{cfg: cfg, prog: firewall.NewProgrammer(ns, firewall.Options{Logf: logf}),
		prog6: firewall.NewProgrammer(ns, firewall.Options{Family: firewall.IPv6, Logf: logf})}
}

// bindingsOf are the bindings of bs with rules for a container address of
// family f: those on a host address of f, or on every address (Docker
// serves the others with docker-proxy alone).
func bindingsOf(f firewall.Family, bs []ports.Binding) []ports.Binding {
	var out []ports.Binding
	for _, b := range bs {
		if !b.HostIP.IsValid() || b.HostIP.Is4() == (f == firewall.IPv4) {
			out = append(out, b)
		}
	}
	return out
}

// familyOf is the family of a container's address.
func familyOf(a netip.Addr) firewall.Family {
	if a.Is6() && !a.Is4In6() {
		return firewall.IPv6
	}
	return firewall.IPv4
}

// apply applies ops4 with the iptables programmer and ops6 with the
// ip6tables one, at the same time when both have some.
func (f *IPTables) apply(ops4, ops6 []firewall.Op) error {
	if len(ops6) == 0 {
		return f.prog.Apply(ops4)
	}
	done := make(chan error, 1)
	go func() { done <- f.prog6.Apply(ops6) }()
	err := f.prog.Apply(ops4)
	return errors.Join(err, <-done)
}

func (f *IPTables) Start(flipped bool, first *firewall.Network) error {
	f.cfg.IPForwardFlipped = flipped
	ops, ops6 := f.cfg.Start(), f.cfg.Start6()
	if first != nil {
		ops = append(ops, f.cfg.AddNetwork(*first)...)
		ops6 = append(ops6, f.cfg.AddNetwork6(*first)...)
	}
	f.mu.Lock()
	f.dropped6 = slices.ContainsFunc(ops6, func(o firewall.Op) bool { return o.Kind == firewall.Policy })
	f.mu.Unlock()
	return f.apply(ops, ops6)
}

// ForwardDrop6 sets the ip6tables FORWARD policy to DROP once the engine
// turned IPv6 forwarding on (28+: firewall.ForwardDrop6).
func (f *IPTables) ForwardDrop6() error {
	if f.cfg.NoIP6Tables {
		return nil
	}
	f.mu.Lock()
	f.dropped6 = true
	f.mu.Unlock()
	return f.prog6.Apply(firewall.ForwardDrop6())
}

// ForwardDrop sets the FORWARD policy to DROP once the engine turned
// forwarding on after it started.
func (f *IPTables) ForwardDrop() error {
	f.cfg.IPForwardFlipped = true
	return f.prog.Apply(firewall.ForwardDrop())
}

func (f *IPTables) AddNetwork(n firewall.Network) error {
	return f.apply(f.cfg.AddNetwork(n), f.cfg.AddNetwork6(n))
}

func (f *IPTables) DelNetwork(n firewall.Network) error {
	return f.apply(f.cfg.RemoveNetwork(n), f.cfg.RemoveNetwork6(n))
}

// prog is the programmer of the family of a container's address.
func (f *IPTables) progOf(ctr netip.Addr) *firewall.Programmer {
	if familyOf(ctr) == firewall.IPv6 {
		return f.prog6
	}
	return f.prog
}

// AddPorts programs a container's bindings bs on network n, where it has
// address ctr and, on a network with IPv6, ctr6 (see Split): each
// family's in one batch, so that rules shared by two bindings of one
// container port are added once, as Docker does.
func (f *IPTables) AddPorts(n firewall.Network, ctr, ctr6 netip.Addr, bs []ports.Binding, t *batch.Ticket) error {
	bs4, bs6 := Split(ctr6, bs)
	return f.ports(t, f.cfg.AddBindings(n, ctr, bindingsOf(familyOf(ctr), bs4)...), f.cfg.AddBindings(n, ctr6, bs6...))
}

func (f *IPTables) DelPorts(n firewall.Network, ctr, ctr6 netip.Addr, bs []ports.Binding, t *batch.Ticket) error {
	bs4, bs6 := Split(ctr6, bs)
	return f.ports(t, f.cfg.RemoveBindings(n, ctr, bindingsOf(familyOf(ctr), bs4)...), f.cfg.RemoveBindings(n, ctr6, bs6...))
}

// ports applies the port rules of both families, the IPv4 ones as the
// call that t announced.
func (f *IPTables) ports(t *batch.Ticket, ops4, ops6 []firewall.Op) error {
	if len(ops6) == 0 {
		return f.prog.ApplyAnnounced(ops4, t)
	}
	done := make(chan error, 1)
	go func() { done <- f.prog6.Apply(ops6) }()
	err := f.prog.ApplyAnnounced(ops4, t)
	return errors.Join(err, <-done)
}

// Split splits a container's bindings bs between its addresses: with an
// IPv6 address ctr6 (valid), the bindings on an IPv6 host address are
// its (bs6), the others its IPv4 address's; without, all are the IPv4
// address's (docs/docker.md §2.4: Docker pairs a binding on :: with the
// container's IPv6 address, when it has one).
func Split(ctr6 netip.Addr, bs []ports.Binding) (bs4, bs6 []ports.Binding) {
	if !ctr6.IsValid() {
		return bs, nil
	}
	for _, b := range bs {
		if b.HostIP.Is6() && !b.HostIP.Is4In6() {
			bs6 = append(bs6, b)
		} else {
			bs4 = append(bs4, b)
		}
	}
	return bs4, bs6
}

func (f *IPTables) Expect(n int) *batch.Ticket { return f.prog.Expect(n) }

func (f *IPTables) AddEndpoint(n firewall.Network, ctr netip.Addr) error {
	return f.progOf(ctr).Apply(f.cfg.AddEndpoint(n, ctr))
}

func (f *IPTables) DelEndpoint(n firewall.Network, ctr netip.Addr) error {
	return f.progOf(ctr).Apply(f.cfg.RemoveEndpoint(n, ctr))
}

// Stop removes what is left of the engine's rules once its networks are
// gone (see firewall.Programmer.Teardown), serialised with every other
// batch of this namespace: iptables' and ip6tables', each where the
// engine wrote any.
func (f *IPTables) Stop() error {
	var errs []error
	if !f.cfg.NoIPTables {
		errs = append(errs, f.prog.Teardown(f.cfg.IPForwardFlipped))
	}
	if !f.cfg.NoIP6Tables {
		f.mu.Lock()
		dropped := f.dropped6
		f.mu.Unlock()
		errs = append(errs, f.prog6.Teardown(dropped))
	}
	return errors.Join(errs...)
}
