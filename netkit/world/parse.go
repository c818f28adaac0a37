package world

import (
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/names"
)

// The fields a world file accepts, at each level (docs/worlds.md).
var (
	worldFields = []string{"name", "lans", "nodes"}
	nodeFields  = []string{"docker", "dockerd", "router", "interfaces", "routes", "sysctls", "command", "resolver"}
	ifaceFields = []string{"lan", "peer", "addresses"}
)

// SwitchNode is the hidden node that holds the LANs' bridges; no world
// node may take its name.
const SwitchNode = "switch"

var (
	nodeName  = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	ifaceName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)
	sysctlKey = regexp.MustCompile(`^net(\.[A-Za-z0-9_-]+)+$`)
)

// Limits of names, from the kernel's (an interface name has at most 15
// bytes): a node's LAN port is p-NODE.
const (
	maxIfName   = 15
	maxNodeName = maxIfName - len("p-")
)

// Parse reads a world file's text; file names it in errors. Every error
// found is returned (errors.Join of *Error, in the file's order), each with
// the file, the line, the field and what is accepted there; a valid world
// has everything resolved (peers both ways, LAN ports named).
func Parse(file string, data []byte) (*World, error) {
	r := &reader{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		r.syntaxErr(err)
		return nil, r.err()
	}
	w := &World{File: file, Name: strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))}
	if len(doc.Content) == 0 {
		r.errf(nil, "", "the file is empty: a world needs nodes")
		return nil, r.err()
	}
	top := doc.Content[0]
	var nodesNode *yaml.Node
	r.fields(top, "", worldFields, func(key string, v *yaml.Node) {
		switch key {
		case "name":
			if s, ok := r.scalar(v, "name", "a name"); ok {
				w.Name = s
			}
		case "lans":
			for i, it := range r.list(v, "lans", true) {
				f := fmt.Sprintf("lans[%d]", i)
				s, ok := r.scalar(it, f, "a LAN's name")
				if !ok {
					continue
				}
				switch {
				case !ifaceName.MatchString(s) || len(s) > maxIfName:
					r.errf(it, f, "%q is not a LAN name: it names a bridge (a letter, then letters, digits, _ . -; at most %d bytes)", s, maxIfName)
				case slices.ContainsFunc(w.LANs, func(l LAN) bool { return l.Name == s }):
					r.errf(it, f, "LAN %q is given twice", s)
				default:
					w.LANs = append(w.LANs, LAN{Name: s, Pos: r.pos(it)})
				}
			}
		case "nodes":
			nodesNode = v
		}
	})
	if nodesNode == nil {
		if len(r.errs) == 0 {
			r.errf(top, "nodes", "missing: a world needs nodes")
		}
		return nil, r.err()
	}
	r.entries(nodesNode, "nodes", func(name string, k, v *yaml.Node) {
		if n := r.node(name, k, v); n != nil {
			w.Nodes = append(w.Nodes, n)
		}
	})
	if len(w.Nodes) == 0 && len(r.errs) == 0 {
		r.errf(nodesNode, "nodes", "empty: a world needs nodes")
	}
	if len(r.errs) == 0 {
		r.resolve(w)
	}
	if err := r.err(); err != nil {
		return nil, err
	}
	return w, nil
}

// err joins the errors found, in the file's order.
func (r *reader) err() error {
	sort.SliceStable(r.errs, func(i, j int) bool {
		var a, b *Error
		errors.As(r.errs[i], &a)
		errors.As(r.errs[j], &b)
		return a.Line < b.Line
	})
	return errors.Join(r.errs...)
}

// node reads one node.
func (r *reader) node(name string, k, v *yaml.Node) *Node {
	field := "nodes." + name
	switch {
	case name == SwitchNode:
		r.errf(k, field, "%q is the hidden node of the LANs' bridges: give the node another name", name)
		return nil
	case !nodeName.MatchString(name) || len(name) > maxNodeName:
		r.errf(k, field, "%q is not a node name (a lower-case letter, then lower-case letters, digits and -; at most %d bytes)", name, maxNodeName)
		return nil
	}
	n := &Node{Name: name, Pos: r.pos(k)}
	r.fields(v, field, nodeFields, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "docker":
			n.Docker = r.boolean(v, f) || n.Docker
		case "dockerd":
			n.Dockerd, n.DockerdPos, n.Docker = r.words(v, f), r.pos(v), true
		case "router":
			n.Router = r.boolean(v, f)
		case "interfaces":
			r.entries(v, f, func(iname string, k, v *yaml.Node) {
				if i := r.iface(f+"."+iname, iname, k, v); i != nil {
					n.Interfaces = append(n.Interfaces, i)
				}
			})
		case "routes":
			for i, it := range r.list(v, f, true) {
				fi := fmt.Sprintf("%s[%d]", f, i)
				if s, ok := r.scalar(it, fi, "a route, as `default via 192.168.1.1` or `10.0.0.0/8 dev eth1`"); ok {
					if rt, err := parseRoute(s); err != nil {
						r.errf(it, fi, "%v", err)
					} else {
						rt.Pos = r.pos(it)
						n.Routes = append(n.Routes, rt)
					}
				}
			}
		case "sysctls":
			r.entries(v, f, func(key string, k, v *yaml.Node) {
				fk := f + "." + key
				if !sysctlKey.MatchString(key) {
					r.errf(k, fk, "%q is not a network setting: only net.* sysctls, which belong to the node's namespace, as net.ipv4.ip_forward", key)
					return
				}
				if s, ok := r.scalar(v, fk, "a value"); ok {
					n.Sysctls = append(n.Sysctls, Sysctl{Key: key, Value: s, Pos: r.pos(k)})
				}
			})
		case "command":
			n.Command, n.CommandPos = r.words(v, f), r.pos(v)
			if len(n.Command) == 0 {
				r.errf(v, f, "empty: want a program and its arguments, as [httpd] or sleep infinity")
			} else if err := findProgram(n.Command[0]); err != nil {
				r.errf(v, f, "%v", err)
			}
		case "resolver":
			n.Zone = map[string][]netip.Addr{}
			r.entries(v, f, func(dn string, k, v *yaml.Node) {
				fd := f + "." + dn
				for i, it := range r.list(v, fd, true) {
					s, ok := r.scalar(it, fmt.Sprintf("%s[%d]", fd, i), "an address")
					if !ok {
						continue
					}
					a, err := netip.ParseAddr(s)
					if err != nil {
						r.errf(it, fmt.Sprintf("%s[%d]", fd, i), "%q is not an IPv4 or IPv6 address", s)
						continue
					}
					n.Zone[dn] = append(n.Zone[dn], a)
				}
			})
		}
	})
	return n
}

// iface reads one interface.
func (r *reader) iface(field, name string, k, v *yaml.Node) *Interface {
	if !ifaceName.MatchString(name) || len(name) > maxIfName || name == "lo" {
		r.errf(k, field, "%q is not an interface name (a letter, then letters, digits, _ . -; at most %d bytes; not lo)", name, maxIfName)
		return nil
	}
	i := &Interface{Name: name, Pos: r.pos(k)}
	r.fields(v, field, ifaceFields, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "lan":
			if s, ok := r.scalar(v, f, "a LAN's name"); ok {
				i.LAN = s
			}
		case "peer":
			if s, ok := r.scalar(v, f, "NODE/INTERFACE"); ok {
				node, ifc, found := strings.Cut(s, "/")
				if !found || node == "" || ifc == "" {
					r.errf(v, f, "%q is not NODE/INTERFACE, as internet/eth0", s)
				}
				i.Peer = End{Node: node, Iface: ifc}
			}
		case "addresses":
			for j, it := range r.list(v, f, true) {
				fj := fmt.Sprintf("%s[%d]", f, j)
				s, ok := r.scalar(it, fj, "an address with its prefix length, as 10.0.0.1/24")
				if !ok {
					continue
				}
				p, err := netip.ParsePrefix(s)
				if err != nil {
					r.errf(it, fj, "%q is not an address with its prefix length, as 10.0.0.1/24 or 2001:db8::1/64", s)
					continue
				}
				i.Addresses = append(i.Addresses, p)
			}
		}
	})
	return i
}

// parseRoute reads `DST [via GW] [dev IFACE]`, DST being default or a
// prefix, as ip route takes them.
func parseRoute(s string) (Route, error) {
	f := strings.Fields(s)
	bad := fmt.Errorf("%q is not a route: want DESTINATION [via GATEWAY] [dev INTERFACE], as `default via 192.168.1.1` or `10.0.0.0/8 dev eth1`", s)
	if len(f) == 0 || len(f)%2 == 0 {
		return Route{}, bad
	}
	var rt Route
	for i := 1; i < len(f); i += 2 {
		switch f[i] {
		case "via":
			a, err := netip.ParseAddr(f[i+1])
			if err != nil || rt.Via.IsValid() {
				return Route{}, bad
			}
			rt.Via = a
		case "dev":
			if rt.Dev != "" {
				return Route{}, bad
			}
			rt.Dev = f[i+1]
		default:
			return Route{}, bad
		}
	}
	if rt.Via == (netip.Addr{}) && rt.Dev == "" {
		return Route{}, bad
	}
	if f[0] == "default" {
		rt.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if rt.Via.Is6() {
			rt.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		return rt, nil
	}
	p, err := netip.ParsePrefix(f[0])
	if err != nil {
		return Route{}, bad
	}
	if p != p.Masked() {
		return Route{}, fmt.Errorf("%q: the destination %s has host bits set: did you mean %s?", s, p, p.Masked())
	}
	if rt.Via.IsValid() && rt.Via.Is4() != p.Addr().Is4() {
		return Route{}, fmt.Errorf("%q: the gateway %s is not of the destination's family", s, rt.Via)
	}
	rt.Dst = p
	return rt, nil
}

// findProgram checks that a node's command can start: a built-in server of
// the binary, or a program in PATH.
func findProgram(name string) error {
	if slices.Contains(initproc.Programs(), name) {
		return nil
	}
	if _, err := exec.LookPath(name); err != nil {
		builtin := ""
		if p := initproc.Programs(); len(p) > 0 {
			builtin = " (built-in: " + strings.Join(p, ", ") + ")"
		}
		return fmt.Errorf("no program %q: neither a built-in server%s nor in PATH", name, builtin)
	}
	return nil
}

// resolve checks what refers to what across the world: LANs, peers,
// gateways, duplicate addresses, the one resolver; and names the LAN ports.
func (r *reader) resolve(w *World) {
	lanNames := make([]string, len(w.LANs))
	for i, l := range w.LANs {
		lanNames[i] = l.Name
	}
	near := func(word string, among []string) string {
		if n := names.Nearest(word, among); n != "" {
			return fmt.Sprintf("; did you mean %q?", n)
		}
		return ""
	}
	// Point-to-point links, from either end.
	linked := map[End]End{}
	for _, n := range w.Nodes {
		for _, i := range n.Interfaces {
			f := "nodes." + n.Name + ".interfaces." + i.Name
			me := End{n.Name, i.Name}
			switch {
			case i.LAN != "" && i.Peer != (End{}):
				r.errf(i.Pos.node(), f, "both lan and peer: an interface is on a LAN or one end of a link, not both")
			case i.LAN != "" && !slices.Contains(lanNames, i.LAN):
				r.errf(i.Pos.node(), f+".lan", "no LAN %q (lans: %s)%s", i.LAN, strings.Join(lanNames, ", "), near(i.LAN, lanNames))
			case i.Peer != (End{}):
				pn := w.Node(i.Peer.Node)
				switch {
				case pn == nil:
					r.errf(i.Pos.node(), f+".peer", "no node %q (nodes: %s)%s", i.Peer.Node, strings.Join(w.NodeNames(), ", "), near(i.Peer.Node, w.NodeNames()))
				case pn.Iface(i.Peer.Iface) == nil:
					var ifs []string
					for _, x := range pn.Interfaces {
						ifs = append(ifs, x.Name)
					}
					r.errf(i.Pos.node(), f+".peer", "node %s has no interface %q (interfaces: %s)%s", pn.Name, i.Peer.Iface, strings.Join(ifs, ", "), near(i.Peer.Iface, ifs))
				case i.Peer == me:
					r.errf(i.Pos.node(), f+".peer", "an interface cannot be its own peer")
				case linked[i.Peer] != (End{}) && linked[i.Peer] != me:
					r.errf(i.Pos.node(), f+".peer", "%s is already linked to %s", i.Peer, linked[i.Peer])
				case linked[me] != (End{}) && linked[me] != i.Peer:
					r.errf(i.Pos.node(), f+".peer", "%s is already linked to %s", me, linked[me])
				case linked[me] == (End{}):
					linked[me], linked[i.Peer] = i.Peer, me
					w.Links = append(w.Links, Link{A: me, B: i.Peer})
				}
			}
		}
	}
	if len(r.errs) > 0 {
		return
	}
	seen := map[netip.Addr]string{}
	resolver := ""
	for _, n := range w.Nodes {
		lanPorts := 0
		for _, i := range n.Interfaces {
			f := "nodes." + n.Name + ".interfaces." + i.Name
			if i.LAN != "" {
				i.Port = "p-" + n.Name
				if lanPorts++; lanPorts > 1 {
					i.Port += "-" + i.Name
				}
				if len(i.Port) > maxIfName {
					r.errf(i.Pos.node(), f+".lan", "its LAN port %s would be longer than %d bytes: give the node or the interface a shorter name", i.Port, maxIfName)
				}
			} else {
				i.Peer = linked[End{n.Name, i.Name}]
				if i.Peer == (End{}) {
					r.errf(i.Pos.node(), f, "attached to nothing: give it lan: LAN, or peer: NODE/INTERFACE (here or on the other end)")
				}
			}
			for _, a := range i.Addresses {
				if other, dup := seen[a.Addr()]; dup {
					r.errf(i.Pos.node(), f+".addresses", "%s is already %s's", a.Addr(), other)
				}
				seen[a.Addr()] = n.Name
			}
		}
		for _, rt := range n.Routes {
			r.checkRoute(n, rt)
		}
		if n.Zone != nil {
			if resolver != "" {
				r.errf(n.Pos.node(), "nodes."+n.Name+".resolver", "a world has one resolver, and %s has it", resolver)
			} else if _, ok := n.Addr(false); !ok {
				r.errf(n.Pos.node(), "nodes."+n.Name+".resolver", "the resolver answers on the node's first IPv4 address, and %s has none", n.Name)
			}
			resolver = n.Name
		}
	}
}

// checkRoute checks that a route's interface exists and that its gateway
// is on one of the node's subnets, as the kernel wants it.
func (r *reader) checkRoute(n *Node, rt Route) {
	f := "nodes." + n.Name + ".routes"
	var ifs []string
	for _, i := range n.Interfaces {
		ifs = append(ifs, i.Name)
	}
	if rt.Dev != "" && n.Iface(rt.Dev) == nil {
		hint := ""
		if near := names.Nearest(rt.Dev, ifs); near != "" {
			hint = fmt.Sprintf("; did you mean %q?", near)
		}
		r.errf(rt.Pos.node(), f, "%s: node %s has no interface %q (interfaces: %s)%s", rt, n.Name, rt.Dev, strings.Join(ifs, ", "), hint)
		return
	}
	if !rt.Via.IsValid() {
		return
	}
	for _, i := range n.Interfaces {
		if rt.Dev != "" && i.Name != rt.Dev {
			continue
		}
		for _, a := range i.Addresses {
			if a.Masked().Contains(rt.Via) {
				return
			}
		}
	}
	r.errf(rt.Pos.node(), f, "%s: the gateway %s is on none of the node's subnets (the kernel answers `Nexthop has invalid gateway`)", rt, rt.Via)
}

// node makes a yaml.Node standing for a position, for errf.
func (p Pos) node() *yaml.Node { return &yaml.Node{Line: p.Line} }
