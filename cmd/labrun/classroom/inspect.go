package classroom

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

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
	if eng := lab.Engine(); eng != nil {
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

// InspectMain runs `labrun inspect [-format table|json] [LAB]`.
func InspectMain(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("inspect", "inspect [-format table|json] [LAB]\n\nList a live lab's nodes and containers: kind, state, image, interfaces with their MACs\nand addresses, published ports. LAB may be left out when one lab is live.", stderr)
	format := fs.String("format", "table", "table or json")
	if code, ok := parseArgs(fs, args, 0, 1); !ok {
		return code
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(stderr, "labrun inspect: unknown format %q (table, json)\n", *format)
		return 2
	}
	name, err := resolveLab(fs.Arg(0))
	var in *LabInspect
	if err == nil {
		_, err = call(name, request{Op: opInspect}, func(r reply) error {
			if r.Inspect != nil {
				in = r.Inspect
			}
			return nil
		})
	}
	if err == nil && in == nil {
		err = errors.New("the keeper sent nothing")
	}
	if err != nil {
		fmt.Fprintf(stderr, "labrun inspect: %v\n", err)
		return 1
	}
	if *format == "json" {
		b, _ := json.MarshalIndent(in, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	writeInspect(stdout, in)
	return 0
}

// writeInspect prints the table: a line per interface, the node's columns
// on its first.
func writeInspect(w io.Writer, in *LabInspect) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSTATE\tIMAGE\tIFACE\tMAC\tADDRESSES\tPORTS")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, n := range in.Nodes {
		ports := dash(strings.Join(n.Ports, ", "))
		ifaces := n.Ifaces
		if len(ifaces) == 0 {
			ifaces = []IIface{{}}
		}
		for i, f := range ifaces {
			if i == 0 {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t", n.Name, n.Kind, n.State, dash(n.Image))
			} else {
				fmt.Fprint(tw, "\t\t\t\t")
				ports = ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", dash(f.Name), dash(f.MAC), dash(strings.Join(f.Addrs, " ")), ports)
		}
	}
	tw.Flush()
}
