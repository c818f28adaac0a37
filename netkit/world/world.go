// Package world is labrun's worlds as data, and what builds them: a world
// file (YAML, docs/worlds.md) declares nodes, each a network namespace (some
// run a Docker engine, some route, some serve), the LANs between some of
// them (bridges in a hidden switch node), point-to-point links, addresses in
// both families, routes, sysctls, a start-up command per node, and the node
// that answers the world's names. Parse reads and checks a file, with an
// error naming the file, the line and the field of every mistake; Build
// makes the world in namespaces of its own; the world's name service (the
// resolver, each node's /etc files) is here too.
//
// The default world is the article's classroom, worlds/classroom.yaml
// (package worlds embeds the shipped files):
//
//	client 192.168.190.1 ─┐
//	host 192.168.190.128 ─┼─ lan (a bridge in the hidden "switch" node)
//	gateway 192.168.190.2 ┘   gateway 203.0.113.1 ── internet 203.0.113.10
//
// with IPv6 addresses shaped like the IPv4 ones (2001:db8:190::/64 on the
// LAN, 2001:db8:113::/64 behind the gateway). The names and addresses below
// are read from that file.
//
// It is not the lab (netkit's Lab holds the built world and its engines)
// nor Docker's engine: it knows namespaces, netlink, and the programs its
// nodes start.
package world

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/labrun/labrun/netkit/names"
	"github.com/labrun/labrun/worlds"
)

// The classroom world's nodes.
const (
	Host     = "host"
	Client   = "client"
	Gateway  = "gateway"
	Internet = "internet"
	// Switch is the hidden node of the LAN's bridge.
	Switch = SwitchNode
)

// The classroom world's addresses, as worlds/classroom.yaml gives them.
var (
	HostAddr     = classroomAddr(Host, "eth0", false)
	ClientAddr   = classroomAddr(Client, "eth0", false)
	GatewayLAN   = classroomAddr(Gateway, "eth0", false)
	GatewayWAN   = classroomAddr(Gateway, "eth1", false)
	InternetAddr = classroomAddr(Internet, "eth0", false)

	HostAddr6     = classroomAddr(Host, "eth0", true)
	ClientAddr6   = classroomAddr(Client, "eth0", true)
	GatewayLAN6   = classroomAddr(Gateway, "eth0", true)
	GatewayWAN6   = classroomAddr(Gateway, "eth1", true)
	InternetAddr6 = classroomAddr(Internet, "eth0", true)
)

var defaultWorld = sync.OnceValues(func() (*World, error) { return Shipped(worlds.Default) })

// Default returns the default world, worlds/classroom.yaml, parsed once;
// the caller must not change it.
func Default() *World {
	w, err := defaultWorld()
	if err != nil {
		panic("netkit/world: the shipped default world does not parse: " + err.Error())
	}
	return w
}

// classroomAddr is an interface's first address of a family in the
// default world.
func classroomAddr(node, iface string, v6 bool) netip.Prefix {
	if n := Default().Node(node); n != nil {
		if i := n.Iface(iface); i != nil {
			for _, a := range i.Addresses {
				if a.Addr().Is6() == v6 {
					return a
				}
			}
		}
	}
	panic(fmt.Sprintf("netkit/world: the default world has no address for %s/%s", node, iface))
}

// Shipped parses the world file labrun ships under that name
// (worlds/NAME.yaml).
func Shipped(name string) (*World, error) {
	data, err := worlds.FS.ReadFile(name + ".yaml")
	if err != nil {
		hint := ""
		if near := names.Nearest(name, ShippedNames()); near != "" {
			hint = fmt.Sprintf("; did you mean %q?", near)
		}
		return nil, fmt.Errorf("no shipped world %q (shipped: %s)%s", name, strings.Join(ShippedNames(), ", "), hint)
	}
	return Parse("worlds/"+name+".yaml", data)
}

// ShippedNames lists the worlds labrun ships, sorted.
func ShippedNames() []string {
	entries, _ := worlds.FS.ReadDir(".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Load reads a world: a file when ref names one (it has a / or ends in
// .yaml or .yml), otherwise the shipped world of that name.
func Load(ref string) (*World, error) {
	if !strings.Contains(ref, "/") && !strings.HasSuffix(ref, ".yaml") && !strings.HasSuffix(ref, ".yml") {
		return Shipped(ref)
	}
	data, err := os.ReadFile(ref)
	if err != nil {
		return nil, fmt.Errorf("reading world file: %w", err)
	}
	return Parse(ref, data)
}
