package topology

import (
	"fmt"
	"html"
	"strings"
	"unicode/utf8"

	"github.com/labrun/labrun/checks/trace"
)

// TWalk is a traced packet's way (labrun diagram -trace), drawn over the
// topology: the namespaces it passed, numbered, with what each did to it
// on the arrow to the next, and how it ended.
type TWalk struct {
	// Title is the trace's first line: the connection and how it went.
	Title string  `json:"title"`
	Hops  []THop  `json:"hops"`
	End   string  `json:"end"`
	Reply []THop  `json:"reply,omitempty"`
	kind  endKind // how it ended, for the colour
}

// THop is one namespace of the way.
type THop struct {
	N    int    `json:"n"`
	Node string `json:"node"`
	// In and Out are the interfaces the packet entered and left by.
	In  string `json:"in,omitempty"`
	Out string `json:"out,omitempty"`
	// Notes are the rewrites made there.
	Notes []string `json:"notes,omitempty"`
}

type endKind int

const (
	endOK endKind = iota
	endFailed
)

// SetWalk puts a trace's walk (and its reply's, if any) on the topology.
func (t *Topology) SetWalk(r trace.Record) {
	w := &TWalk{Title: "trace " + r.From + " -> " + r.Target}
	switch {
	case r.Failure != "":
		w.Title += ": " + r.Failure
	case r.Answer != "":
		w.Title += ": " + r.Answer
	}
	if r.Walk != nil {
		w.Hops, w.End = hops(r.Walk)
		if r.Walk.End != trace.EndDelivered {
			w.kind = endFailed
		}
	}
	if r.Reply != nil {
		w.Reply, _ = hops(r.Reply)
	}
	t.Walk = w
}

// hops reads a walk's steps into its hops and its end.
func hops(w *trace.Walk) ([]THop, string) {
	var out []THop
	end := ""
	for _, s := range w.Steps {
		if s.Kind == trace.StepEnd {
			end = s.Text
			continue
		}
		if len(out) == 0 || out[len(out)-1].N != s.Hop {
			out = append(out, THop{N: s.Hop, Node: s.Node})
		}
		h := &out[len(out)-1]
		switch s.Kind {
		case trace.StepArrive:
			h.In = s.Iface
		case trace.StepLeave:
			h.Out = s.Iface
		case trace.StepRewrite:
			h.Notes = append(h.Notes, s.Text)
		}
	}
	return out, end
}

// walkMermaid draws the walk as numbered arrows between the namespaces'
// subgraphs, labelled with what each did to the packet, the namespaces it
// passed outlined, and its end as a note.
func walkMermaid(t *Topology) string {
	if t.Walk == nil {
		return ""
	}
	var b strings.Builder
	w := t.Walk
	fmt.Fprintf(&b, "  %%%% %s\n", w.Title)
	arrows := func(hs []THop, prefix string) {
		for i := 0; i+1 < len(hs); i++ {
			label := fmt.Sprintf("%s%d: %s", prefix, hs[i].N, strings.Join(append([]string{hs[i].Out}, hs[i].Notes...), "; "))
			fmt.Fprintf(&b, "  %s -->|\"%s\"| %s\n", mid(hs[i].Node), mlabel(label), mid(hs[i+1].Node))
		}
	}
	arrows(w.Hops, "")
	arrows(w.Reply, "reply ")
	seen := map[string]bool{}
	for _, h := range w.Hops {
		if !seen[h.Node] {
			seen[h.Node] = true
			fmt.Fprintf(&b, "  style %s stroke:#c60,stroke-width:3px\n", mid(h.Node))
		}
	}
	if len(w.Hops) > 0 && w.End != "" {
		last := w.Hops[len(w.Hops)-1]
		fmt.Fprintf(&b, "  %s[\"%d: %s\"]\n", mid("trace", "end"), last.N, mlabel(w.End))
		fmt.Fprintf(&b, "  %s -.-> %s\n", mid(last.Node), mid("trace", "end"))
		colour := "#e8f7e4,stroke:#4f9a45"
		if w.kind == endFailed {
			colour = "#fde8e8,stroke:#d00"
		}
		fmt.Fprintf(&b, "  style %s fill:%s\n", mid("trace", "end"), colour)
	}
	return b.String()
}

// walkSVGSize is the room the walk's legend takes under the picture.
func walkSVGSize(t *Topology) (w, h float64) {
	if t.Walk == nil {
		return 0, 0
	}
	lines := []string{t.Walk.Title, t.Walk.End}
	for _, hop := range t.Walk.Hops {
		lines = append(lines, hopText(hop))
	}
	for _, l := range lines {
		w = max(w, float64(utf8.RuneCountInString(l))*svgCharW+2*svgMargin)
	}
	return w, float64(len(lines)) * svgRowH
}

// walkSVG draws the walk over the boxes: an orange arrow from each
// namespace to the next with its hop number, and under the picture a
// legend, a line a hop (what it did to the packet) and the end.
func walkSVG(t *Topology, byName map[string]*svgBox, top float64) string {
	if t.Walk == nil {
		return ""
	}
	w := t.Walk
	var s strings.Builder
	s.WriteString(`<defs><marker id="trace-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#c60"/></marker></defs>` + "\n")
	s.WriteString(`<g stroke="#c60" stroke-width="2.5" fill="none">` + "\n")
	var nums []string
	for i := 0; i+1 < len(w.Hops); i++ {
		a, b := byName[w.Hops[i].Node], byName[w.Hops[i+1].Node]
		if a == nil || b == nil || a == b {
			continue
		}
		x1, y1 := a.x+a.w/2, a.y+a.h/2
		x2, y2 := b.x+b.w/2, b.y+b.h/2
		// Stop at the edge of the boxes, so that the arrow heads show.
		x1, y1 = edge(a, x1, y1, x2, y2)
		x2, y2 = edge(b, x2, y2, x1, y1)
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" marker-end="url(#trace-arrow)"><title>%s</title></line>`+"\n",
			x1, y1, x2, y2, html.EscapeString(hopText(w.Hops[i])))
		nums = append(nums, fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="9" fill="#c60"/><text x="%.1f" y="%.1f" text-anchor="middle" fill="white" font-weight="bold">%d</text>`,
			(x1+x2)/2, (y1+y2)/2, (x1+x2)/2, (y1+y2)/2+4, w.Hops[i].N))
	}
	s.WriteString("</g>\n")
	if len(nums) > 0 {
		s.WriteString(`<g stroke="none">` + "\n" + strings.Join(nums, "\n") + "\n</g>\n")
	}
	y := top + svgRowH
	fmt.Fprintf(&s, `<text x="%d" y="%.1f" font-weight="bold" fill="#c60">%s</text>`+"\n", svgMargin, y, html.EscapeString(w.Title))
	for _, h := range w.Hops {
		y += svgRowH
		fmt.Fprintf(&s, `<text x="%d" y="%.1f">%s</text>`+"\n", svgMargin, y, html.EscapeString(hopText(h)))
	}
	y += svgRowH
	fill := "#2e7d32"
	if w.kind == endFailed {
		fill = "#d00"
	}
	fmt.Fprintf(&s, `<text x="%d" y="%.1f" font-weight="bold" fill="%s">%s</text>`+"\n", svgMargin, y, fill, html.EscapeString(w.End))
	return s.String()
}

// hopText is a hop in the legend: "2 host: in eth0, out docker0; DNAT ...".
func hopText(h THop) string {
	s := fmt.Sprintf("%d %s:", h.N, h.Node)
	var parts []string
	if h.In != "" {
		parts = append(parts, "in "+h.In)
	}
	if h.Out != "" {
		parts = append(parts, "out "+h.Out)
	}
	parts = append(parts, h.Notes...)
	return s + " " + strings.Join(parts, "; ")
}

// edge moves (x, y), the centre of box b, along the line to (tx, ty) to
// where it leaves the box.
func edge(b *svgBox, x, y, tx, ty float64) (float64, float64) {
	dx, dy := tx-x, ty-y
	if dx == 0 && dy == 0 {
		return x, y
	}
	k := 1.0
	if dx != 0 {
		k = min(k, (b.w/2)/abs(dx))
	}
	if dy != 0 {
		k = min(k, (b.h/2)/abs(dy))
	}
	return x + dx*k, y + dy*k
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
