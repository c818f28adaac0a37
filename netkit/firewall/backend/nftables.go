package backend

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/firewall/nft"
	"github.com/labrun/labrun/netkit/ports"
)

// NFTables is dockerd --firewall-backend=nftables (Docker 29): the
// engine's networks, endpoints and published ports kept as an nft.State,
// and the host node's table ip docker-bridges replaced from it, over
// netlink, after each change (netkit/firewall/nft), with the table ip6
// docker-bridges after it (IPv4 networks leave it as it starts, but nft
// lists tables in the order they were made).
type NFTables struct {
	prog *nft.Programmer
	// noIPv4 is --iptables=false: Docker 29 makes no table ip then, and
	// still makes the table ip6 (its ip6tables option is on).
	noIPv4 bool

	mu    sync.Mutex
	state nft.State
}

// NewNFTables returns the nftables back end of the engine whose host node's
// namespace is the descriptor nsFD; noIPv4 is --iptables=false.
func NewNFTables(nsFD int, cfg firewall.Config, noIPv4 bool) *NFTables {
	return &NFTables{prog: nft.NewProgrammer(nsFD), noIPv4: noIPv4, state: nft.State{Config: cfg}}
}

// update changes the state with f and programs the table; on error the
// state is left as it was.
func (f *NFTables) update(what string, change func(s *nft.State)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.state
	next.Networks = slices.Clone(f.state.Networks)
	next.Endpoints = slices.Clone(f.state.Endpoints)
	next.Ports = slices.Clone(f.state.Ports)
	change(&next)
	if tables := f.tables(next); len(tables) > 0 {
		if err := f.prog.Apply(tables...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	f.state = next
	return nil
}

// tables are the tables of state s: ip then ip6, as Docker's NewNftabler
// makes them, the ip one left out with --iptables=false and the ip6 one
// with --ip6tables=false (its config's NoIP6Tables).
func (f *NFTables) tables(s nft.State) []nft.Ruleset {
	var out []nft.Ruleset
	if !f.noIPv4 {
		out = append(out, nft.Build(s))
	}
	if !s.Config.NoIP6Tables {
		out = append(out, nft.Build6(s))
	}
	return out
}

// Ruleset returns the tables as they are programmed, in nft list
// ruleset's form.
func (f *NFTables) Ruleset() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, t := range f.tables(f.state) {
		b.WriteString(t.String())
	}
	return b.String()
}

// Start makes the tables (see tables), then the first network's rules.
func (f *NFTables) Start(_ bool, first *firewall.Network) error {
	f.mu.Lock()
	err := f.prog.Apply(f.tables(f.state)...)
	f.mu.Unlock()
	if err != nil {
		return fmt.Errorf("creating the tables docker-bridges: %w", err)
	}
	if first != nil {
		return f.AddNetwork(*first)
	}
	return nil
}

// ForwardDrop does nothing: the nftables back end never turns forwarding
// on (docs/docker.md §1.4), so the engine never defers it.
func (f *NFTables) ForwardDrop() error { return nil }

// ForwardDrop6 does nothing, as ForwardDrop: the nftables back end never
// turns IPv6 forwarding on either (docs/docker.md §1.5 (e)).
func (f *NFTables) ForwardDrop6() error { return nil }

func (f *NFTables) AddNetwork(n firewall.Network) error {
	return f.update("adding network "+n.Name, func(s *nft.State) {
		s.Networks = append(s.Networks, n)
	})
}

func (f *NFTables) DelNetwork(n firewall.Network) error {
	return f.update("removing network "+n.Name, func(s *nft.State) {
		s.Networks = slices.DeleteFunc(s.Networks, func(x firewall.Network) bool { return x.Bridge == n.Bridge })
		s.Ports = slices.DeleteFunc(s.Ports, func(x nft.Publication) bool { return x.Bridge == n.Bridge })
		s.Endpoints = slices.DeleteFunc(s.Endpoints, func(x nft.Endpoint) bool { return x.Bridge == n.Bridge })
	})
}

// Expect announces nothing: the netlink back end does not batch.
func (f *NFTables) Expect(int) *batch.Ticket { return nil }

// AddPorts takes every binding, on an IPv6 host address too: with the
// container's IPv6 address ctr6 when it has one (see Split), else with its
// IPv4 one, for which Docker's nftabler accepts forwarded traffic to the
// container's port and leaves the binding out of NAT (docker-proxy serves
// it).
func (f *NFTables) AddPorts(n firewall.Network, ctr, ctr6 netip.Addr, bs []ports.Binding, _ *batch.Ticket) error {
	return f.update("publishing ports", func(s *nft.State) {
		s.Ports = append(s.Ports, publications(n, ctr, ctr6, bs)...)
	})
}

func (f *NFTables) DelPorts(n firewall.Network, ctr, ctr6 netip.Addr, bs []ports.Binding, _ *batch.Ticket) error {
	return f.update("unpublishing ports", func(s *nft.State) {
		for _, p := range publications(n, ctr, ctr6, bs) {
			if i := slices.Index(s.Ports, p); i >= 0 {
				s.Ports = slices.Delete(s.Ports, i, i+1)
			}
		}
	})
}

// publications are bindings bs of the container with addresses ctr and
// ctr6 on n, in order.
func publications(n firewall.Network, ctr, ctr6 netip.Addr, bs []ports.Binding) []nft.Publication {
	var out []nft.Publication
	for _, b := range bs {
		a := ctr
		if _, bs6 := Split(ctr6, []ports.Binding{b}); len(bs6) > 0 {
			a = ctr6
		}
		out = append(out, nft.Publication{Endpoint: nft.Endpoint{Bridge: n.Bridge, Addr: a}, Binding: b})
	}
	return out
}

func (f *NFTables) AddEndpoint(n firewall.Network, ctr netip.Addr) error {
	return f.update("adding endpoint "+ctr.String(), func(s *nft.State) {
		s.Endpoints = append(s.Endpoints, nft.Endpoint{Bridge: n.Bridge, Addr: ctr})
	})
}

func (f *NFTables) DelEndpoint(n firewall.Network, ctr netip.Addr) error {
	return f.update("removing endpoint "+ctr.String(), func(s *nft.State) {
		s.Endpoints = slices.DeleteFunc(s.Endpoints, func(x nft.Endpoint) bool { return x.Bridge == n.Bridge && x.Addr == ctr })
	})
}

// Stop deletes the tables, as labrun's engine stop removes all its rules
// with either back end. (Docker 29.8.1 stopped with SIGTERM leaves both
// tables with its networks' maps, chains and rules, only its containers'
// rules gone, as 28.5.2 leaves its networks' iptables rules: seen on the
// real engines.)
//
// Equivalent to: nft delete table ip docker-bridges; nft delete table ip6
// docker-bridges
func (f *NFTables) Stop() error { return f.prog.Delete() }
