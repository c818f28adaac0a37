package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/world"
	"github.com/labrun/labrun/runner/dockercli"
)

// A script's lab is built from its world (netkit/world) by the first
// command that needs it: the default world unless the script's first
// command is `world FILE` or the script has a `-- world.yaml --` section.

// WorldSection is the file a script's archive gives to pick its world
// without a command.
const WorldSection = "world.yaml"

var worldCmd = Cmd{
	Name:  "world",
	Usage: "NAME|FILE",
	Summary: "Build the script's lab from another world: a world file (FILE: a path that has a `/` or ends in `.yaml`, " +
		"from the script's directory, such as a `-- line.yaml --` section) or a world labrun ships (NAME: " +
		"`classroom`, the default, or `two-hosts`). It must come before any command that uses the lab.",
	Detail: "A `-- world.yaml --` section in the script does the same without a command. A world file declares " +
		"nodes, LANs, links, addresses, routes, sysctls, Docker hosts and a start-up command per node " +
		"([worlds.md](worlds.md)); a bad one fails the script with its file, line and field " +
		"(`line.yaml:7: nodes.r1.interfaces.eth0.adresses: unknown field \"adresses\" ...; did you mean \"addresses\"?`) " +
		"before anything is built. The script's address variables follow the world: NODE_IP and NODE_IP6 " +
		"for each node (`HOST1_IP`, `R50_IP`), in place of the classroom's.",
	Run: runWorld,
}

func runWorld(e *Env, args []string) error {
	if len(args) != 1 {
		return ErrUsage
	}
	if e.st.lab != nil && !e.st.given {
		return errors.New("world: the lab is already built (by an earlier command): world must come before any command that uses the lab")
	}
	w, err := LoadWorld(args[0])
	if isWorldFile(args[0]) {
		// Read from the script's directory, named in errors as the
		// script names it.
		path := args[0]
		if !filepath.IsAbs(path) {
			path = filepath.Join(e.Dir(), path)
		}
		w, err = worldFile(args[0], path)
	}
	if err != nil {
		return err
	}
	if e.st.given {
		// A live lab (labrun up) was built from the script's world
		// (ScriptWorld), or from another that -world named.
		if w.Name == e.st.world.Name {
			return nil
		}
		return fmt.Errorf("world: this script runs on a lab it was given (labrun up), whose world is %s, not %s: labrun up -world %s", e.st.world.Name, w.Name, args[0])
	}
	old := e.st.world
	e.st.world = w
	if e.ts != nil {
		for k := range old.Vars() {
			e.ts.Setenv(k, "")
		}
		for k, v := range w.Vars() {
			e.ts.Setenv(k, v)
			if !slices.Contains(e.st.vars, k) {
				e.st.vars = append(e.st.vars, k)
			}
		}
	}
	return nil
}

// isWorldFile says whether a world reference names a file rather than a
// shipped world (world.Load).
func isWorldFile(ref string) bool {
	return strings.Contains(ref, "/") || strings.HasSuffix(ref, ".yaml") || strings.HasSuffix(ref, ".yml")
}

// LoadWorld reads and checks a world (world.Load: a file, or a shipped
// world's name), including the dockerd flags it gives its Docker hosts.
// The error names the file, the line and the field of each mistake.
func LoadWorld(ref string) (*world.World, error) {
	w, err := world.Load(ref)
	if err != nil {
		return nil, err
	}
	if err := dockercli.CheckWorld(w); err != nil {
		return nil, err
	}
	return w, nil
}

// sectionWorld is the world of a script's `-- world.yaml --` section in
// dir, or the default world.
func sectionWorld(dir string) (*world.World, error) {
	path := filepath.Join(dir, WorldSection)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return world.Default(), nil
	}
	return worldFile(WorldSection, path)
}

// worldFile reads and checks the world file at path, named name in errors.
func worldFile(name, path string) (*world.World, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading world file: %w", err)
	}
	return checked(world.Parse(name, data))
}

// labError is a lab that could not be built: it fails the script even
// under "!", as a usage error does (tsCmd), since no command ran.
type labError struct{ err error }

func (e *labError) Error() string { return "making the lab: " + e.err.Error() }
func (e *labError) Unwrap() error { return e.err }

// Lab returns the script's lab, built from the script's world by the first
// command that asks for it.
func (e *Env) Lab() (*netkit.Lab, error) {
	e.st.labMu.Lock()
	defer e.st.labMu.Unlock()
	if e.st.lab == nil {
		if e.st.makeLab == nil {
			return nil, errors.New("no lab: the script's Params were not set up with runner.Setup")
		}
		lab, err := e.st.makeLab(e.st.world)
		if err != nil {
			return nil, &labError{err}
		}
		e.st.lab = lab
	}
	return e.st.lab, nil
}

// ScriptWorld is the world a script picks (a `-- world.yaml --` section,
// or a first command `world REF`, REF naming one of the archive's files, a
// file from dir, or a shipped world), or nil when it picks none: labrun up
// builds a live lab from it.
func ScriptWorld(a *txtar.Archive, dir string) (*world.World, error) {
	for _, f := range a.Files {
		if f.Name == WorldSection {
			return checked(world.Parse(WorldSection, f.Data))
		}
	}
	for _, line := range strings.Split(string(a.Comment), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if f[0] != worldCmd.Name || len(f) != 2 {
			return nil, nil
		}
		ref := strings.Trim(f[1], `'"`)
		if !isWorldFile(ref) {
			return LoadWorld(ref)
		}
		for _, af := range a.Files {
			if af.Name == ref {
				return checked(world.Parse(ref, af.Data))
			}
		}
		if !filepath.IsAbs(ref) {
			return worldFile(ref, filepath.Join(dir, ref))
		}
		return worldFile(ref, ref)
	}
	return nil, nil
}

// checked checks a parsed world's dockerd flags too.
func checked(w *world.World, err error) (*world.World, error) {
	if err == nil {
		err = dockercli.CheckWorld(w)
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}
