package netkit

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/firewall/nft"
	"github.com/labrun/labrun/netkit/ports"
)

// nftablesFirewall is dockerd --firewall-backend=nftables (Docker 29): the
// engine's networks, endpoints and published ports kept as an nft.State,
// and the host node's table ip docker-bridges replaced from it, over
// netlink, after each change (netkit/firewall/nft).
type nftablesFirewall struct {
	e    *Engine
	prog *nft.Programmer

	mu    sync.Mutex
	state nft.State
}

func newNFTablesFirewall(e *Engine) firewaller {
	return &nftablesFirewall{
		e:     e,
		prog:  nft.NewProgrammer(e.host.ns.Fd()),
		state: nft.State{Config: e.firewallConfig()},
	}
}

// update changes the state with f and programs the table; on error the
// state is left as it was.
func (f *nftablesFirewall) update(what string, change func(s *nft.State)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.state
	next.Networks = slices.Clone(f.state.Networks)
	next.Endpoints = slices.Clone(f.state.Endpoints)
	next.Ports = slices.Clone(f.state.Ports)
	change(&next)
	if err := f.prog.Apply(nft.Build(next)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	f.state = next
	return nil
}

// Ruleset returns the table as it is programmed, in nft list ruleset's
// form.
func (f *nftablesFirewall) ruleset() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return nft.Build(f.state).String()
}

func (f *nftablesFirewall) start(_ bool, first *Network) error {
	if err := f.update("creating table ip docker-bridges", func(*nft.State) {}); err != nil {
		return err
	}
	if first != nil {
		return f.addNetwork(first)
	}
	return nil
}

// forwardDrop does nothing: the nftables back end never turns forwarding
// on (docs/docker.md §1.4), so the engine never defers it.
func (f *nftablesFirewall) forwardDrop() error { return nil }

func (f *nftablesFirewall) addNetwork(n *Network) error {
	return f.update("adding network "+n.Name, func(s *nft.State) {
		s.Networks = append(s.Networks, firewallNetwork(n))
	})
}

func (f *nftablesFirewall) delNetwork(n *Network) error {
	return f.update("removing network "+n.Name, func(s *nft.State) {
		s.Networks = slices.DeleteFunc(s.Networks, func(x firewall.Network) bool { return x.Bridge == n.Bridge })
		s.Ports = slices.DeleteFunc(s.Ports, func(x nft.Publication) bool { return x.Bridge == n.Bridge })
		s.Endpoints = slices.DeleteFunc(s.Endpoints, func(x nft.Endpoint) bool { return x.Bridge == n.Bridge })
	})
}

// expect announces nothing: the netlink back end does not batch.
func (f *nftablesFirewall) expect(int) *batch.Ticket { return nil }

func (f *nftablesFirewall) addPorts(n *Network, ctr netip.Addr, bs []ports.Binding, _ *batch.Ticket) error {
	return f.update("publishing ports", func(s *nft.State) {
		for _, b := range ipv4Bindings(bs) {
			s.Ports = append(s.Ports, publication(n, ctr, b))
		}
	})
}

func (f *nftablesFirewall) delPorts(n *Network, ctr netip.Addr, bs []ports.Binding, _ *batch.Ticket) error {
	return f.update("unpublishing ports", func(s *nft.State) {
		for _, b := range bs {
			p := publication(n, ctr, b)
			if i := slices.Index(s.Ports, p); i >= 0 {
				s.Ports = slices.Delete(s.Ports, i, i+1)
			}
		}
	})
}

// publication is binding b of the container with address ctr on n.
func publication(n *Network, ctr netip.Addr, b ports.Binding) nft.Publication {
	return nft.Publication{Endpoint: nft.Endpoint{Bridge: n.Bridge, Addr: ctr}, Binding: b}
}

func (f *nftablesFirewall) addEndpoint(n *Network, ctr netip.Addr) error {
	return f.update("adding endpoint "+ctr.String(), func(s *nft.State) {
		s.Endpoints = append(s.Endpoints, nft.Endpoint{Bridge: n.Bridge, Addr: ctr})
	})
}

func (f *nftablesFirewall) delEndpoint(n *Network, ctr netip.Addr) error {
	return f.update("removing endpoint "+ctr.String(), func(s *nft.State) {
		s.Endpoints = slices.DeleteFunc(s.Endpoints, func(x nft.Endpoint) bool { return x.Bridge == n.Bridge && x.Addr == ctr })
	})
}

// stop deletes the table, as stopping dockerd with the nftables back end
// leaves none of its rules.
//
// Equivalent to: nft delete table ip docker-bridges
func (f *nftablesFirewall) stop() error { return f.prog.Delete() }

// NFTRuleset returns the engine's nftables table in nft list ruleset's
// form, or "" when the engine uses iptables.
func (e *Engine) NFTRuleset() string {
	e.mu.Lock()
	fw := e.fw
	e.mu.Unlock()
	if f, ok := fw.(*nftablesFirewall); ok {
		return f.ruleset()
	}
	return ""
}
