// Package backend is the engine's seam to its firewall: one Firewall
// interface that the engine calls as it creates networks, endpoints and
// published ports, and its three implementations, dockerd's
// --firewall-backend=iptables (netkit/firewall, one iptables-restore per
// operation), --firewall-backend=nftables (netkit/firewall/nft, over
// netlink) and --iptables=false (nothing).
//
// It is not where rules are written (netkit/firewall and its nft package
// build them as data) nor where the engine's state lives: it takes each
// network as firewall.Network and keeps only what a back end must remember
// (the nftables state it rebuilds its tables from).
package backend

import (
	"net/netip"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/firewall"
	"github.com/labrun/labrun/netkit/ports"
)

// Firewall is what the engine asks of its rule back end.
type Firewall interface {
	// Start programs the engine's own chains and, when first is not nil,
	// that network's rules, in one batch (one iptables-save and one
	// iptables-restore for a fresh engine instead of two of each).
	Start(flippedForward bool, first *firewall.Network) error
	// ForwardDrop sets the FORWARD policy to DROP when the engine turned
	// forwarding on after it started.
	ForwardDrop() error
	// ForwardDrop6 sets the ip6tables FORWARD policy to DROP when the
	// engine turned IPv6 forwarding on for a network with IPv6 (28+).
	ForwardDrop6() error
	AddNetwork(n firewall.Network) error
	DelNetwork(n firewall.Network) error
	// Expect announces n calls of AddPorts or DelPorts that a container
	// being started or stopped is about to make (see package batch).
	Expect(n int) *batch.Ticket
	// AddPorts and DelPorts take the container's address on n and its
	// IPv6 address there (zero on a network without IPv6); see Split.
	AddPorts(n firewall.Network, ctr, ctr6 netip.Addr, bs []ports.Binding, t *batch.Ticket) error
	DelPorts(n firewall.Network, ctr, ctr6 netip.Addr, bs []ports.Binding, t *batch.Ticket) error
	// AddEndpoint and DelEndpoint take one container address, whose
	// family says which rules they change: a dual-stack container's take
	// one call per address.
	AddEndpoint(n firewall.Network, ctr netip.Addr) error
	DelEndpoint(n firewall.Network, ctr netip.Addr) error
	// Stop removes what is left of the engine's rules.
	Stop() error
}

// None is dockerd --iptables=false with the iptables back end: no rules.
type None struct{}

func (None) Start(bool, *firewall.Network) error { return nil }
func (None) ForwardDrop() error                  { return nil }
func (None) ForwardDrop6() error                 { return nil }
func (None) AddNetwork(firewall.Network) error   { return nil }
func (None) DelNetwork(firewall.Network) error   { return nil }
func (None) Expect(int) *batch.Ticket            { return nil }
func (None) AddPorts(firewall.Network, netip.Addr, netip.Addr, []ports.Binding, *batch.Ticket) error {
	return nil
}
func (None) DelPorts(firewall.Network, netip.Addr, netip.Addr, []ports.Binding, *batch.Ticket) error {
	return nil
}
func (None) AddEndpoint(firewall.Network, netip.Addr) error { return nil }
func (None) DelEndpoint(firewall.Network, netip.Addr) error { return nil }
func (None) Stop() error                                    { return nil }
