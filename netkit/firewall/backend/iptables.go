package backend

import (
	"errors"
	"fmt"
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
	logf  func(string, ...any)
	// started6 is closed once ip6tables has the engine's chains (see
	// Start), err6 (set before) tells how that went.
	started6 chan struct{}
	err6     error
	// dropped6 (under mu): the engine set the ip6tables FORWARD policy
	// to DROP, which Stop puts back.
	mu       sync.Mutex
	dropped6 bool
}

// NewIPTables returns the iptables back end of the engine whose host node
// is ns. logf, when set, receives the programmers' tolerated problems.
func NewIPTables(ns *netns.NS, cfg firewall.Config, logf func(string, ...any)) *IPTables {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &IPTables{cfg: cfg, prog: firewall.NewProgrammer(ns, firewall.Options{Logf: logf}),
		prog6: firewall.NewProgrammer(ns, firewall.Options{Family: firewall.IPv6, Logf: logf}), logf: logf}
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
// ip6tables one, at the same time when both have some, and ip6tables'
// once it has the engine's chains. need6: ops6 are a network with IPv6's;
// others (27's ip6tables isolation of an IPv4-only network) are left out,
// and logged, if ip6tables could not be set up (see Start).
func (f *IPTables) apply(ops4, ops6 []firewall.Op, need6 bool, t *batch.Ticket) error {
	if len(ops6) == 0 {
		return f.prog.ApplyAnnounced(ops4, t)
	}
	done := make(chan error, 1)
	go func() { done <- f.apply6(ops6, need6) }()
	err := f.prog.ApplyAnnounced(ops4, t)
	return errors.Join(err, <-done)
}

// Wait waits until ip6tables has the engine's chains (see Start), as a
// closing lab does before its namespaces go.
func (f *IPTables) Wait() {
	if f.started6 != nil {
		<-f.started6
	}
}

// apply6 applies ops6 once ip6tables has the engine's chains (see apply).
func (f *IPTables) apply6(ops6 []firewall.Op, need6 bool) error {
	f.Wait()
	if f.err6 != nil {
		if !need6 {
			f.logf("ip6tables: skipped %d rules of an IPv4-only network: %v", len(ops6), f.err6)
			return nil
		}
		return fmt.Errorf("programming ip6tables: %w", f.err6)
	}
	return f.prog6.Apply(ops6)
}

// Start programs the engine's chains in iptables and ip6tables. An
// engine whose default network has no IPv6 sets up ip6tables in the
// background: that costs a lab of IPv4 networks only nothing (27 sets the
// ip6tables FORWARD policy, which the kernel takes some 15 ms to do), and
// a host without ip6tables or IPv6 keeps its IPv4 networks (the failure
// is logged, and returned by the first operation on a network with IPv6).
func (f *IPTables) Start(flipped bool, first *firewall.Network) error {
	f.cfg.IPForwardFlipped = flipped
	ops, ops6 := f.cfg.Start(), f.cfg.Start6()
	need6 := first != nil && first.Subnet6.IsValid()
	if first != nil {
		ops = append(ops, f.cfg.AddNetwork(*first)...)
		ops6 = append(ops6, f.cfg.AddNetwork6(*first)...)
	}
	f.mu.Lock()
	f.dropped6 = slices.ContainsFunc(ops6, func(o firewall.Op) bool { return o.Kind == firewall.Policy })
	f.mu.Unlock()
	if need6 || len(ops6) == 0 {
		return f.apply(ops, ops6, true, nil)
	}
	// After iptables: the kernel commits one namespace's rule changes
	// one at a time, both families', and 27's policy holds the commit for
	// an RCU grace period.
	if err := f.prog.Apply(ops); err != nil {
		f.err6 = err // nothing to tear down in ip6tables either
		return err
	}
	f.started6 = make(chan struct{})
	go func() {
		defer close(f.started6)
		if f.err6 = f.prog6.Apply(ops6); f.err6 != nil {
			f.logf("ip6tables: setting up the engine's chains: %v", f.err6)
		}
	}()
	return nil
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
	return f.apply6(firewall.ForwardDrop6(), true)
}

// ForwardDrop sets the FORWARD policy to DROP once the engine turned
// forwarding on after it started.
func (f *IPTables) ForwardDrop() error {
	f.cfg.IPForwardFlipped = true
	return f.prog.Apply(firewall.ForwardDrop())
}

func (f *IPTables) AddNetwork(n firewall.Network) error {
	return f.apply(f.cfg.AddNetwork(n), f.cfg.AddNetwork6(n), n.Subnet6.IsValid(), nil)
}

func (f *IPTables) DelNetwork(n firewall.Network) error {
	return f.apply(f.cfg.RemoveNetwork(n), f.cfg.RemoveNetwork6(n), n.Subnet6.IsValid(), nil)
}

// AddPorts programs a container's bindings bs on network n, where it has
// address ctr and, on a network with IPv6, ctr6 (see Split): each
// family's in one batch, so that rules shared by two bindings of one
// container port are added once, as Docker does.
func (f *IPTables) AddPorts(n firewall.Network, ctr, ctr6 netip.Addr, bs []ports.Binding, t *batch.Ticket) error {
	bs4, bs6 := Split(ctr6, bs)
	return f.apply(f.cfg.AddBindings(n, ctr, bindingsOf(familyOf(ctr), bs4)...), f.cfg.AddBindings(n, ctr6, bs6...), true, t)
}

func (f *IPTables) DelPorts(n firewall.Network, ctr, ctr6 netip.Addr, bs []ports.Binding, t *batch.Ticket) error {
	bs4, bs6 := Split(ctr6, bs)
	return f.apply(f.cfg.RemoveBindings(n, ctr, bindingsOf(familyOf(ctr), bs4)...), f.cfg.RemoveBindings(n, ctr6, bs6...), true, t)
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
	if familyOf(ctr) == firewall.IPv6 {
		return f.apply6(f.cfg.AddEndpoint(n, ctr), true)
	}
	return f.prog.Apply(f.cfg.AddEndpoint(n, ctr))
}

func (f *IPTables) DelEndpoint(n firewall.Network, ctr netip.Addr) error {
	if familyOf(ctr) == firewall.IPv6 {
		return f.apply6(f.cfg.RemoveEndpoint(n, ctr), true)
	}
	return f.prog.Apply(f.cfg.RemoveEndpoint(n, ctr))
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
	f.Wait()
	if !f.cfg.NoIP6Tables && f.err6 == nil {
		f.mu.Lock()
		dropped := f.dropped6
		f.mu.Unlock()
		errs = append(errs, f.prog6.Teardown(dropped))
	}
	return errors.Join(errs...)
}
