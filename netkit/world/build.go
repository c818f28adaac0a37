package world

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/etcdir"
	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/node"
	"github.com/labrun/labrun/netkit/resolver"
	"github.com/labrun/labrun/netkit/sandbox"
)

// Options change how Build makes a world. The zero value builds it as
// the file says, and writes no /etc files.
type Options struct {
	// DockerForwardOff leaves net.ipv4.ip_forward at 0 on the nodes that
	// run Docker, whatever the file says, so that their engines turn it on
	// and set the FORWARD policy to DROP, as Docker does on a host that did
	// not forward.
	DockerForwardOff bool
	// Etc, when set, receives each node's /etc files (its hostname, a
	// hosts file, a resolv.conf naming the world's resolver), which its
	// commands see.
	Etc *etcdir.Dir
	// Logf, when set, receives the resolver's and the start-up
	// commands' complaints.
	Logf func(format string, args ...any)
}

// Built is a world made in namespaces of its own: its nodes (with the
// switch, when it has LANs), its resolver and its start-up commands. Close
// removes all; so does the end of the process, however it ends.
type Built struct {
	// Nodes are the world's nodes by name, the switch among them.
	Nodes map[string]*node.Node
	zone  *resolver.ZoneServer
	procs []*exec.Cmd
	mains []*node.Main
}

// readyTimeout bounds the wait for a built-in server started by a node's
// command.
const readyTimeout = 5 * time.Second

// Build makes world w: a namespace per node (and the hidden switch node,
// whose bridges are the LANs), the veth pairs of the LANs and links, the
// addresses, routes and sysctls, the nodes' /etc files, the resolver and
// the start-up commands. On error, nothing of it remains.
//
// Every node starts with forwarding off (new namespaces take their IPv4
// settings from the root namespace: net.core.devconf_inherit_init_net=0)
// and without duplicate address detection (the world's addresses are
// planned, so its nodes skip it: while an interface's link-local address is
// tentative, a router cannot ask for the neighbour of a packet it forwards,
// and the first packet waits). On a kernel without IPv6 (ipv6.disable=1)
// the IPv6 addresses, routes and settings are left out: an IPv4 world.
func Build(w *World, o Options) (b *Built, err error) {
	b = &Built{Nodes: map[string]*node.Node{}}
	defer func() {
		if err != nil {
			b.Close()
			b = nil
		}
	}()
	order := w.NodeNames()
	if len(w.LANs) > 0 {
		order = append([]string{SwitchNode}, order...)
	}
	for _, name := range order {
		n, err := node.New(name)
		if err != nil {
			return nil, fmt.Errorf("making node %s: %w", name, err)
		}
		b.Nodes[name] = n
	}
	first := b.Nodes[order[0]]
	_, noV6 := first.NS().ReadSysctl("net/ipv6/conf/all/forwarding")
	v6 := noV6 == nil
	for _, name := range order {
		n := b.Nodes[name]
		// Equivalent to: sysctl -w net.ipv6.conf.{all,default}.accept_dad=0
		for _, conf := range []string{"all", "default"} {
			if v6 {
				if err := n.NS().WriteSysctl("net/ipv6/conf/"+conf+"/accept_dad", "0"); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := b.wire(w); err != nil {
		return nil, err
	}
	for _, wn := range w.Nodes {
		if err := b.configure(wn, v6, o); err != nil {
			return nil, err
		}
	}
	if sw := b.Nodes[SwitchNode]; sw != nil {
		// The switch never forwards at layer 3.
		if err := sw.NS().WriteSysctl("net/ipv4/ip_forward", "0"); err != nil {
			return nil, err
		}
	}
	// The ends that were set up before their peers are usable once the
	// kernel has seen their carrier (see link.WaitOperUp).
	if sw := b.Nodes[SwitchNode]; sw != nil {
		var ports []string
		for _, wn := range w.Nodes {
			for _, i := range wn.Interfaces {
				if i.Port != "" {
					ports = append(ports, i.Port)
				}
			}
		}
		link.WaitOperUp(sw.Netlink(), ports...)
	}
	for _, l := range w.Links {
		link.WaitOperUp(b.Nodes[l.A.Node].Netlink(), l.A.Iface)
	}
	if o.Etc != nil {
		for _, wn := range w.Nodes {
			binds, _, err := sandbox.Write(o.Etc, "node-"+wn.Name, map[string][]byte{sandbox.ResolvConf: []byte(w.ResolvConf()),
				sandbox.Hosts: []byte(Hosts(wn.Name)), sandbox.Hostname: []byte(wn.Name + "\n")}, sandbox.Sum{})
			if err != nil {
				return nil, err
			}
			b.Nodes[wn.Name].SetBinds(binds)
		}
	}
	if r := w.Resolver(); r != nil {
		if b.zone, err = w.ServeResolver(b.Nodes[r.Name].NS(), o.Logf); err != nil {
			return nil, err
		}
	}
	for _, wn := range w.Nodes {
		if len(wn.Command) > 0 {
			if err := b.start(wn); err != nil {
				return nil, fmt.Errorf("%s:%d: nodes.%s.command: %w", wn.CommandPos.File, wn.CommandPos.Line, wn.Name, err)
			}
		}
	}
	return b, nil
}

// wire makes the LANs' bridges and the veth pairs, every end up.
func (b *Built) wire(w *World) error {
	sw := b.Nodes[SwitchNode]
	for _, lan := range w.LANs {
		// Equivalent to: ip -n switch link add LAN type bridge && ip -n switch link set LAN up
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: lan.Name}}
		if err := sw.Netlink().LinkAdd(br); err != nil {
			return fmt.Errorf("adding LAN bridge %s: %w", lan.Name, err)
		}
		if err := sw.Netlink().LinkSetUp(br); err != nil {
			return fmt.Errorf("setting LAN bridge %s up: %w", lan.Name, err)
		}
	}
	for _, wn := range w.Nodes {
		for _, i := range wn.Interfaces {
			if i.LAN != "" {
				if err := wire(sw, i.Port, b.Nodes[wn.Name], i.Name, i.LAN); err != nil {
					return err
				}
			}
		}
		for _, l := range w.Links {
			if l.A.Node == wn.Name {
				if err := wire(b.Nodes[l.A.Node], l.A.Iface, b.Nodes[l.B.Node], l.B.Iface, ""); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// configure gives a node its addresses, routes and sysctls.
func (b *Built) configure(wn *Node, v6 bool, o Options) error {
	n := b.Nodes[wn.Name]
	for _, i := range wn.Interfaces {
		for _, a := range i.Addresses {
			if a.Addr().Is6() && !v6 {
				continue
			}
			if err := addAddr(n, i.Name, a); err != nil {
				return err
			}
		}
	}
	for _, rt := range wn.Routes {
		if rt.Dst.Addr().Is6() && !v6 {
			continue
		}
		// Equivalent to: ip -n NODE route add DST [via GW] [dev IFACE]
		r := &netlink.Route{Dst: node.IPNet(rt.Dst)}
		if rt.Dst.Bits() == 0 {
			r.Dst = nil
			if rt.Dst.Addr().Is6() {
				r.Family = unix.AF_INET6
			}
		}
		if rt.Via.IsValid() {
			r.Gw = net.IP(rt.Via.AsSlice())
		}
		if rt.Dev != "" {
			l, err := n.Netlink().LinkByName(rt.Dev)
			if err != nil {
				return fmt.Errorf("finding %s in %s: %w", rt.Dev, wn.Name, err)
			}
			r.LinkIndex = l.Attrs().Index
		}
		if err := n.Netlink().RouteAdd(r); err != nil {
			return fmt.Errorf("%s:%d: nodes.%s.routes: adding route %s in %s: %w", rt.Pos.File, rt.Pos.Line, wn.Name, rt, wn.Name, err)
		}
	}
	sysctls := []Sysctl{{Key: "net.ipv4.ip_forward", Value: "0"}}
	if wn.Router {
		sysctls = []Sysctl{{Key: "net.ipv4.ip_forward", Value: "1"}, {Key: "net.ipv6.conf.all.forwarding", Value: "1"}}
	}
	sysctls = append(sysctls, wn.Sysctls...)
	if wn.Docker && o.DockerForwardOff {
		sysctls = append(sysctls, Sysctl{Key: "net.ipv4.ip_forward", Value: "0"})
	}
	for _, s := range sysctls {
		if strings.HasPrefix(s.Key, "net.ipv6.") && !v6 {
			continue
		}
		// Equivalent to: ip netns exec NODE sysctl -w KEY=VALUE
		if err := n.NS().WriteSysctl(s.Path(), s.Value); err != nil {
			if s.Pos.Line > 0 {
				return fmt.Errorf("%s:%d: nodes.%s.sysctls.%s: %w", s.Pos.File, s.Pos.Line, wn.Name, s.Key, err)
			}
			return err
		}
	}
	return nil
}

// start starts a node's command: a built-in server, once it listens, or
// a program in PATH, once it runs.
//
// Equivalent to: ip netns exec NODE COMMAND &
func (b *Built) start(wn *Node) error {
	n := b.Nodes[wn.Name]
	if slices.Contains(initproc.Programs(), wn.Command[0]) {
		m, err := node.Launch(n, initproc.Config{Mode: initproc.ModeInit, Program: wn.Command[0], Args: wn.Command[1:],
			Comm: wn.Command[0], Hostname: wn.Name, Binds: n.Binds()}, node.Output{})
		if err != nil {
			return err
		}
		b.mains = append(b.mains, m)
		if err := m.Ready(readyTimeout); err != nil {
			m.Process.Kill()
			m.Wait()
			return errors.New(m.Reason(err, readyTimeout))
		}
		return nil
	}
	cmd, err := n.Command(nil, wn.Command...)
	if err != nil {
		return err
	}
	if err := n.Start(cmd); err != nil {
		return err
	}
	b.procs = append(b.procs, cmd)
	return nil
}

// Close stops the start-up commands and the resolver, and removes the
// nodes.
func (b *Built) Close() error {
	var errs []error
	for _, m := range b.mains {
		m.Process.Kill()
		m.Wait()
	}
	for _, c := range b.procs {
		c.Process.Kill()
		c.Wait()
	}
	if b.zone != nil {
		errs = append(errs, b.zone.Close())
	}
	for _, n := range b.Nodes {
		errs = append(errs, n.Close())
	}
	return errors.Join(errs...)
}

// wire connects node a (interface aName) to node b (interface bName) with a
// veth pair, both ends up; aName is enslaved to bridge master in a when
// master is not empty.
//
// Equivalent to: ip link add A type veth peer name B netns NODE_B;
// ip link set A master MASTER up; ip -n NODE_B link set B up
func wire(a *node.Node, aName string, b *node.Node, bName, master string) error {
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: aName},
		PeerName:      bName,
		PeerNamespace: netlink.NsFd(b.NS().Fd()),
	}
	if master != "" {
		br, err := a.Netlink().LinkByName(master)
		if err != nil {
			return fmt.Errorf("finding bridge %s: %w", master, err)
		}
		veth.MasterIndex = br.Attrs().Index
	}
	if err := a.Netlink().LinkAdd(veth); err != nil {
		return fmt.Errorf("adding veth %s/%s: %w", aName, bName, err)
	}
	for _, end := range []struct {
		n    *node.Node
		name string
	}{{a, aName}, {b, bName}} {
		l, err := end.n.Netlink().LinkByName(end.name)
		if err == nil {
			err = end.n.Netlink().LinkSetUp(l)
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
func addAddr(n *node.Node, name string, p netip.Prefix) error {
	l, err := n.Netlink().LinkByName(name)
	if err != nil {
		return fmt.Errorf("finding %s: %w", name, err)
	}
	a := &netlink.Addr{IPNet: node.IPNet(p)}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	if err := n.Netlink().AddrAdd(l, a); err != nil {
		return fmt.Errorf("adding %s to %s in %s: %w", p, name, n.Name, err)
	}
	return nil
}
