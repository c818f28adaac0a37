package topology

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/world"
)

// Topology is what a lab looks like now, read from the kernel: its nodes
// (network namespaces) with their interfaces and addresses, the veth pairs
// between them, the engine's networks and its published ports. Diagrams are
// drawn from it.
type Topology struct {
	Lab      string     `json:"lab"`
	Nodes    []TNode    `json:"nodes"`
	Links    []TLink    `json:"links"`
	Networks []TNetwork `json:"networks,omitempty"`
	Ports    []TPort    `json:"ports,omitempty"`
	// Highlight names the nodes a failed check was about, which the
	// diagrams draw in red.
	Highlight []string `json:"highlight,omitempty"`
	// Walk is a traced packet's way, drawn over the rest (SetWalk).
	Walk *TWalk `json:"walk,omitempty"`
	// dockerHost is the world's first Docker host ("" means "host", the
	// default world's).
	dockerHost string
}

// engineHost is the node of the engine a network or port without Host
// belongs to.
func (t *Topology) engineHost() string {
	if t.dockerHost == "" {
		return "host"
	}
	return t.dockerHost
}

// TNode is a node: a namespace of the world (host, client, gateway,
// internet, and the LAN switch), a container's, or a container that shares
// another node's namespace (Shares names it; it has no interfaces of its
// own).
type TNode struct {
	Name string `json:"name"`
	// Kind is "world", "switch" or "container".
	Kind   string   `json:"kind"`
	Shares string   `json:"shares,omitempty"`
	Ifaces []TIface `json:"ifaces,omitempty"`
}

// TIface is an interface of a node (lo is left out).
type TIface struct {
	Name string `json:"name"`
	// Kind is the link type: veth, bridge, ...
	Kind  string   `json:"kind"`
	Addrs []string `json:"addrs,omitempty"`
	// Master is the bridge the interface is a port of.
	Master string `json:"master,omitempty"`
	Up     bool   `json:"up"`
}

// TEnd is one end of a link: a node's interface.
type TEnd struct {
	Node  string `json:"node"`
	Iface string `json:"iface"`
}

// TLink is a veth pair.
type TLink struct {
	A TEnd `json:"a"`
	B TEnd `json:"b"`
}

// TNetwork is one of the engine's bridge networks.
type TNetwork struct {
	Name    string `json:"name"`
	Bridge  string `json:"bridge"`
	Subnet  string `json:"subnet"`
	Gateway string `json:"gateway"`
	// Masquerade: the host masquerades what leaves the network for
	// elsewhere (not --internal, not enable_ip_masquerade=false).
	Masquerade bool `json:"masquerade,omitempty"`
	Internal   bool `json:"internal,omitempty"`
	// Host is the Docker host whose engine has the network, when the lab
	// runs more than one engine.
	Host string `json:"host,omitempty"`
}

// TPort is a published port: HostIP:HostPort on the host to the container's
// port.
type TPort struct {
	HostIP    string `json:"host_ip"`
	HostPort  uint16 `json:"host_port"`
	Container string `json:"container"`
	Port      string `json:"port"` // 80/tcp
	// Host is the Docker host that publishes the port, when the lab runs
	// more than one engine.
	Host string `json:"host,omitempty"`
}

// String is the port as docker ps shows one mapping.
func (p TPort) String() string {
	return fmt.Sprintf("%s:%d->%s", p.HostIP, p.HostPort, p.Port)
}

// switchNode is the hidden node of the LANs' bridges (netkit/world),
// whose ports lead to the world's nodes.
const switchNode = world.SwitchNode

// nsNode is a node being read.
type nsNode struct {
	name  string
	kind  string
	node  *netkit.Node
	inode uint64
	links []netlink.Link
}

// Collect reads the lab's topology from the kernel.
func Collect(lab *netkit.Lab) (*Topology, error) {
	top := &Topology{}
	if h := lab.Host(); h != nil {
		top.dockerHost = h.Name
	}
	var nodes []*nsNode
	byInode := map[uint64]*nsNode{}
	add := func(name, kind string, n *netkit.Node) (*nsNode, bool) {
		ino, err := n.NS().Inode()
		if err != nil {
			return nil, false
		}
		if first, ok := byInode[ino]; ok {
			return first, false
		}
		x := &nsNode{name: name, kind: kind, node: n, inode: ino}
		byInode[ino] = x
		nodes = append(nodes, x)
		return x, true
	}
	for _, name := range lab.Nodes() {
		n, err := lab.Node(name)
		if err != nil {
			continue
		}
		add(name, "world", n)
	}
	var shared []TNode
	engines := lab.Engines()
	for _, eng := range engines {
		host := ""
		if len(engines) > 1 {
			host = eng.Host().Name
		}
		ctrs := eng.Containers(false)
		// Containers that own their namespace come first, so that a
		// container: mode one is drawn as sharing its owner's.
		owns := func(c *netkit.Container) bool {
			k := c.Options().Network.Kind
			return k != netkit.ModeContainer && k != netkit.ModeHost
		}
		sort.Slice(ctrs, func(i, j int) bool {
			if owns(ctrs[i]) != owns(ctrs[j]) {
				return owns(ctrs[i])
			}
			return ctrs[i].Name < ctrs[j].Name
		})
		for _, c := range ctrs {
			n := c.Node()
			if n == nil {
				continue
			}
			if first, fresh := add(c.Name, "container", n); !fresh && first != nil {
				shared = append(shared, TNode{Name: c.Name, Kind: "container", Shares: first.name})
			}
		}
		for _, nw := range eng.Networks() {
			// A macvlan or ipvlan network has no bridge, may have no
			// gateway, and is never masqueraded.
			gw := ""
			if nw.Gateway.IsValid() {
				gw = nw.Gateway.String()
			}
			top.Networks = append(top.Networks, TNetwork{Name: nw.Name, Bridge: nw.Bridge, Subnet: nw.Subnet.String(), Gateway: gw,
				Masquerade: nw.Masq && !nw.Internal && nw.Bridge != "", Internal: nw.Internal, Host: host})
		}
		for _, c := range ctrs {
			// Docker binds 0.0.0.0 and :: for each port; the picture
			// shows the IPv4 binding for both.
			v4 := map[[2]string]bool{}
			for _, b := range c.Ports() {
				if !b.HostIP.IsValid() || b.HostIP.Is4() {
					v4[[2]string{fmt.Sprint(b.HostPort), b.Container.String()}] = true
				}
			}
			for _, b := range c.Ports() {
				ip := "0.0.0.0"
				if b.HostIP.IsValid() {
					ip = b.HostIP.String()
				}
				if ip == "::" && v4[[2]string{fmt.Sprint(b.HostPort), b.Container.String()}] {
					continue
				}
				top.Ports = append(top.Ports, TPort{HostIP: ip, HostPort: b.HostPort, Container: c.Name, Port: b.Container.String(), Host: host})
			}
		}
		sort.SliceStable(top.Ports, func(i, j int) bool {
			a, b := top.Ports[i], top.Ports[j]
			if a.Container != b.Container {
				return a.Container < b.Container
			}
			return a.HostPort < b.HostPort
		})
	}
	// Interfaces.
	for _, x := range nodes {
		links, err := x.node.Netlink().LinkList()
		if err != nil {
			return nil, fmt.Errorf("listing the links of %s: %w", x.name, err)
		}
		x.links = links
	}
	names := func(x *nsNode) map[int]string {
		m := map[int]string{}
		for _, l := range x.links {
			m[l.Attrs().Index] = l.Attrs().Name
		}
		return m
	}
	seen := map[[2]TEnd]bool{}
	var sw *TNode
	for _, x := range nodes {
		idx := names(x)
		tn := TNode{Name: x.name, Kind: x.kind}
		for _, l := range x.links {
			a := l.Attrs()
			if a.Name == "lo" {
				continue
			}
			ti := TIface{Name: a.Name, Kind: l.Type(), Up: a.Flags&1 != 0, Addrs: addrsOf(x.node.Netlink(), l)}
			if a.MasterIndex != 0 {
				ti.Master = idx[a.MasterIndex]
			}
			tn.Ifaces = append(tn.Ifaces, ti)
			if l.Type() != "veth" || a.ParentIndex == 0 {
				continue
			}
			// The peer: in the same namespace, or in the one the
			// link's netnsid names.
			var peer TEnd
			if a.NetNsID < 0 {
				peer = TEnd{Node: x.name, Iface: idx[a.ParentIndex]}
			} else {
				for _, y := range nodes {
					if y == x {
						continue
					}
					id, err := x.node.Netlink().GetNetNsIdByFd(y.node.NS().Fd())
					if err == nil && id == a.NetNsID {
						peer = TEnd{Node: y.name, Iface: names(y)[a.ParentIndex]}
						break
					}
				}
			}
			if peer.Node == "" {
				// A namespace that is not a node: the switch of the
				// world's LANs, whose ports the world names.
				lan, port := lanPort(lab.World(), x.name, a.Name)
				if lan == "" {
					continue
				}
				if sw == nil {
					sw = &TNode{Name: switchNode, Kind: "switch"}
				}
				if !slices.ContainsFunc(sw.Ifaces, func(i TIface) bool { return i.Name == lan }) {
					sw.Ifaces = append(sw.Ifaces, TIface{Name: lan, Kind: "bridge", Up: true})
				}
				sw.Ifaces = append(sw.Ifaces, TIface{Name: port, Kind: "veth", Master: lan, Up: true})
				peer = TEnd{Node: switchNode, Iface: port}
			}
			me := TEnd{Node: x.name, Iface: a.Name}
			key := [2]TEnd{me, peer}
			if peer.Node < me.Node || (peer.Node == me.Node && peer.Iface < me.Iface) {
				key = [2]TEnd{peer, me}
			}
			if !seen[key] {
				seen[key] = true
				top.Links = append(top.Links, TLink{A: key[0], B: key[1]})
			}
		}
		sort.Slice(tn.Ifaces, func(i, j int) bool { return ifaceLess(tn.Ifaces[i], tn.Ifaces[j]) })
		top.Nodes = append(top.Nodes, tn)
	}
	if sw != nil {
		sort.SliceStable(sw.Ifaces, func(i, j int) bool { return ifaceLess(sw.Ifaces[i], sw.Ifaces[j]) })
		top.Nodes = append(top.Nodes, *sw)
	}
	top.Nodes = append(top.Nodes, shared...)
	sort.Slice(top.Links, func(i, j int) bool {
		a, b := top.Links[i], top.Links[j]
		if a.A.Node != b.A.Node {
			return a.A.Node < b.A.Node
		}
		return a.A.Iface < b.A.Iface
	})
	return top, nil
}

// lanPort is the LAN and switch port of a node's interface, as the world
// declares them, or "" when it is on no LAN.
func lanPort(w *world.World, node, iface string) (lan, port string) {
	if n := w.Node(node); n != nil {
		if i := n.Iface(iface); i != nil {
			return i.LAN, i.Port
		}
	}
	return "", ""
}

// ifaceLess orders interfaces: bridges first, then ethN, then the rest, by
// name.
func ifaceLess(a, b TIface) bool {
	rank := func(i TIface) int {
		switch {
		case i.Kind == "bridge":
			return 0
		case strings.HasPrefix(i.Name, "eth"):
			return 1
		}
		return 2
	}
	if rank(a) != rank(b) {
		return rank(a) < rank(b)
	}
	return a.Name < b.Name
}

// addrsOf lists a link's addresses as CIDRs, IPv4 first, without IPv6
// link-local ones.
func addrsOf(h *netlink.Handle, l netlink.Link) []string {
	as, err := h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return nil
	}
	var v4, v6 []string
	for _, a := range as {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		bits, _ := a.Mask.Size()
		p := netip.PrefixFrom(ip, bits).String()
		switch {
		case ip.Is4():
			v4 = append(v4, p)
		case !ip.IsLinkLocalUnicast():
			v6 = append(v6, p)
		}
	}
	return append(v4, v6...)
}

// Node returns the named node of the topology.
func (t *Topology) Node(name string) *TNode {
	for i := range t.Nodes {
		if t.Nodes[i].Name == name {
			return &t.Nodes[i]
		}
	}
	return nil
}

// networkOf returns the engine network whose bridge node n's first
// interface is plugged into (through its veth's peer on the host), or
// nil: how the diagrams group containers.
func (t *Topology) networkOf(n TNode) *TNetwork {
	for _, l := range t.Links {
		var peer TEnd
		switch n.Name {
		case l.A.Node:
			peer = l.B
		case l.B.Node:
			peer = l.A
		default:
			continue
		}
		p := t.Node(peer.Node)
		if p == nil {
			continue
		}
		for _, i := range p.Ifaces {
			if i.Name != peer.Iface || i.Master == "" {
				continue
			}
			for k := range t.Networks {
				nw := &t.Networks[k]
				if nw.Bridge == i.Master && (nw.Host == p.Name || nw.Host == "" && p.Name == t.engineHost()) {
					return nw
				}
			}
		}
	}
	return nil
}

// HighlightIn sets Highlight to the nodes that text (a failed check's
// command and output) names: by name, as a word, or by one of their
// addresses.
func (t *Topology) HighlightIn(text string) {
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !(r == '.' || r == '-' || r == '_' || r == '/' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	}) {
		words[strings.TrimSuffix(w, ".")] = true
		if a, _, ok := strings.Cut(w, "/"); ok {
			words[a] = true
		}
	}
	t.Highlight = nil
	for _, n := range t.Nodes {
		hit := words[n.Name]
		for _, i := range n.Ifaces {
			for _, a := range i.Addrs {
				ip, _, _ := strings.Cut(a, "/")
				hit = hit || words[ip]
			}
		}
		if hit && n.Kind != "switch" {
			t.Highlight = append(t.Highlight, n.Name)
		}
	}
}

// highlighted reports whether the diagrams draw node name in red.
func (t *Topology) highlighted(name string) bool {
	for _, h := range t.Highlight {
		if h == name {
			return true
		}
	}
	return false
}
