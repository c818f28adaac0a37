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
// Each of them has an IPv6 address too, from the documentation prefix
// 2001:db8::/32 (RFC 3849), shaped like its IPv4 one: the LAN is
// 2001:db8:190::/64 (host ::128, client ::1, gateway ::2), the internet
// side 2001:db8:113::/64 (gateway ::1, internet ::10).
//
// host and client route via the gateway, which forwards between the LAN and
// the internet side (without NAT) in both families; the host forwards IPv4
// (ip_forward=1, unless Options.HostIPForwardOff) and leaves IPv6
// forwarding to its Docker engine, which turns it on with its first IPv6
// network, as on a real host. Nothing leads out of the world.
//
// It is not the lab (netkit's Lab holds the namespaces and their nodes)
// nor Docker's engine; it knows namespaces and netlink only.
package world

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

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

	HostAddr6     = netip.MustParsePrefix("2001:db8:190::128/64")
	ClientAddr6   = netip.MustParsePrefix("2001:db8:190::1/64")
	GatewayLAN6   = netip.MustParsePrefix("2001:db8:190::2/64")
	GatewayWAN6   = netip.MustParsePrefix("2001:db8:113::1/64")
	InternetAddr6 = netip.MustParsePrefix("2001:db8:113::10/64")
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
	// The world's addresses are planned, so its nodes skip duplicate
	// address detection: while an interface's link-local address is
	// tentative (a second or two), a router cannot ask for the neighbour
	// of a packet it forwards, and the first packet waits.
	// Equivalent to: sysctl -w net.ipv6.conf.{all,default}.accept_dad=0
	_, noV6 := nodes[Host].NS.ReadSysctl("net/ipv6/conf/all/forwarding")
	for _, name := range Nodes {
		for _, conf := range []string{"all", "default"} {
			if noV6 != nil {
				break
			}
			if err := nodes[name].NS.WriteSysctl("net/ipv6/conf/"+conf+"/accept_dad", "0"); err != nil {
				return err
			}
		}
	}
	sw := nodes[Switch]
	// Equivalent to: ip link add lan type bridge && ip link set lan up
	lan := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "lan"}}
	if err := sw.NL.LinkAdd(lan); err != nil {
		return fmt.Errorf("adding lan bridge: %w", err)
	}
	if err := sw.NL.LinkSetUp(lan); err != nil {
		return fmt.Errorf("setting lan up: %w", err)
	}
	for _, w := range []struct{ node, port string }{{Host, "p-host"}, {Client, "p-client"}, {Gateway, "p-gateway"}} {
		if err := wire(sw, w.port, nodes[w.node], "eth0", "lan"); err != nil {
			return err
		}
	}
	gw, inet := nodes[Gateway], nodes[Internet]
	if err := wire(gw, "eth1", inet, "eth0", ""); err != nil {
		return err
	}
	for _, a := range []struct {
		node, ifname string
		addr         netip.Prefix
	}{
		{Host, "eth0", HostAddr}, {Client, "eth0", ClientAddr}, {Gateway, "eth0", GatewayLAN},
		{Gateway, "eth1", GatewayWAN}, {Internet, "eth0", InternetAddr},
		{Host, "eth0", HostAddr6}, {Client, "eth0", ClientAddr6}, {Gateway, "eth0", GatewayLAN6},
		{Gateway, "eth1", GatewayWAN6}, {Internet, "eth0", InternetAddr6},
	} {
		if a.addr.Addr().Is6() && noV6 != nil {
			continue // a kernel without IPv6 (ipv6.disable=1): an IPv4 world
		}
		if err := addAddr(nodes[a.node], a.ifname, a.addr); err != nil {
			return err
		}
	}
	for _, r := range []struct {
		node string
		via  netip.Addr
	}{
		{Host, GatewayLAN.Addr()}, {Client, GatewayLAN.Addr()}, {Internet, GatewayWAN.Addr()},
		{Host, GatewayLAN6.Addr()}, {Client, GatewayLAN6.Addr()}, {Internet, GatewayWAN6.Addr()},
	} {
		if r.via.Is6() && noV6 != nil {
			continue
		}
		// Equivalent to: ip -n NODE route add default via GW
		if err := nodes[r.node].NL.RouteAdd(&netlink.Route{Gw: net.IP(r.via.AsSlice())}); err != nil {
			return fmt.Errorf("adding default route via %s in %s: %w", r.via, r.node, err)
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
	if noV6 == nil {
		if err := gw.NS.WriteSysctl("net/ipv6/conf/all/forwarding", "1"); err != nil {
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

// addAddr adds address p to interface name of node n; an IPv6 address
// without duplicate address detection, so that it is usable at once (as
// Docker adds its containers').
//
// Equivalent to: ip -n NODE addr add P dev NAME [nodad]
func addAddr(n Node, name string, p netip.Prefix) error {
	l, err := n.NL.LinkByName(name)
	if err != nil {
		return fmt.Errorf("finding %s: %w", name, err)
	}
	ipn := &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
	a := &netlink.Addr{IPNet: ipn}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	if err := n.NL.AddrAdd(l, a); err != nil {
		return fmt.Errorf("adding %s to %s: %w", p, name, err)
	}
	return nil
}
