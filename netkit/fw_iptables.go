package netkit

import (
	"fmt"
	"net/netip"
	"strings"

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

func (f *iptablesFirewall) start(flipped bool) error {
	f.cfg.IPForwardFlipped = flipped
	return f.prog.Apply(f.cfg.Start())
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
func (f *iptablesFirewall) addPorts(n *Network, ctr netip.Addr, bs []PortBinding) error {
	return f.prog.Apply(f.cfg.AddPorts(f.network(n), f.ports(ctr, bs)...))
}

func (f *iptablesFirewall) delPorts(n *Network, ctr netip.Addr, bs []PortBinding) error {
	return f.prog.Apply(f.cfg.RemovePorts(f.network(n), f.ports(ctr, bs)...))
}

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
// gone: the DOCKER* chains and every rule that jumps to them, and the
// FORWARD policy it set. It reads the tables back ("the hard way") so that
// it also cleans what an earlier run left.
//
// Equivalent to: iptables-save -t T | grep -v DOCKER | iptables-restore -T T
func (f *iptablesFirewall) stop() error {
	for _, table := range []string{"raw", "filter", "nat"} {
		out, err := f.e.host.Output("iptables-save", "-t", table)
		if err != nil {
			return err
		}
		var b strings.Builder
		changed := false
		for _, line := range strings.Split(string(out), "\n") {
			switch {
			case strings.HasPrefix(line, ":DOCKER"), strings.HasPrefix(line, "-A DOCKER"),
				strings.HasPrefix(line, "-A") && strings.Contains(line, "-j DOCKER"):
				changed = true
				continue
			case table == "filter" && f.cfg.IPForwardFlipped && strings.HasPrefix(line, ":FORWARD DROP"):
				line = strings.Replace(line, "DROP", "ACCEPT", 1)
				changed = true
			}
			b.WriteString(line + "\n")
		}
		if !changed {
			continue
		}
		cmd, err := f.e.host.Command(nil, "iptables-restore", "-w")
		if err != nil {
			return err
		}
		cmd.Stdin = strings.NewReader(b.String())
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := f.e.host.Start(cmd); err != nil {
			return err
		}
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("removing the engine's %s rules: %w: %s", table, err, strings.TrimSpace(stderr.String()))
		}
	}
	return nil
}
