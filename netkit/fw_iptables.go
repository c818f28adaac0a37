package netkit

import (
	"net/netip"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/ports"
)

// This file is the engine's side of both firewall back ends' settings
// (package firewall's Config and Network, which netkit/firewall/nft takes
// too), and the iptables back end.

// firewallConfig is the engine's settings that shape every rule.
func (e *Engine) firewallConfig() firewall.Config {
	return firewall.Config{Release: e.opts.Release, NoUserlandProxy: e.opts.NoUserlandProxy}
}

// firewallNetwork is network n's settings as the firewall back ends take
// them.
func firewallNetwork(n *Network) firewall.Network {
	return firewall.Network{Bridge: n.Bridge, Subnet: n.Subnet, NoICC: !n.ICC, NoIPMasq: !n.Masq, Internal: n.Internal,
		HostIPv4: n.HostIPv4}
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

// iptablesFirewall programs Docker's rules (netkit/firewall, era 27 by
// default) in the host node: one iptables-restore per engine operation.
type iptablesFirewall struct {
	e    *Engine
	cfg  firewall.Config
	prog *firewall.Programmer
}

func newIPTablesFirewall(e *Engine) firewaller {
	return &iptablesFirewall{
		e:    e,
		cfg:  e.firewallConfig(),
		prog: firewall.NewProgrammer(e.host.ns, firewall.Options{Logf: e.lab.opts.Logf}),
	}
}

func (f *iptablesFirewall) start(flipped bool, first *Network) error {
	f.cfg.IPForwardFlipped = flipped
	ops := f.cfg.Start()
	if first != nil {
		ops = append(ops, f.cfg.AddNetwork(firewallNetwork(first))...)
	}
	return f.prog.Apply(ops)
}

// forwardDrop sets the FORWARD policy to DROP once the engine turned
// forwarding on after it started (see Engine.forwardNow).
func (f *iptablesFirewall) forwardDrop() error {
	f.cfg.IPForwardFlipped = true
	return f.prog.Apply(firewall.ForwardDrop())
}

func (f *iptablesFirewall) addNetwork(n *Network) error {
	return f.prog.Apply(f.cfg.AddNetwork(firewallNetwork(n)))
}

func (f *iptablesFirewall) delNetwork(n *Network) error {
	return f.prog.Apply(f.cfg.RemoveNetwork(firewallNetwork(n)))
}

// addPorts programs all of a container's IPv4 bindings in one batch, so that
// rules shared by two bindings of one container port are added once, as
// Docker does.
func (f *iptablesFirewall) addPorts(n *Network, ctr netip.Addr, bs []ports.Binding, t *batch.Ticket) error {
	return f.prog.ApplyAnnounced(f.cfg.AddBindings(firewallNetwork(n), ctr, ipv4Bindings(bs)...), t)
}

func (f *iptablesFirewall) delPorts(n *Network, ctr netip.Addr, bs []ports.Binding, t *batch.Ticket) error {
	return f.prog.ApplyAnnounced(f.cfg.RemoveBindings(firewallNetwork(n), ctr, ipv4Bindings(bs)...), t)
}

func (f *iptablesFirewall) expect(n int) *batch.Ticket { return f.prog.Expect(n) }

func (f *iptablesFirewall) addEndpoint(n *Network, ctr netip.Addr) error {
	return f.prog.Apply(f.cfg.AddEndpoint(firewallNetwork(n), ctr))
}

func (f *iptablesFirewall) delEndpoint(n *Network, ctr netip.Addr) error {
	return f.prog.Apply(f.cfg.RemoveEndpoint(firewallNetwork(n), ctr))
}

// stop removes what is left of the engine's rules once its networks are
// gone (see firewall.Programmer.Teardown), serialised with every other batch
// of this namespace.
func (f *iptablesFirewall) stop() error {
	return f.prog.Teardown(f.cfg.IPForwardFlipped)
}
