package netkit

import (
	"net/netip"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/firewall"
)

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
		cfg:  firewall.Config{Era: e.opts.Era, NoUserlandProxy: e.opts.NoUserlandProxy},
		prog: firewall.NewProgrammer(e.host.ns, firewall.Options{Logf: e.lab.opts.Logf}),
	}
}

func (f *iptablesFirewall) network(n *Network) firewall.Network {
	return firewall.Network{Bridge: n.Bridge, Subnet: n.Subnet, NoICC: !n.ICC, NoIPMasq: !n.Masq, Internal: n.Internal}
}

func (f *iptablesFirewall) port(ctr netip.Addr, b PortBinding) firewall.Port {
	return firewall.Port{Proto: b.Container.Proto, HostIP: b.HostIP, HostPort: b.HostPort, ContainerIP: ctr, ContainerPort: b.Container.Num}
}

func (f *iptablesFirewall) start(flipped bool, first *Network) error {
	f.cfg.IPForwardFlipped = flipped
	ops := f.cfg.Start()
	if first != nil {
		ops = append(ops, f.cfg.AddNetwork(f.network(first))...)
	}
	return f.prog.Apply(ops)
}

func (f *iptablesFirewall) addNetwork(n *Network) error {
	return f.prog.Apply(f.cfg.AddNetwork(f.network(n)))
}

func (f *iptablesFirewall) delNetwork(n *Network) error {
	return f.prog.Apply(f.cfg.RemoveNetwork(f.network(n)))
}

// addPorts programs all of a container's IPv4 bindings in one batch, so that
// rules shared by two bindings of one container port are added once, as
// Docker does.
func (f *iptablesFirewall) addPorts(n *Network, ctr netip.Addr, bs []PortBinding, t *batch.Ticket) error {
	return f.prog.ApplyAnnounced(f.cfg.AddPorts(f.network(n), f.ports(ctr, bs)...), t)
}

func (f *iptablesFirewall) delPorts(n *Network, ctr netip.Addr, bs []PortBinding, t *batch.Ticket) error {
	return f.prog.ApplyAnnounced(f.cfg.RemovePorts(f.network(n), f.ports(ctr, bs)...), t)
}

func (f *iptablesFirewall) expect(n int) *batch.Ticket { return f.prog.Expect(n) }

func (f *iptablesFirewall) ports(ctr netip.Addr, bs []PortBinding) []firewall.Port {
	var out []firewall.Port
	for _, b := range bs {
		if b.HostIP.Is4() {
			out = append(out, f.port(ctr, b))
		}
	}
	return out
}

func (f *iptablesFirewall) addEndpoint(n *Network, ctr netip.Addr) error {
	return f.prog.Apply(f.cfg.AddEndpoint(f.network(n), ctr))
}

func (f *iptablesFirewall) delEndpoint(n *Network, ctr netip.Addr) error {
	return f.prog.Apply(f.cfg.RemoveEndpoint(f.network(n), ctr))
}

// stop removes what is left of the engine's rules once its networks are
// gone (see firewall.Programmer.Teardown), serialised with every other batch
// of this namespace.
func (f *iptablesFirewall) stop() error {
	return f.prog.Teardown(f.cfg.IPForwardFlipped)
}
