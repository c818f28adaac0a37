package trace

import (
	"errors"
	"net/netip"
	"strings"

	"golang.org/x/sys/unix"
)

// This file assembles a walk from the events of every namespace: it picks
// the events of one packet, cuts each namespace's into visits (one pass of
// the packet through it), chains the visits from namespace to namespace by
// the interfaces that join them, and writes each visit as steps. It reads
// the kernel only through a view, so that it is tested on recorded events.

// StepKind is what a step of a walk says.
type StepKind string

// The kinds of step.
const (
	StepSend    StepKind = "send"    // the packet leaves its sender's socket
	StepArrive  StepKind = "arrive"  // it enters a namespace
	StepRule    StepKind = "rule"    // a chain's rule, return or policy
	StepRewrite StepKind = "rewrite" // NAT changed its addresses or ports
	StepRoute   StepKind = "route"   // the route the namespace took
	StepLeave   StepKind = "leave"   // it leaves a namespace
	StepEnd     StepKind = "end"     // how the walk ended
)

// Step is one line of a walk.
type Step struct {
	// Hop numbers the namespaces the packet passes, from 1.
	Hop  int      `json:"hop"`
	Node string   `json:"node"`
	Kind StepKind `json:"kind"`
	Text string   `json:"text"`
	// Iface is the interface of an arrival or a departure; Peer the node
	// the packet came from or goes to.
	Iface string `json:"iface,omitempty"`
	Peer  string `json:"peer,omitempty"`
	// Verdict is a rule step's verdict: accept, drop, jump DOCKER, ...
	Verdict string `json:"verdict,omitempty"`
}

// String is the step as trace prints it: "NODE: TEXT", and the end alone.
func (s Step) String() string {
	if s.Kind == StepEnd {
		return s.Text
	}
	return s.Node + ": " + s.Text
}

// End is how a walk ended.
type End string

// The ends of a walk.
const (
	EndDelivered End = "delivered" // to a listening socket (or an answered ping)
	EndRefused   End = "refused"   // delivered, but nothing listens: the kernel resets
	EndDropped   End = "dropped"   // a rule or a policy dropped it
	EndNoRoute   End = "no route"  // a namespace had no route for it
	EndLost      End = "lost"      // it left a namespace and no other saw it
	EndNone      End = "none"      // no packet was seen
)

// Walk is one packet's way through the lab.
type Walk struct {
	// Packet is the packet as its sender sent it.
	Packet Packet   `json:"-"`
	Steps  []Step   `json:"steps"`
	End    End      `json:"end"`
	Nodes  []string `json:"nodes"` // the namespaces passed, in order (Hop-1 indexes it)
}

// Lines are the walk's steps as text, one per line.
func (w *Walk) Lines() []string {
	out := make([]string, len(w.Steps))
	for i, s := range w.Steps {
		out[i] = s.String()
	}
	return out
}

// view is what the walk asks of a namespace's kernel after the trace.
type view interface {
	// route is the route to dst (see route), or an error.
	route(dst netip.Addr) (string, error)
	// listening says what listens on addr:port ("httpd listening"), or "".
	listening(proto uint8, addr netip.Addr, port uint16) string
	// forwards reports whether the namespace forwards a's family.
	forwards(a netip.Addr) bool
	// unanswered says that the neighbour a packet to dst by interface
	// oif went to does not answer ("203.0.113.99 does not answer ARP"),
	// or "".
	unanswered(dst netip.Addr, oif uint32) string
}

// nodeData is one namespace's share of a trace.
type nodeData struct {
	name   string
	events []Event
	ifaces ifaces
	book   *book
	view   view
}

// Where an event of the trace's own chains sits in a namespace.
type point int

const (
	ptNone        point = iota
	ptArrive            // inet pre: the packet entered
	ptBridgeIn          // bridge pre: it entered a bridge by a port
	ptOrigin            // inet out: a socket (or the kernel) sent it
	ptDeliver           // inet in: it is delivered locally
	ptLeave             // inet post: it leaves, after every rewrite
	ptBridgeLeave       // bridge post: it leaves a bridge by a port
)

// pointOf classifies an event of the trace's own tables; ptNone for the
// lab's own rules.
func pointOf(ev *Event) point {
	if !isOwnTable(ev.Table) {
		return ptNone
	}
	bridge := ev.Family == unix.NFPROTO_BRIDGE
	switch ev.Chain {
	case chainPre:
		if bridge {
			return ptBridgeIn
		}
		return ptArrive
	case chainOut:
		return ptOrigin
	case chainIn:
		return ptDeliver
	case chainPost:
		if bridge {
			return ptBridgeLeave
		}
		return ptLeave
	}
	return ptNone
}

// hookOf is the hook of each event of a namespace's stream: a base
// chain's own, and for a regular chain, that of the base chain that
// jumped to it (the last base chain of the same event ID).
func hookOf(nd *nodeData) []int {
	hooks := make([]int, len(nd.events))
	cur := map[uint32]int{}
	for i := range nd.events {
		ev := &nd.events[i]
		h := -1
		switch pointOf(ev) {
		case ptArrive, ptBridgeIn:
			h = unix.NF_INET_PRE_ROUTING
		case ptOrigin:
			h = unix.NF_INET_LOCAL_OUT
		case ptDeliver:
			h = unix.NF_INET_LOCAL_IN
		case ptLeave, ptBridgeLeave:
			h = unix.NF_INET_POST_ROUTING
		default:
			if nd.book != nil {
				h = nd.book.hook(chainKey{ev.Family, ev.Table, ev.Chain})
			}
			if h < 0 {
				h = cur[ev.ID]
			}
		}
		cur[ev.ID] = h
		hooks[i] = h
	}
	return hooks
}

// visit is one pass of the packet through one namespace.
type visit struct {
	node  *nodeData
	idx   []int // the pass's events, as indexes into node.events
	hooks []int // their hooks
	order int   // position among the namespace's passes
	used  bool
}

func (v *visit) ev(i int) *Event { return &v.node.events[v.idx[i]] }

func (v *visit) first() *Event { return v.ev(0) }

func (v *visit) has(p point) bool {
	for i := range v.idx {
		if pointOf(v.ev(i)) == p {
			return true
		}
	}
	return false
}

// origin: the pass starts where the packet was made.
func (v *visit) origin() bool { return pointOf(v.first()) == ptOrigin }

// arrival is the interface the packet entered by (a bridge port when a
// bridge took it first) and the link-layer source it came from.
func (v *visit) arrival() (uint32, string) {
	ev := v.first()
	return ev.IIF, ev.Packet.SrcMAC
}

// leave returns the interface the packet left by at layer 3 (0 if none)
// and the bridge ports it left by (none if it did not cross a bridge).
func (v *visit) leave() (l3 uint32, ports []uint32) {
	for i := range v.idx {
		ev := v.ev(i)
		if ev.OIF == 0 {
			continue // the chain's later events: the kernel names the interfaces once
		}
		switch pointOf(ev) {
		case ptLeave:
			l3 = ev.OIF
		case ptBridgeLeave:
			ports = append(ports, ev.OIF)
		}
	}
	return l3, ports
}

// dropped returns the event that dropped the packet, or nil.
func (v *visit) dropped() *Event {
	for i := range v.idx {
		ev := v.ev(i)
		if pointOf(ev) == ptNone && ev.Verdict.Drops() && (ev.Kind == KindRule || ev.Kind == KindPolicy) {
			return ev
		}
	}
	return nil
}

// samePacket reports whether two observations are of the same packet:
// the same protocol and what NAT leaves alone (TCP's flags and sequence
// numbers, an echo's identifier and sequence, IPv4's identification).
func samePacket(a, b Packet) bool {
	if a.Proto != b.Proto || a.Src.Is4() != b.Src.Is4() {
		return false
	}
	if a.Src.Is4() && a.IPID != b.IPID {
		return false
	}
	switch a.Proto {
	case unix.IPPROTO_TCP:
		return a.Flags == b.Flags && a.Seq == b.Seq && a.Ack == b.Ack
	case unix.IPPROTO_ICMP, unix.IPPROTO_ICMPV6:
		return a.ICMPType == b.ICMPType && a.EchoID == b.EchoID && a.EchoSeq == b.EchoSeq
	}
	return true
}

// isReply reports whether p answers the first packet sent: a SYN-ACK or
// a reset acknowledging its SYN, or the echo reply to its request.
func isReply(sent, p Packet) bool {
	switch sent.Proto {
	case unix.IPPROTO_TCP:
		return p.Proto == unix.IPPROTO_TCP && p.Ack == sent.Seq+1 && p.Flags&(tcpSYN|tcpRST) != 0 && p.Flags&tcpACK != 0
	case unix.IPPROTO_ICMP:
		return p.Proto == sent.Proto && p.ICMPType == 0 && p.EchoID == sent.EchoID && p.EchoSeq == sent.EchoSeq
	case unix.IPPROTO_ICMPV6:
		return p.Proto == sent.Proto && p.ICMPType == 129 && p.EchoID == sent.EchoID && p.EchoSeq == sent.EchoSeq
	}
	return p.Proto == sent.Proto && p.DPort == sent.SPort && p.Src != sent.Src
}

// inheritPackets gives every event the headers of the last dumped event of
// its ID, as the kernel sends them once per base chain.
func inheritPackets(events []Event) {
	last := map[uint32]Packet{}
	for i := range events {
		ev := &events[i]
		if ev.Dumped {
			last[ev.ID] = ev.Packet
		} else if p, ok := last[ev.ID]; ok {
			ev.Packet = p
		}
	}
}

// visits cuts a namespace's events of packet p into passes: a pass starts
// where the packet enters or is sent, after the previous pass let it go
// (it left, was delivered or dropped).
func visits(nd *nodeData, p Packet) []*visit {
	hooks := hookOf(nd)
	var out []*visit
	var cur *visit
	done := false
	for i := range nd.events {
		ev := &nd.events[i]
		if !ev.Packet.Valid() || !samePacket(ev.Packet, p) {
			continue
		}
		pt := pointOf(ev)
		if cur == nil || (done && (pt == ptArrive || pt == ptBridgeIn || pt == ptOrigin)) {
			cur = &visit{node: nd, order: len(out)}
			out = append(out, cur)
			done = false
		}
		cur.idx = append(cur.idx, i)
		cur.hooks = append(cur.hooks, hooks[i])
		if pt == ptLeave || pt == ptBridgeLeave || pt == ptDeliver || (pt == ptNone && ev.Verdict.Drops()) {
			done = true
		}
	}
	return out
}

// chain orders the passes into the packet's way: from start, each next
// pass is the one that the previous one's way out leads to.
func chain(all map[*nodeData][]*visit, nodes []*nodeData, start *visit) []*visit {
	way := []*visit{start}
	start.used = true
	for cur := start; ; {
		next := nextVisit(all, nodes, cur)
		if next == nil {
			return way
		}
		next.used = true
		way = append(way, next)
		cur = next
	}
}

// nextVisit finds the pass that follows cur: one that entered by the
// other end of the veth cur left by (or by lo, for a packet that cur sent
// to itself), else one whose link-layer source is the interface cur sent
// it from (across a bridge the trace does not watch, such as the lab's
// LAN switch).
func nextVisit(all map[*nodeData][]*visit, nodes []*nodeData, cur *visit) *visit {
	l3, ports := cur.leave()
	outs := ports
	if len(outs) == 0 && l3 != 0 {
		outs = []uint32{l3}
	}
	if len(outs) == 0 {
		return nil
	}
	is := cur.node.ifaces
	for _, o := range outs {
		out, ok := is[int(o)]
		if !ok {
			continue
		}
		for _, nd := range nodes {
			for _, w := range all[nd] {
				if w.used || w.origin() {
					continue
				}
				in, _ := w.arrival()
				a, ok := nd.ifaces[int(in)]
				if !ok {
					continue
				}
				loop := nd == cur.node && out.Name == "lo" && a.Name == "lo" && w.order > cur.order
				peer := out.Kind == "veth" && a.Kind == "veth" && out.Peer == a.Index && a.Peer == out.Index
				if loop || peer {
					return w
				}
			}
		}
	}
	macs := map[string]bool{}
	if i, ok := is[int(l3)]; ok && i.MAC != "" {
		macs[i.MAC] = true
	}
	if _, mac := cur.arrival(); mac != "" && !cur.origin() {
		macs[mac] = true
	}
	for _, nd := range nodes {
		for _, w := range all[nd] {
			if w.used || w.origin() || nd == cur.node {
				continue
			}
			if _, mac := w.arrival(); macs[mac] {
				return w
			}
		}
	}
	return nil
}

// errNoRoute is how a view says there is no route.
var errNoRoute = errors.New("no route")

// isNATText reports whether a rule's text rewrites addresses.
func isNATText(s string) bool {
	for _, w := range []string{"DNAT", "SNAT", "MASQUERADE", "dnat ", "snat ", "masquerade"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
