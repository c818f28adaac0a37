package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/labrun/labrun/netkit/names"
	"github.com/labrun/labrun/netkit/world"
	"github.com/labrun/labrun/runner"
	"github.com/labrun/labrun/worlds"
)

const worldHelp = `Work with world files (docs/worlds.md): the YAML files that declare a lab's
nodes, LANs, links, addresses, routes, sysctls, Docker hosts and start-up
commands. A scenario picks one with its first command, world FILE|NAME, or
a -- world.yaml -- section; labrun up -world FILE|NAME starts a live lab
from one.

  labrun world ls              list the worlds labrun ships (worlds/*.yaml)
  labrun world show NAME       print a shipped world's file
  labrun world check FILE|NAME...
                               check world files as a lab would read them:
                               each mistake with its file, line and field
  labrun world line [-n N]     print the world file of N routers in a line
                               (default 50; worlds/line-50.yaml is -n 50)
`

var worldVerbs = []string{"ls", "show", "check", "line"}

// worldMain runs `labrun world VERB ...`.
func worldMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "usage: labrun world ls|show|check|line ...\n")
		return 2
	}
	switch verb, rest := args[0], args[1:]; verb {
	case "ls":
		for _, name := range world.ShippedNames() {
			w, err := world.Shipped(name)
			if err != nil {
				fmt.Fprintf(stdout, "%-12s %v\n", name, err)
				continue
			}
			fmt.Fprintf(stdout, "%-12s %s\n", name, describe(w))
		}
		return 0
	case "show":
		if len(rest) != 1 {
			fmt.Fprintf(stderr, "usage: labrun world show NAME\n")
			return 2
		}
		if _, err := world.Shipped(rest[0]); err != nil {
			fmt.Fprintf(stderr, "labrun world show: %v\n", err)
			return 1
		}
		b, _ := worlds.FS.ReadFile(rest[0] + ".yaml")
		stdout.Write(b)
		return 0
	case "check":
		if len(rest) == 0 {
			fmt.Fprintf(stderr, "usage: labrun world check FILE|NAME...\n")
			return 2
		}
		code := 0
		for _, ref := range rest {
			w, err := runner.LoadWorld(ref)
			if err != nil {
				fmt.Fprintln(stderr, err)
				code = 1
				continue
			}
			fmt.Fprintf(stdout, "%s: %s\n", w.File, describe(w))
		}
		return code
	case "line":
		fs := flag.NewFlagSet("labrun world line", flag.ContinueOnError)
		fs.SetOutput(stderr)
		n := fs.Int("n", 50, fmt.Sprintf("how many routers (2 to %d)", world.MaxLine))
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "usage: labrun world line [-n N]\n")
			return 2
		}
		b, err := world.Line(*n)
		if err != nil {
			fmt.Fprintf(stderr, "labrun world line: %v\n", err)
			return 2
		}
		stdout.Write(b)
		return 0
	default:
		hint := ""
		if near := names.Nearest(verb, worldVerbs); near != "" {
			hint = fmt.Sprintf("; did you mean %q?", near)
		}
		fmt.Fprintf(stderr, "labrun world: unknown command %q (%s)%s\n", verb, strings.Join(worldVerbs, ", "), hint)
		return 2
	}
}

// describe says what a world holds, on one line.
func describe(w *world.World) string {
	s := fmt.Sprintf("%d nodes, %d LANs, %d links", len(w.Nodes), len(w.LANs), len(w.Links))
	if d := w.DockerNodes(); len(d) > 0 {
		s += ", Docker on " + strings.Join(d, ", ")
	}
	if r := w.Resolver(); r != nil {
		s += ", resolver on " + r.Name
	}
	return s
}
