package netkit

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/etcdir"
	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/resolver"
	"github.com/labrun/labrun/netkit/world"
)

// Lab is a set of nodes, each a network namespace that netkit made. The zero
// lab does not exist: make one with NewLab and Close it when done. Closing
// (or the death of the process) removes everything the lab made.
type Lab struct {
	opts LabOptions

	mu     sync.Mutex
	nodes  map[string]*Node
	engine *Engine
	stored *carry // networks and containers kept while no engine runs
	etc    *etcdir.Dir
	zone   *resolver.ZoneServer // the lab's resolver (see serveZone)
	pins   []string
	closed bool
}

// Node is one network namespace of a lab: a world node (host, client,
// gateway, internet, and the hidden lan switch) or a container's.
type Node struct {
	// Name is the node's name in the lab.
	Name string
	ns   *netns.NS
	// nl is the node's netlink handle. World nodes open it at once; a
	// container's node opens it on first use of Netlink (netkit configures
	// containers with short-lived handles), so that a lab of many
	// containers does not hold three netlink sockets for each: every
	// process labrun starts copies, and closes, all of its descriptors.
	nl     *netlink.Handle
	nlMu   sync.Mutex
	closed bool
	// shared marks a node that borrows another node's namespace (host mode
	// and container: mode); closing it leaves the namespace alone.
	shared bool
	// utsPID, for a container's node, returns the PID whose UTS namespace
	// (hostname) commands run in.
	utsPID func() int
	// binds are the node's /etc files, bound in its commands.
	binds []initproc.Bind
	// spare holds netlink connections bound to the namespace for work
	// done from many goroutines at once (see borrow).
	spare []*link.Conn
}

// maxSpare bounds the connections a node keeps for borrow.
const maxSpare = 16

// borrow returns a netlink connection bound to the node's namespace that
// no one else uses until giveBack. A handle serialises its requests (one
// socket, locked from request to answer), so the host's veth work for
// containers started in parallel goes through connections of their own;
// otherwise each waits while another's request waits for the kernel.
func (n *Node) borrow() (*link.Conn, error) {
	n.nlMu.Lock()
	if n.closed {
		n.nlMu.Unlock()
		return nil, fmt.Errorf("node %s is closed: %w", n.Name, ErrNotRunning)
	}
	if k := len(n.spare); k > 0 {
		c := n.spare[k-1]
		n.spare = n.spare[:k-1]
		n.nlMu.Unlock()
		return c, nil
	}
	n.nlMu.Unlock()
	c, err := link.Open(n.ns)
	if err != nil {
		return nil, fmt.Errorf("opening netlink in node %s: %w", n.Name, err)
	}
	return c, nil
}

// giveBack returns a connection that borrow gave.
func (n *Node) giveBack(c *link.Conn) {
	n.nlMu.Lock()
	defer n.nlMu.Unlock()
	if n.closed || len(n.spare) >= maxSpare {
		c.Close()
		return
	}
	n.spare = append(n.spare, c)
}

// lender lends a node's connections to a link.Deleter.
type lender struct{ n *Node }

func (l lender) Borrow() (*link.Conn, error) { return l.n.borrow() }
func (l lender) GiveBack(c *link.Conn)       { l.n.giveBack(c) }

// NS returns the node's network namespace.
func (n *Node) NS() *netns.NS { return n.ns }

// Netlink returns a netlink handle bound to the node's namespace, or nil
// once the node is gone.
func (n *Node) Netlink() *netlink.Handle {
	n.nlMu.Lock()
	defer n.nlMu.Unlock()
	if n.nl == nil && !n.closed && !n.shared {
		if h, err := link.OpenHandle(n.ns); err == nil {
			n.nl = h
		}
	}
	if n.nl == nil {
		// A nil *netlink.Handle acts on the calling thread's namespace,
		// which is labrun's own: never hand one out. A closed node gets a
		// handle to an empty namespace, where every lookup fails.
		return emptyHandle()
	}
	return n.nl
}

var (
	emptyOnce sync.Once
	emptyH    *netlink.Handle
)

// emptyHandle returns a netlink handle bound to a namespace that holds
// nothing but a down lo, made once per process: the safe answer for a node
// that is gone.
func emptyHandle() *netlink.Handle {
	emptyOnce.Do(func() {
		ns, err := netns.New()
		if err == nil {
			emptyH, err = link.OpenHandle(ns)
			ns.Close() // the handle's sockets keep it alive
		}
		if err != nil {
			panic("netkit: cannot make an empty namespace for a closed node's handle: " + err.Error())
		}
	})
	return emptyH
}

func (n *Node) close() error {
	if n.shared {
		return nil
	}
	n.nlMu.Lock()
	n.closed = true
	if n.nl != nil {
		// Netlink hands out the empty namespace's handle from now on: a
		// closed handle acts on the calling thread's namespace.
		n.nl.Close()
		n.nl = nil
	}
	for _, c := range n.spare {
		c.Close()
	}
	n.spare = nil
	n.nlMu.Unlock()
	return n.ns.Close()
}

func newNode(name string) (*Node, error) {
	ns, err := netns.New()
	if err != nil {
		return nil, err
	}
	return nodeFromNS(name, ns)
}

// newContainerNode makes a container's node: a fresh namespace with lo up,
// and no netlink handle until one is asked for (see Node.nl).
func newContainerNode(name string) (*Node, error) {
	ns, err := netns.New()
	if err != nil {
		return nil, err
	}
	n := &Node{Name: name, ns: ns}
	if err := n.config(link.SetLoUp); err != nil {
		ns.Close()
		return nil, fmt.Errorf("setting lo up in container %s: %w", name, err)
	}
	return n, nil
}

// config runs fn with a short-lived rtnetlink handle opened from a thread
// inside the node's namespace. fn runs on that thread; it may use other
// nodes' handles too (their sockets live in their own namespaces).
func (n *Node) config(fn func(h *netlink.Handle) error) error {
	return n.ns.Do(func() error {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("opening netlink: %w", err)
		}
		defer h.Close()
		return fn(h)
	})
}

// nodeFromNS makes a node of a fresh namespace and sets its lo up.
func nodeFromNS(name string, ns *netns.NS) (*Node, error) {
	h, err := link.OpenHandle(ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("opening netlink in node %s: %w", name, err)
	}
	n := &Node{Name: name, ns: ns, nl: h}
	if err := link.SetLoUp(h); err != nil {
		n.close()
		return nil, fmt.Errorf("setting lo up in node %s: %w", name, err)
	}
	return n, nil
}

// Command returns a command that runs argv inside the node's network
// namespace, with a /sys of that namespace (so brctl and ip see the node's
// interfaces), once started with Start. env nil means labrun's environment.
//
// Equivalent to: ip netns exec NODE ARGV...
func (n *Node) Command(env []string, argv ...string) (*exec.Cmd, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("running in node %s: no command: %w", n.Name, ErrInvalid)
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, fmt.Errorf("running in node %s: %w", n.Name, err)
	}
	cfg := initproc.Config{Mode: initproc.ModeExec, RemountSys: true, Args: argv, Binds: n.binds}
	if n.utsPID != nil {
		cfg.UTSFromPID = n.utsPID()
	} else {
		// World nodes get a UTS namespace of their own per command, whose
		// hostname is the node's name (`on host hostname` prints host).
		cfg.Hostname = n.Name
	}
	return execCommand(env, cfg)
}

// execCommand builds a ModeExec command (the exec wrapper, see
// initproc.Exec) whose fd 3 reports the execve.
func execCommand(env []string, cfg initproc.Config) (*exec.Cmd, error) {
	return initproc.Exec(cfg, env)
}

// Start starts a command made by Command inside the node and returns once
// the program itself runs (after the wrapper's execve). The process dies
// with labrun.
func (n *Node) Start(cmd *exec.Cmd) error {
	return startExec(n.ns, cmd, netns.StartOptions{NewMount: true, NewUTS: n.utsPID == nil})
}

// startExec starts a ModeExec command in ns and waits for its execve.
func startExec(ns *netns.NS, cmd *exec.Cmd, opts netns.StartOptions) error {
	rd, wr, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("making exec pipe: %w", err)
	}
	defer rd.Close()
	cmd.ExtraFiles = append([]*os.File{wr}, cmd.ExtraFiles...)
	err = ns.Start(cmd, opts)
	wr.Close()
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(rd)
	if len(msg) > 0 {
		cmd.Wait()
		return fmt.Errorf("starting %s: %s", cmd.Args[0], initproc.ExecFailure(msg))
	}
	return nil
}

// linkUp sets a link up by name.
//
// Equivalent to: ip link set NAME up
func (n *Node) linkUp(name string) error {
	l, err := n.nl.LinkByName(name)
	if err != nil {
		return fmt.Errorf("finding %s in node %s: %w", name, n.Name, err)
	}
	if err := n.nl.LinkSetUp(l); err != nil {
		return fmt.Errorf("setting %s up in node %s: %w", name, n.Name, err)
	}
	return nil
}

// addAddr adds an address to a link.
//
// Equivalent to: ip addr add PREFIX dev NAME
func (n *Node) addAddr(name string, p netip.Prefix) error {
	l, err := n.nl.LinkByName(name)
	if err != nil {
		return fmt.Errorf("finding %s in node %s: %w", name, n.Name, err)
	}
	if err := n.nl.AddrAdd(l, &netlink.Addr{IPNet: ipNet(p)}); err != nil {
		return fmt.Errorf("adding %s to %s in node %s: %w", p, name, n.Name, err)
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// NewLab builds the classroom world (netkit/world) in namespaces of its
// own, with the world's name service.
func NewLab(opts LabOptions) (lab *Lab, err error) {
	if opts.Name == "" {
		opts.Name = "lab"
	}
	l := &Lab{opts: opts, nodes: map[string]*Node{}}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if l.etc, err = etcdir.New(); err != nil {
		return nil, err
	}
	for _, name := range world.Nodes {
		n, err := newNode(name)
		if err != nil {
			return nil, fmt.Errorf("making node %s: %w", name, err)
		}
		l.nodes[name] = n
	}
	nodes := map[string]world.Node{}
	for name, n := range l.nodes {
		nodes[name] = world.Node{NS: n.ns, NL: n.nl}
	}
	if err := world.Wire(nodes, world.Options{HostIPForwardOff: opts.HostIPForwardOff}); err != nil {
		return nil, err
	}
	if err := l.worldFiles(); err != nil {
		return nil, err
	}
	if err := l.serveZone(); err != nil {
		return nil, err
	}
	return l, nil
}

// Node returns a node by name: a world node or a running container (by name
// or ID prefix).
func (l *Lab) Node(name string) (*Node, error) {
	l.mu.Lock()
	n, ok := l.nodes[name]
	e := l.engine
	l.mu.Unlock()
	if ok && name != "switch" {
		return n, nil
	}
	if e != nil {
		if c, err := e.Container(name); err == nil {
			if node := c.Node(); node != nil {
				return node, nil
			}
			return nil, derr(ErrNotRunning, "container %s is not running", name)
		}
	}
	return nil, fmt.Errorf("no node %q (nodes: %s, or a running container): %w", name, "host, client, gateway, internet", ErrNotFound)
}

// Nodes lists the world's node names, sorted.
func (l *Lab) Nodes() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var names []string
	for n := range l.nodes {
		if n != "switch" {
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
	if l.engine != nil {
		for _, c := range l.engine.Containers(false) {
			if n := c.Node(); n != nil && !n.shared {
				nodes = append(nodes, &Node{Name: c.Name, ns: n.ns})
			}
		}
	}
	var paths []string
	for _, n := range nodes {
		p := filepath.Join(dir, prefix+n.Name)
		if err := n.ns.Pin(p); err != nil {
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
	e := l.engine
	l.engine = nil
	mode := stopDiscard
	if len(l.pins) > 0 {
		mode = stopRemove
	}
	l.mu.Unlock()
	var errs []error
	if e != nil {
		_, err := e.shutdown(mode)
		errs = append(errs, err)
	}
	for _, n := range l.nodes {
		errs = append(errs, n.close())
	}
	if l.zone != nil {
		errs = append(errs, l.zone.Close())
	}
	if l.etc != nil {
		errs = append(errs, l.etc.Close())
	}
	return errors.Join(errs...)
}

// Output runs argv inside the node and returns its standard output; a
// failure includes its standard error.
//
// Equivalent to: ip netns exec NODE ARGV...
func (n *Node) Output(argv ...string) ([]byte, error) {
	cmd, err := n.Command(nil, argv...)
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := n.Start(cmd); err != nil {
		return nil, err
	}
	if err := cmd.Wait(); err != nil {
		return []byte(stdout.String()), fmt.Errorf("running %s in node %s: %w: %s", strings.Join(argv, " "), n.Name, err, strings.TrimSpace(stderr.String()))
	}
	return []byte(stdout.String()), nil
}
