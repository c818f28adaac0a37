package netkit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/labrun/labrun/netkit/etcdir"
	"github.com/labrun/labrun/netkit/names"
	"github.com/labrun/labrun/netkit/node"
	"github.com/labrun/labrun/netkit/world"
)

// Node is one network namespace of a lab (netkit/node).
type Node = node.Node

// Lab is a set of nodes, each a network namespace that netkit made. The zero
// lab does not exist: make one with NewLab and Close it when done. Closing
// (or the death of the process) removes everything the lab made.
type Lab struct {
	opts  LabOptions
	world *world.World
	built *world.Built

	mu      sync.Mutex
	nodes   map[string]*Node
	engines map[string]*Engine // the running engines, by node
	stored  map[string]*carry  // by node: networks and containers kept while its engine is stopped
	etc     *etcdir.Dir
	pins    []string
	closed  bool
}

// NewLab builds its world (LabOptions.World; the classroom by default) in
// namespaces of its own, with the world's name service (netkit/world).
func NewLab(opts LabOptions) (lab *Lab, err error) {
	if opts.Name == "" {
		opts.Name = "lab"
	}
	if opts.World == nil {
		opts.World = world.Default()
	}
	l := &Lab{opts: opts, world: opts.World, engines: map[string]*Engine{}, stored: map[string]*carry{}}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if l.etc, err = etcdir.New(); err != nil {
		return nil, err
	}
	l.built, err = world.Build(l.world, world.Options{DockerForwardOff: opts.HostIPForwardOff, Etc: l.etc, Logf: opts.Logf})
	if err != nil {
		return nil, err
	}
	l.nodes = l.built.Nodes
	return l, nil
}

// World returns the lab's world; the caller must not change it.
func (l *Lab) World() *world.World { return l.world }

// Node returns a node by name: a world node or a running container (by name
// or ID prefix).
func (l *Lab) Node(name string) (*Node, error) {
	l.mu.Lock()
	n, ok := l.nodes[name]
	l.mu.Unlock()
	if ok && name != world.SwitchNode {
		return n, nil
	}
	engines := l.Engines()
	for _, e := range engines {
		if c, err := e.Container(name); err == nil {
			if nd := c.Node(); nd != nil {
				return nd, nil
			}
			return nil, derr(ErrNotRunning, "container %s is not running", name)
		}
	}
	// The world's nodes, then the running containers: what exists, and
	// the near miss among them.
	all := l.world.NodeNames()
	for _, e := range engines {
		for _, c := range e.Containers(false) {
			all = append(all, c.Name)
		}
	}
	hint := ""
	if near := names.Nearest(name, all); near != "" {
		hint = fmt.Sprintf("; did you mean %q?", near)
	}
	return nil, fmt.Errorf("no node %q%s (nodes: %s): %w", name, hint, strings.Join(all, ", "), ErrNotFound)
}

// Nodes lists the world's node names, sorted.
func (l *Lab) Nodes() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var names []string
	for n := range l.nodes {
		if n != world.SwitchNode {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func (l *Lab) logf(format string, args ...any) {
	if l.opts.Logf != nil {
		l.opts.Logf(format, args...)
	}
}

// Pin bind-mounts every node's namespace under dir (one file per node, named
// after it), so that the lab survives labrun for inspection:
// `ip netns exec` works when dir is /run/netns. It returns the paths.
func (l *Lab) Pin(dir string, prefix string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("making %s: %w", dir, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var nodes []*Node
	for _, n := range l.nodes {
		nodes = append(nodes, n)
	}
	for _, e := range l.engines {
		for _, c := range e.Containers(false) {
			if n := c.Node(); n != nil && !n.IsShared() {
				nodes = append(nodes, node.Shared(c.Name, n.NS(), nil))
			}
		}
	}
	var paths []string
	for _, n := range nodes {
		p := filepath.Join(dir, prefix+n.Name)
		if err := n.NS().Pin(p); err != nil {
			return paths, err
		}
		paths = append(paths, p)
		l.pins = append(l.pins, p)
	}
	return paths, nil
}

// Close removes the lab: the engine's containers and their processes, then
// every namespace. Pinned namespaces stay until unpinned.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	engines := l.engines
	l.engines = map[string]*Engine{}
	mode := stopDiscard
	if len(l.pins) > 0 {
		mode = stopRemove
	}
	l.mu.Unlock()
	var errs []error
	for _, e := range engines {
		_, err := e.shutdown(mode)
		errs = append(errs, err)
	}
	if l.built != nil {
		errs = append(errs, l.built.Close())
	}
	if l.etc != nil {
		errs = append(errs, l.etc.Close())
	}
	return errors.Join(errs...)
}
