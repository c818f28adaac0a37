package world

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/labrun/labrun/netkit/names"
)

// World is a world file, parsed and checked (Parse): its nodes, the LANs
// that join some of them, their point-to-point links and addresses, and
// which node answers the world's names. Build makes it in namespaces.
type World struct {
	// Name is the world's name (the file's name: field, else the file's
	// base name without .yaml).
	Name string
	// File is where the world was read from, as its errors name it.
	File string
	// LANs are the world's LANs, each a bridge of that name in the
	// hidden switch node.
	LANs []LAN
	// Nodes are the world's nodes, in the file's order.
	Nodes []*Node
	// Links are the point-to-point links, each once (A is the end that
	// named the other with peer:, or the first in the file).
	Links []Link
}

// LAN is one LAN: a bridge in the switch node, a port of which leads to
// each interface on it.
type LAN struct {
	Name string
	Pos  Pos
}

// End is one end of a link: a node's interface.
type End struct{ Node, Iface string }

func (e End) String() string { return e.Node + "/" + e.Iface }

// Link is a point-to-point link: a veth pair between two nodes.
type Link struct{ A, B End }

// Node is one node of a world: a network namespace of its own.
type Node struct {
	Name string
	Pos  Pos
	// Docker says the node runs a Docker engine (docker: true, or
	// dockerd: flags), started by the first docker command that names
	// it; the first such node is the lab's default engine.
	Docker bool
	// Dockerd are the flags of the node's engine (dockerd's own, as
	// `dockerd --bip 172.18.0.1/16`), before those a dockerd command
	// adds; DockerdPos is where the file gives them.
	Dockerd    []string
	DockerdPos Pos
	// Router turns forwarding on, IPv4 and IPv6 (net.ipv4.ip_forward=1,
	// net.ipv6.conf.all.forwarding=1); every other node starts with
	// forwarding off, whatever the machine's own setting.
	Router bool
	// Interfaces are the node's interfaces besides lo, in the file's
	// order.
	Interfaces []*Interface
	// Routes are added in the file's order, after every address.
	Routes []Route
	// Sysctls are written in the file's order, after Router's.
	Sysctls []Sysctl
	// Command, when set, is started in the node once the world is built,
	// and runs until the lab ends: a program in PATH, or one of the
	// binary's built-in servers (httpd, sshd, web-ssh) by its name.
	Command    []string
	CommandPos Pos
	// Zone, when set, makes the node the world's name server: it answers
	// these names on its first IPv4 address, port 53, and NXDOMAIN for
	// every other; every node's resolv.conf names it.
	Zone map[string][]netip.Addr
}

// Interface is a node's interface: on a LAN, or one end of a
// point-to-point link.
type Interface struct {
	Name string
	Pos  Pos
	// LAN is the LAN it is on; "" for a link's end.
	LAN string
	// Peer is the other end of its link (from either end's peer:).
	Peer End
	// Addresses, each with its prefix length, in the file's order.
	Addresses []netip.Prefix
	// Port is the name of its port on the LAN's bridge (in the switch
	// node): p-NODE, or p-NODE-IFACE for a node's second LAN interface.
	Port string
}

// Route is one route of a node: Dst (0.0.0.0/0 or ::/0 for "default")
// via Via, or out of Dev.
type Route struct {
	Dst netip.Prefix
	Via netip.Addr
	Dev string
	Pos Pos
}

func (r Route) String() string {
	s := r.Dst.String()
	if r.Dst.Bits() == 0 {
		s = "default"
	}
	if r.Via.IsValid() {
		s += " via " + r.Via.String()
	}
	if r.Dev != "" {
		s += " dev " + r.Dev
	}
	return s
}

// Sysctl is one net.* setting of a node's namespace, in sysctl's dotted
// form.
type Sysctl struct {
	Key, Value string
	Pos        Pos
}

// Path is the setting's path under /proc/sys.
func (s Sysctl) Path() string { return strings.ReplaceAll(s.Key, ".", "/") }

// Pos is a place in a world file.
type Pos struct {
	File string
	Line int
}

// Error is what is wrong with a world file: where, in which field, and
// what was accepted there.
type Error struct {
	File string
	Line int // 0 when the whole file is at fault
	// Field is the field's path, as nodes.host.interfaces.eth0.lan.
	Field string
	Msg   string
}

func (e *Error) Error() string {
	where := e.File
	if e.Line > 0 {
		where += fmt.Sprintf(":%d", e.Line)
	}
	if e.Field == "" {
		return where + ": " + e.Msg
	}
	return where + ": " + e.Field + ": " + e.Msg
}

// Errorf is an Error at pos about field, for what a caller checks beyond
// the file itself (the dockerd flags of a node, say).
func Errorf(pos Pos, field, format string, args ...any) *Error {
	return &Error{File: pos.File, Line: pos.Line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Node returns the node called name, or nil.
func (w *World) Node(name string) *Node {
	for _, n := range w.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// NodeNames lists the nodes' names, in the file's order.
func (w *World) NodeNames() []string {
	out := make([]string, len(w.Nodes))
	for i, n := range w.Nodes {
		out[i] = n.Name
	}
	return out
}

// DockerNodes lists the nodes that run a Docker engine, in the file's
// order: the first is the lab's default engine.
func (w *World) DockerNodes() []string {
	var out []string
	for _, n := range w.Nodes {
		if n.Docker {
			out = append(out, n.Name)
		}
	}
	return out
}

// DockerHost names the Docker host that node means: node, when it runs an
// engine; the first Docker host for "". Otherwise its error says which
// there are, with the near miss (and it returns the first, or "").
func (w *World) DockerHost(node string) (string, error) {
	hosts := w.DockerNodes()
	if n := w.Node(node); n != nil && n.Docker {
		return node, nil
	}
	first := ""
	if len(hosts) > 0 {
		first = hosts[0]
	}
	switch {
	case node == "" && first != "":
		return first, nil
	case node == "":
		return "", fmt.Errorf("world %s has no Docker host (no node with docker: true)", w.Name)
	}
	hint := ""
	if near := names.Nearest(node, hosts); near != "" {
		hint = fmt.Sprintf("; did you mean %q?", near)
	}
	return first, fmt.Errorf("no Docker engine on %q: the world's Docker hosts are %s%s", node, strings.Join(hosts, ", "), hint)
}

// Resolver returns the node that answers the world's names, or nil.
func (w *World) Resolver() *Node {
	for _, n := range w.Nodes {
		if n.Zone != nil {
			return n
		}
	}
	return nil
}

// Iface returns the node's interface called name, or nil.
func (n *Node) Iface(name string) *Interface {
	for _, i := range n.Interfaces {
		if i.Name == name {
			return i
		}
	}
	return nil
}

// Addr returns the node's first address of a family (IPv6 when v6) in
// the file's order, and whether it has one.
func (n *Node) Addr(v6 bool) (netip.Prefix, bool) {
	for _, i := range n.Interfaces {
		for _, a := range i.Addresses {
			if a.Addr().Is6() == v6 {
				return a, true
			}
		}
	}
	return netip.Prefix{}, false
}

// Vars are the variables that name the world's addresses in scenarios and
// lab shells: for each node, NODE_IP, its first IPv4 address, and NODE_IP6,
// its first IPv6 one (the name in capitals, - as _): HOST_IP, CLIENT_IP6.
func (w *World) Vars() map[string]string {
	vars := map[string]string{}
	for _, n := range w.Nodes {
		v := VarName(n.Name)
		if a, ok := n.Addr(false); ok {
			vars[v+"_IP"] = a.Addr().String()
		}
		if a, ok := n.Addr(true); ok {
			vars[v+"_IP6"] = a.Addr().String()
		}
	}
	return vars
}

// VarName is the stem of a node's variables: its name in capitals, with
// _ for -.
func VarName(node string) string {
	return strings.ReplaceAll(strings.ToUpper(node), "-", "_")
}
