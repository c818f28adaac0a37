// Package node is one network namespace of a lab as labrun uses it: a
// world node (host, client, gateway, internet, the hidden switch) or a
// container's. It holds the namespace's descriptor and netlink handles,
// runs commands inside it (with a /sys of its own, its hostname and its
// /etc files bound), and lends netlink connections for parallel work.
//
// It is not the lab (netkit's Lab makes and names nodes), nor a container
// (netkit's Container owns its node while it runs); namespaces themselves
// are netkit/netns's.
package node

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/netns"
)

// ErrNoCommand is returned by Command for an empty command line.
var ErrNoCommand = errors.New("no command")

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
	// done from many goroutines at once (see Borrow).
	spare []*link.Conn
}

// maxSpare bounds the connections a node keeps for borrow.
const maxSpare = 16

// Borrow returns a netlink connection bound to the node's namespace that
// no one else uses until GiveBack. A handle serialises its requests (one
// socket, locked from request to answer), so the host's veth work for
// containers started in parallel goes through connections of their own;
// otherwise each waits while another's request waits for the kernel.
func (n *Node) Borrow() (*link.Conn, error) {
	n.nlMu.Lock()
	if n.closed {
		n.nlMu.Unlock()
		return nil, fmt.Errorf("node %s is closed: %w", n.Name, netns.ErrClosed)
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

// GiveBack returns a connection that Borrow gave.
func (n *Node) GiveBack(c *link.Conn) {
	n.nlMu.Lock()
	defer n.nlMu.Unlock()
	if n.closed || len(n.spare) >= maxSpare {
		c.Close()
		return
	}
	n.spare = append(n.spare, c)
}

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

func (n *Node) Close() error {
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

func New(name string) (*Node, error) {
	ns, err := netns.New()
	if err != nil {
		return nil, err
	}
	return fromNS(name, ns)
}

// NewContainer makes a container's node: a fresh namespace with lo up,
// and no netlink handle until one is asked for (see Node.nl).
func NewContainer(name string) (*Node, error) {
	ns, err := netns.New()
	if err != nil {
		return nil, err
	}
	n := &Node{Name: name, ns: ns}
	if err := n.Config(link.SetLoUp); err != nil {
		ns.Close()
		return nil, fmt.Errorf("setting lo up in container %s: %w", name, err)
	}
	return n, nil
}

// Config runs fn with a short-lived rtnetlink handle opened from a thread
// inside the node's namespace. fn runs on that thread; it may use other
// nodes' handles too (their sockets live in their own namespaces).
func (n *Node) Config(fn func(h *netlink.Handle) error) error {
	return n.ns.Do(func() error {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("opening netlink: %w", err)
		}
		defer h.Close()
		return fn(h)
	})
}

// fromNS makes a node of a fresh namespace and sets its lo up.
func fromNS(name string, ns *netns.NS) (*Node, error) {
	h, err := link.OpenHandle(ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("opening netlink in node %s: %w", name, err)
	}
	n := &Node{Name: name, ns: ns, nl: h}
	if err := link.SetLoUp(h); err != nil {
		n.Close()
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
		return nil, fmt.Errorf("running in node %s: %w", n.Name, ErrNoCommand)
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
	return ExecCommand(env, cfg)
}

// ExecCommand builds a ModeExec command (the exec wrapper, see
// initproc.Exec) whose fd 3 reports the execve.
func ExecCommand(env []string, cfg initproc.Config) (*exec.Cmd, error) {
	return initproc.Exec(cfg, env)
}

// Start starts a command made by Command inside the node and returns once
// the program itself runs (after the wrapper's execve). The process dies
// with labrun.
func (n *Node) Start(cmd *exec.Cmd) error {
	return StartExec(n.ns, cmd, netns.StartOptions{NewMount: true, NewUTS: n.utsPID == nil})
}

// StartExec starts a ModeExec command in ns and waits for its execve.
func StartExec(ns *netns.NS, cmd *exec.Cmd, opts netns.StartOptions) error {
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

// LinkUp sets a link up by name.
//
// Equivalent to: ip link set NAME up
func (n *Node) LinkUp(name string) error {
	l, err := n.nl.LinkByName(name)
	if err != nil {
		return fmt.Errorf("finding %s in node %s: %w", name, n.Name, err)
	}
	if err := n.nl.LinkSetUp(l); err != nil {
		return fmt.Errorf("setting %s up in node %s: %w", name, n.Name, err)
	}
	return nil
}

// AddAddr adds an address to a link.
//
// Equivalent to: ip addr add PREFIX dev NAME
func (n *Node) AddAddr(name string, p netip.Prefix) error {
	l, err := n.nl.LinkByName(name)
	if err != nil {
		return fmt.Errorf("finding %s in node %s: %w", name, n.Name, err)
	}
	if err := n.nl.AddrAdd(l, &netlink.Addr{IPNet: IPNet(p)}); err != nil {
		return fmt.Errorf("adding %s to %s in node %s: %w", p, name, n.Name, err)
	}
	return nil
}

func IPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
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

// Shared makes the node of a container that borrows another node's
// namespace ns and handle nl (host mode, container: mode): closing it
// leaves the namespace alone.
func Shared(name string, ns *netns.NS, nl *netlink.Handle) *Node {
	return &Node{Name: name, ns: ns, nl: nl, shared: true}
}

// FromPID makes the node of a container in the namespace of process pid
// (container: mode on a container of its own namespace).
func FromPID(name string, pid int) (*Node, error) {
	ns, err := netns.OpenPID(pid)
	if err != nil {
		return nil, err
	}
	return &Node{Name: name, ns: ns}, nil
}

// IsShared reports whether the node borrows another node's namespace.
func (n *Node) IsShared() bool { return n.shared }

// SetUTS makes the node's commands join the UTS namespace (hostname) of
// the process pid returns: a container's main process.
func (n *Node) SetUTS(pid func() int) { n.utsPID = pid }

// SetBinds sets the files bound over /etc in the node's commands.
func (n *Node) SetBinds(b []initproc.Bind) { n.binds = b }

// Binds returns the files bound over /etc in the node's commands (its own
// resolv.conf, hosts and hostname), for a program that starts commands in
// the node itself.
func (n *Node) Binds() []initproc.Bind { return n.binds }
