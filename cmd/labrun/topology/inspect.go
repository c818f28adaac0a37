package topology

import (
	"fmt"
	"sort"
	"strings"

	"github.com/labrun/labrun/netkit"
)

// LabInspect is `labrun inspect`'s view of a live lab: every node of the
// world and every container, as containerlab's inspect lists a lab.
type LabInspect struct {
	Lab   string  `json:"lab"`
	Nodes []INode `json:"nodes"`
}

// INode is one node or container.
type INode struct {
	Name string `json:"name"`
	// Kind is "world" or "container".
	Kind string `json:"kind"`
	// State is the container's ("running", "exited", "created"); a world
	// node is "running".
	State string `json:"state"`
	Image string `json:"image,omitempty"`
	// Network is a container's network mode (bridge, host, none,
	// container:NAME, or a network's name).
	Network string   `json:"network,omitempty"`
	Ifaces  []IIface `json:"ifaces,omitempty"`
	// Ports are a container's published ports, as docker ps shows them.
	Ports []string `json:"ports,omitempty"`
}

// IIface is an interface of a node, lo left out.
type IIface struct {
	Name  string   `json:"name"`
	MAC   string   `json:"mac,omitempty"`
	Addrs []string `json:"addrs,omitempty"`
}

// Inspect reads a lab as `labrun inspect` shows it.
func Inspect(lab *netkit.Lab) (*LabInspect, error) {
	out := &LabInspect{}
	for _, name := range lab.Nodes() {
		n, err := lab.Node(name)
		if err != nil {
			continue
		}
		in := INode{Name: name, Kind: "world", State: "running"}
		if in.Ifaces, err = ifacesOf(n); err != nil {
			return nil, err
		}
		out.Nodes = append(out.Nodes, in)
	}
	for _, eng := range lab.Engines() {
		ctrs := eng.Containers(true)
		sort.Slice(ctrs, func(i, j int) bool { return ctrs[i].Name < ctrs[j].Name })
		for _, c := range ctrs {
			in := INode{Name: c.Name, Kind: "container", State: c.State(), Image: c.Options().Image, Network: c.Options().Network.String()}
			if n := c.Node(); n != nil {
				k := c.Options().Network.Kind
				if k != netkit.ModeHost && k != netkit.ModeContainer {
					var err error
					if in.Ifaces, err = ifacesOf(n); err != nil {
						return nil, err
					}
				}
			}
			for _, b := range c.Ports() {
				ip := "0.0.0.0"
				if b.HostIP.IsValid() {
					ip = b.HostIP.String()
				}
				if strings.Contains(ip, ":") {
					ip = "[" + ip + "]"
				}
				in.Ports = append(in.Ports, fmt.Sprintf("%s:%d->%s", ip, b.HostPort, b.Container))
			}
			out.Nodes = append(out.Nodes, in)
		}
	}
	return out, nil
}

// ifacesOf lists the interfaces of a node with their MACs and addresses.
//
// Equivalent to: ip -n NODE addr show
func ifacesOf(n *netkit.Node) ([]IIface, error) {
	h := n.Netlink()
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("listing the links of %s: %w", n.Name, err)
	}
	var out []IIface
	for _, l := range links {
		a := l.Attrs()
		if a.Name == "lo" {
			continue
		}
		out = append(out, IIface{Name: a.Name, MAC: a.HardwareAddr.String(), Addrs: addrsOf(h, l)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
