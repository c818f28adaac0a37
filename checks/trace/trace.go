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
	"golang.org/x/sync/errgroup"
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
	i      int // its place among the trace's nodes
	h      *netlink.Handle
	ifaces ifaces
	l      *listener
	marked bool
}

func (w *watched) close() {
	if w.l != nil {
		w.l.close()
	}
	if w.h != nil {
		w.h.Close()
	}
}

// Run traces one connection from o.From to o.Target: it subscribes to the
// trace events of every node, marks the connection's packets in each (see
// mark), connects, reads the events, removes the marks, and assembles the
// walk. The connection's failure is the Result's Err, not Run's error,
// which says the trace itself could not be made. The work on each node
// runs on every node at once.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	table := fmt.Sprintf("%s-%04x", TablePrefix, rand.Uint32()&0xffff)
	nodes, from, err := watch(o.Nodes, o.From)
	defer func() {
		// Whatever happened: no table of the trace stays behind.
		uerr := each(nodes, func(w *watched) error {
			if w.marked {
				if err := unmark(w.NS, table); err != nil {
					return fmt.Errorf("removing the trace's tables from %s: %w", w.Name, err)
				}
			}
			return nil
		})
		if err == nil {
			err = uerr
		}
		for _, w := range nodes {
			w.close()
		}
	}()
	if err != nil {
		return nil, err
	}
	p, err := prepare(from.NS, o.Target)
	if err != nil {
		return nil, fmt.Errorf("tracing from %s: %w", o.From, err)
	}
	defer p.close()
	p.match.Table = table
	if err := each(nodes, func(w *watched) error {
		w.marked = true // a half-made table is removed too
		if err := mark(w.NS, p.match, w.ifaces.hasBridge()); err != nil {
			return fmt.Errorf("marking the traced packets in %s: %w", w.Name, err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, o.Timeout)
	answer, perr := p.run(pctx)
	cancel()
	res = &Result{From: o.From, Target: o.Target, Err: perr, Answer: answer}
	data := make([]*nodeData, len(nodes))
	if err := each(nodes, func(w *watched) error {
		evs, err := w.l.drain()
		if err != nil {
			return fmt.Errorf("reading the trace events of %s: %w", w.Name, err)
		}
		if err := unmark(w.NS, table); err != nil {
			return fmt.Errorf("removing the trace's tables from %s: %w", w.Name, err)
		}
		w.marked = false
		inheritPackets(evs)
		nd := &nodeData{name: w.Name, events: evs, ifaces: w.ifaces, view: &kernelView{w: w}}
		if len(evs) > 0 {
			if nd.book, err = readBook(w.NS, evs); err != nil {
				return fmt.Errorf("reading the rules of %s: %w", w.Name, err)
			}
		}
		data[w.i] = nd
		return nil
	}); err != nil {
		return nil, err
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

// each runs fn on every node at once and returns the first error.
func each(nodes []*watched, fn func(w *watched) error) error {
	var g errgroup.Group
	for _, w := range nodes {
		g.Go(func() error { return fn(w) })
	}
	return g.Wait()
}

// watch opens each distinct namespace of nodes (several names for one
// namespace are one node, under the first name): its netlink handle, its
// interfaces and its trace events' subscription. It also returns the node
// named from.
func watch(nodes []Node, from string) ([]*watched, *watched, error) {
	var out []*watched
	byIno := map[uint64]*watched{}
	var src *watched
	for _, n := range nodes {
		ino, err := n.NS.Inode()
		if err != nil {
			return out, nil, fmt.Errorf("watching %s: %w", n.Name, err)
		}
		w, seen := byIno[ino]
		if !seen {
			w = &watched{Node: n, ino: ino, i: len(out)}
			byIno[ino] = w
			out = append(out, w)
		}
		if n.Name == from && src == nil {
			src = w
		}
	}
	if src == nil {
		return out, nil, fmt.Errorf("tracing from %s: no such node", from)
	}
	err := each(out, func(w *watched) error {
		var err error
		if w.h, err = handle(w.NS); err != nil {
			return fmt.Errorf("watching %s: %w", w.Name, err)
		}
		if w.ifaces, err = readIfaces(w.h); err != nil {
			return fmt.Errorf("watching %s: %w", w.Name, err)
		}
		if w.l, err = listen(w.NS); err != nil {
			return fmt.Errorf("watching %s: %w", w.Name, err)
		}
		return nil
	})
	return out, src, err
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

func (k *kernelView) unanswered(dst netip.Addr, oif uint32) string {
	return unanswered(k.w.h, dst, int(oif))
}

func (k *kernelView) forwards(a netip.Addr) bool {
	ok, _ := forwarding(k.w.NS, a)
	return ok
}
