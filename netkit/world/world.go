// Package world is the classroom world as data, and what wires a set of
// network namespaces into it: the article's Docker host, client, gateway
// and internet server, the LAN between the first three (a bridge in a
// hidden switch node), their addresses, routes and forwarding, and the
// world's name service (the lab's resolver on the internet server, and
// each node's /etc files).
//
//	client 192.168.190.1 ─┐
//	host 192.168.190.128 ─┼─ lan (a bridge in the hidden "switch" node)
//	gateway 192.168.190.2 ┘   gateway 203.0.113.1 ── internet 203.0.113.10
//
// host and client route via the gateway, which forwards between the LAN and
// the internet side (without NAT); the host forwards too (ip_forward=1,
// unless Options.HostIPForwardOff). Nothing leads out of the world.
//
// It is not the lab (netkit's Lab holds the namespaces and their nodes)
// nor Docker's engine; it knows namespaces and netlink only.
package world

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/netns"
)

// The world's nodes.
const (
	Host     = "host"
	Client   = "client"
	Gateway  = "gateway"
	Internet = "internet"
	// Switch is the hidden node of the LAN's bridge.
	Switch = "switch"
)

// Nodes are the world's nodes, in the order they are made.
var Nodes = []string{Switch, Host, Client, Gateway, Internet}

// The world's addresses (the article's).
var (
	HostAddr     = netip.MustParsePrefix("192.168.190.128/24")
	ClientAddr   = netip.MustParsePrefix("192.168.190.1/24")
	GatewayLAN   = netip.MustParsePrefix("192.168.190.2/24")
	GatewayWAN   = netip.MustParsePrefix("203.0.113.1/24")
	InternetAddr = netip.MustParsePrefix("203.0.113.10/24")
)

// Options change the world.
type Options struct {
	// HostIPForwardOff leaves net.ipv4.ip_forward at 0 in the host.
	HostIPForwardOff bool
}

// Node is one node of the world as Wire takes it: its namespace and a
// netlink handle bound to it.
type Node struct {
	NS *netns.NS
	NL *netlink.Handle
}

// Wire builds the world in nodes (one per name of Nodes, each with lo up).
func Wire(nodes map[string]Node, o Options) error {
	sw := nodes[Switch]
	// Equivalent to: ip link add lan type bridge && ip link set lan up
	lan := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "lan"}}
	if err := sw.NL.LinkAdd(lan); err != nil {
		return fmt.Errorf("adding lan bridge: %w", err)
	}
	if err := sw.NL.LinkSetUp(lan); err != nil {
		return fmt.Errorf("setting lan up: %w", err)
	}
	for _, w := range []struct {
		node, port, ifname string
		addr               netip.Prefix
	}{
		{Host, "p-host", "eth0", HostAddr},
		{Client, "p-client", "eth0", ClientAddr},
		{Gateway, "p-gateway", "eth0", GatewayLAN},
	} {
		if err := wire(sw, w.port, nodes[w.node], w.ifname, "lan"); err != nil {
			return err
		}
		if err := addAddr(nodes[w.node], w.ifname, w.addr); err != nil {
			return err
		}
	}
	gw, inet := nodes[Gateway], nodes[Internet]
	if err := wire(gw, "eth1", inet, "eth0", ""); err != nil {
		return err
	}
	if err := addAddr(gw, "eth1", GatewayWAN); err != nil {
		return err
	}
	if err := addAddr(inet, "eth0", InternetAddr); err != nil {
		return err
	}
	for name, via := range map[string]netip.Addr{Host: GatewayLAN.Addr(), Client: GatewayLAN.Addr(), Internet: GatewayWAN.Addr()} {
		// Equivalent to: ip -n NODE route add default via GW
		if err := nodes[name].NL.RouteAdd(&netlink.Route{Gw: net.IP(via.AsSlice())}); err != nil {
			return fmt.Errorf("adding default route via %s in %s: %w", via, name, err)
		}
	}
	// New namespaces inherit IPv4 settings from the root namespace
	// (net.core.devconf_inherit_init_net=0), so set forwarding everywhere.
	hostFwd := "1"
	if o.HostIPForwardOff {
		hostFwd = "0"
	}
	for name, v := range map[string]string{Gateway: "1", Host: hostFwd, Client: "0", Internet: "0", Switch: "0"} {
		if err := nodes[name].NS.WriteSysctl("net/ipv4/ip_forward", v); err != nil {
			return err
		}
	}
	// The ends that were set up before their peers are usable once the
	// kernel has seen their carrier (see link.WaitOperUp).
	link.WaitOperUp(sw.NL, "p-host", "p-client", "p-gateway")
	link.WaitOperUp(gw.NL, "eth1")
	return nil
}

// wire connects node a (interface aName) to node b (interface bName) with a
// veth pair, both ends up; aName is enslaved to bridge master in a when
// master is not empty.
//
// Equivalent to: ip link add A type veth peer name B netns NODE_B;
// ip link set A master MASTER up; ip -n NODE_B link set B up
func wire(a Node, aName string, b Node, bName, master string) error {
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: aName},
		PeerName:      bName,
		PeerNamespace: netlink.NsFd(b.NS.Fd()),
	}
	if master != "" {
		br, err := a.NL.LinkByName(master)
		if err != nil {
			return fmt.Errorf("finding bridge %s: %w", master, err)
		}
		veth.MasterIndex = br.Attrs().Index
	}
	if err := a.NL.LinkAdd(veth); err != nil {
		return fmt.Errorf("adding veth %s/%s: %w", aName, bName, err)
	}
	for _, end := range []struct {
		n    Node
		name string
	}{{a, aName}, {b, bName}} {
		l, err := end.n.NL.LinkByName(end.name)
		if err == nil {
			err = end.n.NL.LinkSetUp(l)
		}
		if err != nil {
			return fmt.Errorf("setting %s up: %w", end.name, err)
		}
	}
	return nil
}

// addAddr adds address p to interface name of node n.
//
// Equivalent to: ip -n NODE addr add P dev NAME
func addAddr(n Node, name string, p netip.Prefix) error {
	l, err := n.NL.LinkByName(name)
	if err != nil {
		return fmt.Errorf("finding %s: %w", name, err)
	}
	ipn := &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
	if err := n.NL.AddrAdd(l, &netlink.Addr{IPNet: ipn}); err != nil {
		return fmt.Errorf("adding %s to %s: %w", p, name, err)
	}
	return nil
}
