package trace

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// walkInput is what writeWalk needs besides the passes.
type walkInput struct {
	// reply: the walk is the answer's, whose rewrites conntrack makes.
	reply bool
	// refused: the connection was refused (a reset came back).
	refused bool
	// from is the node that made the connection; noSend is why its socket
	// sent nothing (connect failed at once), or nil.
	from   string
	noSend error
}

// writeWalk writes the passes of a packet's way as steps, and how it ended.
func writeWalk(way []*visit, in walkInput) *Walk {
	w := &Walk{}
	if len(way) == 0 {
		w.End = EndNone
		text := "no packet was seen"
		if in.noSend != nil {
			text = fmt.Sprintf("no packet left %s: %v", in.from, in.noSend)
			if errors.Is(in.noSend, unix.ENETUNREACH) || errors.Is(in.noSend, unix.EHOSTUNREACH) {
				w.End, text = EndNoRoute, fmt.Sprintf("no route (%s: %v)", in.from, in.noSend)
			}
		}
		w.Steps = append(w.Steps, Step{Kind: StepEnd, Text: text})
		return w
	}
	w.Packet = way[0].first().Packet
	for i, v := range way {
		hop := i + 1
		name := v.node.name
		w.Nodes = append(w.Nodes, name)
		add := func(s Step) {
			s.Hop, s.Node = hop, name
			w.Steps = append(w.Steps, s)
		}
		is := v.node.ifaces
		cur := v.first().Packet
		if v.origin() {
			add(Step{Kind: StepSend, Text: "sends " + cur.Describe()})
		} else {
			in, _ := v.arrival()
			s := Step{Kind: StepArrive, Iface: is.name(in)}
			s.Text = "arrives on " + portName(is, in, pointOf(v.first()) == ptBridgeIn)
			if i > 0 {
				s.Peer = way[i-1].node.name
				s.Text += " from " + s.Peer
			}
			add(s)
		}
		bridged := v.bridgedOnly()
		routed := false
		natRule := false
		for j := range v.idx {
			ev := v.ev(j)
			// A destination is rewritten before the route is chosen
			// (prerouting, output), a source after (postrouting, input).
			seen := cur
			if ev.Dumped && ev.Packet.Valid() {
				seen = ev.Packet
			}
			dnat, snat := seen, seen
			dnat.Src, dnat.SPort = cur.Src, cur.SPort
			for _, t := range rewrites(cur, dnat, in.reply || !natRule) {
				add(Step{Kind: StepRewrite, Text: t})
			}
			switch v.hooks[j] {
			case unix.NF_INET_FORWARD, unix.NF_INET_POST_ROUTING, unix.NF_INET_LOCAL_IN:
				if !routed && !bridged {
					routed = true
					if r, err := v.node.view.route(dnat.Dst); err == nil {
						add(Step{Kind: StepRoute, Text: "route " + r})
					} else {
						add(Step{Kind: StepRoute, Text: "no route to " + dnat.Dst.String()})
					}
				}
			}
			for _, t := range rewrites(dnat, snat, in.reply || !natRule) {
				add(Step{Kind: StepRewrite, Text: t})
			}
			cur = seen
			if pointOf(ev) != ptNone {
				continue
			}
			if ev.Kind == KindRule && ev.Handle == 0 {
				continue // the end of a chain's rules: its policy or return follows
			}
			text := ruleText(v.node, ev)
			natRule = natRule || isNATText(text)
			if ev.Kind != KindPolicy {
				text += " => " + ev.Verdict.String()
			}
			add(Step{Kind: StepRule, Text: tableName(ev.Family, ev.Table) + " " + ev.Chain + ": " + text, Verdict: ev.Verdict.String()})
		}
		var next *visit
		if i+1 < len(way) {
			next = way[i+1]
		}
		if v.dropped() == nil {
			if l3, ports := v.leave(); l3 != 0 || len(ports) > 0 {
				s := Step{Kind: StepLeave}
				out := l3
				if len(ports) > 0 {
					out = ports[0]
					if next != nil {
						in, _ := next.arrival()
						out = pickPort(v, ports, next, in)
					}
				}
				s.Iface = is.name(out)
				s.Text = "leaves by " + portName(is, out, len(ports) > 0)
				if next != nil {
					s.Peer = next.node.name
					s.Text += " to " + s.Peer
				}
				add(s)
			}
		}
		if next == nil {
			end, text := ending(v, cur, in)
			w.End = end
			w.Steps = append(w.Steps, Step{Hop: hop, Node: name, Kind: StepEnd, Text: text})
		}
	}
	return w
}

// pickPort is the bridge port among ports that leads to next (the one
// whose veth peer next entered by), else the first.
func pickPort(v *visit, ports []uint32, next *visit, in uint32) uint32 {
	a, ok := next.node.ifaces[int(in)]
	for _, p := range ports {
		o, found := v.node.ifaces[int(p)]
		if ok && found && o.Peer == a.Index && a.Peer == o.Index {
			return p
		}
	}
	return ports[0]
}

// portName names an interface: "eth0", or for a bridge port "docker0 port
// veth1a2b3c".
func portName(is ifaces, index uint32, port bool) string {
	i, ok := is[int(index)]
	if !ok {
		return is.name(index)
	}
	if port && i.Master != 0 {
		return is.name(uint32(i.Master)) + " port " + i.Name
	}
	return i.Name
}

// bridgedOnly reports whether the pass only bridged the packet from port to
// port, choosing no route: it entered by a bridge port in a frame that was
// not addressed to the bridge itself (br_netfilter may still have shown it
// to the layer-3 chains).
func (v *visit) bridgedOnly() bool {
	first := v.first()
	if pointOf(first) != ptBridgeIn {
		return false
	}
	port, ok := v.node.ifaces[int(first.IIF)]
	if !ok {
		return false
	}
	br, ok := v.node.ifaces[port.Master]
	return ok && first.Packet.DstMAC != "" && first.Packet.DstMAC != br.MAC
}

// rewrites are the NAT steps between two observations of a packet:
// "DNAT 192.168.190.128:801 -> 172.17.0.2:80", "SNAT 172.17.0.2 ->
// 192.168.190.128" (ports only when they changed); conntrack marks the
// rewrites that no rule made (an answer's, undoing the connection's NAT).
func rewrites(from, to Packet, conntrack bool) []string {
	var out []string
	suffix := ""
	if conntrack {
		suffix = " (conntrack)"
	}
	if from.Dst != to.Dst || from.DPort != to.DPort {
		out = append(out, "DNAT "+from.DstEnd()+" -> "+to.DstEnd()+suffix)
	}
	if from.Src != to.Src || from.SPort != to.SPort {
		a, b := from.Src.String(), to.Src.String()
		if from.SPort != to.SPort {
			a, b = from.SrcEnd(), to.SrcEnd()
		}
		out = append(out, "SNAT "+a+" -> "+b+suffix)
	}
	return out
}

// ruleText is a rule step's text: the rule as the back end writes it, a
// chain's policy, or a regular chain's end.
func ruleText(nd *nodeData, ev *Event) string {
	k := chainKey{ev.Family, ev.Table, ev.Chain}
	switch ev.Kind {
	case KindPolicy:
		return policyText(ev.Family, ev.Table, ev.Chain, ev.Verdict)
	case KindReturn:
		return "end of chain"
	}
	if nd.book != nil {
		if t := nd.book.rule(k, ev.Handle); t != "" {
			return t
		}
	}
	return fmt.Sprintf("rule handle %d", ev.Handle)
}

// ending says how the way ended in its last pass v, where the packet was
// last seen as p.
func ending(v *visit, p Packet, in walkInput) (End, string) {
	name := v.node.name
	if ev := v.dropped(); ev != nil {
		text := ruleText(v.node, ev)
		verb := "dropped"
		if strings.Contains(text, "REJECT") || strings.Contains(text, "reject") {
			verb = "rejected"
		}
		return EndDropped, verb + " by " + name + " " + tableName(ev.Family, ev.Table) + " " + ev.Chain + ": " + text
	}
	if v.has(ptDeliver) {
		switch {
		case in.reply:
			return EndDelivered, "delivered to " + name + " (" + p.DstEnd() + ")"
		case p.Proto == unix.IPPROTO_TCP:
			if l := v.node.view.listening(p.Proto, p.Dst, p.DPort); l != "" && !in.refused {
				return EndDelivered, "delivered to " + name + " (" + p.DstEnd() + ", " + l + ")"
			}
			return EndRefused, "refused (RST from " + name + " " + p.DstEnd() + ", nothing listening)"
		}
		return EndDelivered, "delivered to " + name + " (" + p.DstEnd() + ")"
	}
	if l3, ports := v.leave(); l3 != 0 || len(ports) > 0 {
		out := l3
		if len(ports) > 0 {
			out = ports[0]
		}
		why := "no namespace of the lab saw it again"
		if u := v.node.view.unanswered(p.Dst, l3); l3 != 0 && u != "" {
			why = u
		}
		return EndLost, "lost after leaving " + name + " by " + portName(v.node.ifaces, out, len(ports) > 0) + ": " + why
	}
	if _, err := v.node.view.route(p.Dst); err != nil {
		return EndNoRoute, "no route (" + name + " has no route to " + p.Dst.String() + ")"
	}
	if !v.origin() && !v.node.view.forwards(p.Dst) {
		return EndDropped, "not forwarded by " + name + " (forwarding is off)"
	}
	return EndLost, "lost in " + name + " after its last chain"
}
