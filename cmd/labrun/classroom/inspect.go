package classroom

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/labrun/labrun/cmd/labrun/topology"
)

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
	var in *topology.LabInspect
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
func writeInspect(w io.Writer, in *topology.LabInspect) {
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
			ifaces = []topology.IIface{{}}
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
