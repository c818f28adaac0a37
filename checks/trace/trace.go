package trace

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
)

// Node is a namespace a trace watches, by the name the lab knows it by.
type Node struct {
	Name string
	NS   *netns.NS
}

// Options are a trace's: where it starts, what it connects to, and the
// namespaces it watches. Nodes must hold From.
type Options struct {
	// Nodes are the lab's namespaces; several names for one namespace
	// (a container in host mode) are one node, under the first name.
	Nodes []Node
	// From is the node that makes the connection.
	From   string
	Target Target
	// Timeout bounds the connection (default 1s).
	Timeout time.Duration
	// Reply also walks the answer (the SYN-ACK, the reset, the echo
	// reply), with the rewrites conntrack makes on it.
	Reply bool
}

// Result is what a trace saw.
type Result struct {
	From   string
	Target Target
	// Err is why the connection failed, or nil; Answer is how it went
	// ("connected", an HTTP status line, "echo reply from ADDR").
	Err    error
	Answer string
	// Walk is the first packet's way; Reply its answer's, when asked and
	// seen.
	Walk  *Walk
	Reply *Walk
}

// Lines are the result as trace prints it: the outcome, the walk, and
// after "reply:" the answer's walk.
func (r *Result) Lines() []string {
	outcome := r.Answer
	if r.Err != nil {
		outcome = r.Err.Error()
	}
	out := []string{"trace " + r.From + " -> " + r.Target.String() + ": " + outcome}
	out = append(out, r.Walk.Lines()...)
	if r.Reply != nil {
		out = append(out, "reply:")
		out = append(out, r.Reply.Lines()...)
	}
	return out
}

// Record is a Result as data: what `trace -json` prints and a diagram
// draws.
type Record struct {
	From   string `json:"from"`
	Target string `json:"target"`
	// Answer is how the connection went; Failure why it failed.
	Answer  string `json:"answer,omitempty"`
	Failure string `json:"failure,omitempty"`
	Walk    *Walk  `json:"walk"`
	Reply   *Walk  `json:"reply,omitempty"`
}

// Record returns the result as data.
func (r *Result) Record() Record {
	rec := Record{From: r.From, Target: r.Target.String(), Answer: r.Answer, Walk: r.Walk, Reply: r.Reply}
	if r.Err != nil {
		rec.Failure = r.Err.Error()
	}
	return rec
}

// String is Lines, a line each.
func (r *Result) String() string { return strings.Join(r.Lines(), "\n") + "\n" }

// watched is a node during a trace.
type watched struct {
	Node
	ino    uint64
	h      *netlink.Handle
	ifaces ifaces
	l      *listener
	marked bool
}

// Run traces one connection from o.From to o.Target: it subscribes to the
// trace events of every node, marks the connection's packets in each (see
// mark), connects, reads the events, removes the marks, and assembles the
// walk. The connection's failure is the Result's Err, not Run's error,
// which says the trace itself could not be made.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	table := fmt.Sprintf("%s-%04x", TablePrefix, rand.Uint32()&0xffff)
	nodes, err := watch(o.Nodes)
	defer func() {
		for _, w := range nodes {
			if w.marked {
				if uerr := unmark(w.NS, table); uerr != nil && err == nil {
					err = fmt.Errorf("removing the trace's tables from %s: %w", w.Name, uerr)
				}
			}
			if w.l != nil {
				w.l.close()
			}
			if w.h != nil {
				w.h.Close()
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	var from *watched
	for _, w := range nodes {
		if w.Name == o.From {
			from = w
		}
	}
	if from == nil {
		for _, n := range o.Nodes {
			if n.Name == o.From {
				ino, _ := n.NS.Inode()
				for _, w := range nodes {
					if w.ino == ino {
						from = w
					}
				}
			}
		}
	}
	if from == nil {
		return nil, fmt.Errorf("tracing from %s: no such node", o.From)
	}
	p, err := prepare(from.NS, o.Target)
	if err != nil {
		return nil, fmt.Errorf("tracing from %s: %w", o.From, err)
	}
	defer p.close()
	p.match.Table = table
	for _, w := range nodes {
		if err := mark(w.NS, p.match, w.ifaces.hasBridge()); err != nil {
			unmark(w.NS, table) // a half-made table, if any
			return nil, fmt.Errorf("marking the traced packets in %s: %w", w.Name, err)
		}
		w.marked = true
	}
	pctx, cancel := context.WithTimeout(ctx, o.Timeout)
	answer, perr := p.run(pctx)
	cancel()
	res = &Result{From: o.From, Target: o.Target, Err: perr, Answer: answer}
	var data []*nodeData
	for _, w := range nodes {
		evs, err := w.l.drain()
		if err != nil {
			return nil, fmt.Errorf("reading the trace events of %s: %w", w.Name, err)
		}
		if err := unmark(w.NS, table); err != nil {
			return nil, fmt.Errorf("removing the trace's tables from %s: %w", w.Name, err)
		}
		w.marked = false
		inheritPackets(evs)
		nd := &nodeData{name: w.Name, events: evs, ifaces: w.ifaces, view: &kernelView{w: w}}
		if len(evs) > 0 {
			if nd.book, err = readBook(w.NS); err != nil {
				return nil, fmt.Errorf("reading the rules of %s: %w", w.Name, err)
			}
		}
		data = append(data, nd)
	}
	in := walkInput{from: from.Name, refused: isRefused(perr)}
	sent, start := firstSent(data, from.Name, p.match)
	if start == nil {
		in.noSend = perr
		res.Walk = writeWalk(nil, in)
		return res, nil
	}
	res.Walk = writeWalk(wayOf(data, sent, start), in)
	if o.Reply {
		if rp, rstart := firstReply(data, sent); rstart != nil {
			in.reply = true
			res.Reply = writeWalk(wayOf(data, rp, rstart), in)
		}
	}
	return res, nil
}

// watch opens each distinct namespace of nodes: its netlink handle, its
// interfaces and its trace events' subscription.
func watch(nodes []Node) ([]*watched, error) {
	var out []*watched
	seen := map[uint64]bool{}
	for _, n := range nodes {
		ino, err := n.NS.Inode()
		if err != nil {
			return out, fmt.Errorf("watching %s: %w", n.Name, err)
		}
		if seen[ino] {
			continue
		}
		seen[ino] = true
		w := &watched{Node: n, ino: ino}
		out = append(out, w)
		if w.h, err = handle(n.NS); err != nil {
			return out, fmt.Errorf("watching %s: %w", n.Name, err)
		}
		if w.ifaces, err = readIfaces(w.h); err != nil {
			return out, fmt.Errorf("watching %s: %w", n.Name, err)
		}
		if w.l, err = listen(n.NS); err != nil {
			return out, fmt.Errorf("watching %s: %w", n.Name, err)
		}
	}
	return out, nil
}

// firstSent finds the first packet the trace's socket sent: the first
// event, in from's output, of the marked connection going out.
func firstSent(data []*nodeData, from string, m match) (Packet, *visit) {
	for _, nd := range data {
		if nd.name != from {
			continue
		}
		for i := range nd.events {
			ev := &nd.events[i]
			p := ev.Packet
			if pointOf(ev) != ptOrigin || !p.Valid() {
				continue
			}
			if (m.Port != 0 && p.SPort == m.Port) || (m.EchoID != 0 && p.EchoID == m.EchoID && (p.ICMPType == 8 || p.ICMPType == 128)) {
				for _, v := range visits(nd, p) {
					if v.origin() {
						return p, v
					}
				}
			}
		}
	}
	return Packet{}, nil
}

// firstReply finds the answer to sent where it was made: the first event,
// in some namespace's output, of a packet that answers it.
func firstReply(data []*nodeData, sent Packet) (Packet, *visit) {
	for _, nd := range data {
		for i := range nd.events {
			ev := &nd.events[i]
			if pointOf(ev) == ptOrigin && ev.Packet.Valid() && isReply(sent, ev.Packet) {
				for _, v := range visits(nd, ev.Packet) {
					if v.origin() {
						return ev.Packet, v
					}
				}
			}
		}
	}
	return Packet{}, nil
}

// wayOf chains packet p's passes from start, across data.
func wayOf(data []*nodeData, p Packet, start *visit) []*visit {
	all := map[*nodeData][]*visit{}
	for _, nd := range data {
		if nd == start.node {
			vs := visits(nd, p)
			for i, v := range vs {
				if v.order == start.order {
					vs[i] = start
				}
			}
			all[nd] = vs
			continue
		}
		all[nd] = visits(nd, p)
	}
	return chain(all, data, start)
}

// isRefused reports whether the connection was reset.
func isRefused(err error) bool {
	return errors.Is(err, unix.ECONNREFUSED)
}

// kernelView is a watched namespace's kernel, as the walk asks it.
type kernelView struct{ w *watched }

func (k *kernelView) route(dst netip.Addr) (string, error) {
	r, err := route(k.w.h, k.w.ifaces, dst)
	if err != nil {
		return "", errors.Join(errNoRoute, err)
	}
	return r, nil
}

func (k *kernelView) listening(proto uint8, addr netip.Addr, port uint16) string {
	l, _ := listening(k.w.h, k.w.ino, proto, addr, port)
	return l
}

func (k *kernelView) forwards(a netip.Addr) bool {
	ok, _ := forwarding(k.w.NS, a)
	return ok
}
