package classroom

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/labrun/labrun/cmd/labrun/topology"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/labrun/labrun/checks/trace"
	"github.com/labrun/labrun/netkit"
)

// DiagramMain runs `labrun diagram [-lab LAB] [-format mermaid|svg|json] [-o FILE] [-trace 'FROM TARGET'] [FILE]`.
func DiagramMain(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("diagram", "diagram [-lab LAB] [-format mermaid|svg|json] [-o FILE] [-trace 'FROM TARGET'] [FILE]\n\nDraw a lab's topology: nodes, bridges, veth pairs with interface names and addresses,\npublished ports. FILE is a scenario or an exercise, whose set-up is run in a lab of its\nown and drawn; without FILE, the live lab LAB is drawn as it is now. With -trace, a\nconnection is traced first (as labrun trace FROM TARGET) and its walk drawn over the\npicture: the namespaces it passed numbered, the rewrites on the arrows, and its end.", stderr)
	lab := labFlag(fs, "the live `lab` to draw")
	traceArgs := fs.String("trace", "", "trace the connection `'FROM TARGET'` (e.g. 'client 192.168.190.128:801') and draw its walk")
	format := fs.String("format", "", "mermaid, svg or json (default: from -o's extension, else mermaid)")
	out := fs.String("o", "", "write to `file` instead of stdout")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 1 || (fs.NArg() == 1 && *lab != "") {
		fs.Usage()
		return 2
	}
	f := *format
	if f == "" {
		switch strings.ToLower(filepath.Ext(*out)) {
		case ".svg":
			f = "svg"
		case ".json":
			f = "json"
		default:
			f = "mermaid"
		}
	}
	if f != "mermaid" && f != "svg" && f != "json" {
		fmt.Fprintf(stderr, "labrun diagram: unknown format %q (mermaid, svg, json)\n", f)
		return 2
	}
	tr := strings.Fields(*traceArgs)
	if *traceArgs != "" && len(tr) < 2 {
		fmt.Fprintf(stderr, "labrun diagram: -trace %q: want FROM and a target (ADDR:PORT, a URL, or ping ADDR)\n", *traceArgs)
		return 2
	}
	var top *topology.Topology
	var err error
	if fs.NArg() == 1 {
		top, err = fileTopology(fs.Arg(0), tr)
	} else {
		top, err = liveTopology(*lab, tr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "labrun diagram: %v\n", err)
		return 1
	}
	var data []byte
	switch f {
	case "svg":
		data = []byte(topology.SVG(top))
	case "json":
		data, _ = json.MarshalIndent(top, "", "  ")
		data = append(data, '\n')
	default:
		data = []byte(topology.Mermaid(top))
	}
	if *out == "" {
		stdout.Write(data)
		return 0
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fmt.Fprintf(stderr, "labrun diagram: %v\n", err)
		return 1
	}
	return 0
}

// liveTopology asks a live lab's keeper for its topology, with the walk
// of a trace of tr (FROM TARGET) when tr is not empty.
func liveTopology(lab string, tr []string) (*topology.Topology, error) {
	name, err := resolveLab(lab)
	if err != nil {
		return nil, err
	}
	var rec *trace.Record
	if len(tr) > 0 {
		if rec, err = liveTrace(name, tr); err != nil {
			return nil, err
		}
	}
	var top *topology.Topology
	if _, err := call(name, request{Op: opTopology}, func(r reply) error {
		if r.Topology != nil {
			top = r.Topology
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if top == nil {
		return nil, errors.New("the keeper sent no topology")
	}
	if rec != nil {
		top.SetWalk(*rec)
	}
	return top, nil
}

// fileTopology builds the lab of a scenario (its whole script) or an
// exercise (its set-up) in a lab of its own, reads its topology (with the
// walk of a trace of tr, FROM TARGET, when tr is not empty) and removes
// it.
func fileTopology(file string, tr []string) (*topology.Topology, error) {
	var f fragment
	x, err := ParseExercise(file)
	switch {
	case err == nil:
		f = x.Setup
	case errors.Is(err, errNotExercise):
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		a := txtar.Parse(b)
		f = fragment{Display: file, Line: 1, Text: string(a.Comment), Files: a.Files}
	default:
		return nil, err
	}
	if err := errCannotBuildLabs(); err != nil {
		return nil, err
	}
	name := defaultName(file)
	w, err := f.world(filepath.Dir(file))
	if err != nil {
		return nil, err
	}
	lab, err := netkit.NewLab(netkit.LabOptions{Name: name, World: w})
	if err != nil {
		return nil, err
	}
	defer lab.Close()
	work, err := os.MkdirTemp("", "labrun-diagram-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	if r := runFragment(lab, work, f, setupTimeout); !r.Passed {
		return nil, fmt.Errorf("%s failed: %s\n%s", file, r.Failure, indent(r.Evidence, "  "))
	}
	top, err := topology.Collect(lab)
	if err != nil {
		return nil, err
	}
	top.Lab = name
	if len(tr) > 0 {
		rec, err := labTrace(lab, tr)
		if err != nil {
			return nil, err
		}
		top.SetWalk(*rec)
	}
	return top, nil
}
