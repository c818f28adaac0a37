package backend

import (
	"net/netip"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/ports"
)

// IPTables programs Docker's rules (netkit/firewall, of cfg's release) in
// namespace ns: one iptables-restore per engine operation.
type IPTables struct {
	cfg  firewall.Config
	prog *firewall.Programmer
}

// NewIPTables returns the iptables back end of the engine whose host node
// is ns. logf, when set, receives the programmer's tolerated problems.
func NewIPTables(ns *netns.NS, cfg firewall.Config, logf func(string, ...any)) *IPTables {
	return &IPTables{cfg: cfg, prog: firewall.NewProgrammer(ns, firewall.Options{Logf: logf})}
}

// ipv4Bindings are the bindings of bs on an IPv4 host address: the only
// ones with rules (Docker serves the others with docker-proxy alone).
func ipv4Bindings(bs []ports.Binding) []ports.Binding {
	var out []ports.Binding
	for _, b := range bs {
		if b.HostIP.Is4() {
			out = append(out, b)
		}
	}
	return out
}

func (f *IPTables) Start(flipped bool, first *firewall.Network) error {
	f.cfg.IPForwardFlipped = flipped
	ops := f.cfg.Start()
	if first != nil {
		ops = append(ops, f.cfg.AddNetwork(*first)...)
	}
	return f.prog.Apply(ops)
}

// ForwardDrop sets the FORWARD policy to DROP once the engine turned
// forwarding on after it started.
func (f *IPTables) ForwardDrop() error {
	f.cfg.IPForwardFlipped = true
	return f.prog.Apply(firewall.ForwardDrop())
}

func (f *IPTables) AddNetwork(n firewall.Network) error { return f.prog.Apply(f.cfg.AddNetwork(n)) }

func (f *IPTables) DelNetwork(n firewall.Network) error { return f.prog.Apply(f.cfg.RemoveNetwork(n)) }

// AddPorts programs all of a container's IPv4 bindings in one batch, so
// that rules shared by two bindings of one container port are added once,
// as Docker does.
func (f *IPTables) AddPorts(n firewall.Network, ctr netip.Addr, bs []ports.Binding, t *batch.Ticket) error {
	return f.prog.ApplyAnnounced(f.cfg.AddBindings(n, ctr, ipv4Bindings(bs)...), t)
}

func (f *IPTables) DelPorts(n firewall.Network, ctr netip.Addr, bs []ports.Binding, t *batch.Ticket) error {
	return f.prog.ApplyAnnounced(f.cfg.RemoveBindings(n, ctr, ipv4Bindings(bs)...), t)
}

func (f *IPTables) Expect(n int) *batch.Ticket { return f.prog.Expect(n) }

func (f *IPTables) AddEndpoint(n firewall.Network, ctr netip.Addr) error {
	return f.prog.Apply(f.cfg.AddEndpoint(n, ctr))
}

func (f *IPTables) DelEndpoint(n firewall.Network, ctr netip.Addr) error {
	return f.prog.Apply(f.cfg.RemoveEndpoint(n, ctr))
}

// Stop removes what is left of the engine's rules once its networks are
// gone (see firewall.Programmer.Teardown), serialised with every other
// batch of this namespace.
func (f *IPTables) Stop() error { return f.prog.Teardown(f.cfg.IPForwardFlipped) }
