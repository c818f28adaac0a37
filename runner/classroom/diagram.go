package classroom

import (
	"fmt"
	"html"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Mermaid draws the topology as a Mermaid flowchart: a subgraph per node
// with its interfaces and addresses, a line per veth pair, a dotted line
// from each bridge port to its bridge, and a thick arrow from the host to
// each container for its published ports.
func Mermaid(t *Topology) string {
	var b strings.Builder
	b.WriteString("flowchart TB\n")
	if t.Lab != "" {
		fmt.Fprintf(&b, "  %%%% lab %s\n", t.Lab)
	}
	for _, n := range t.Nodes {
		if n.Shares != "" {
			fmt.Fprintf(&b, "  %s[\"%s<br/>(shares the network of %s)\"]\n", mid(n.Name), mlabel(nodeTitle(n)), mlabel(n.Shares))
			continue
		}
		fmt.Fprintf(&b, "  subgraph %s[\"%s\"]\n", mid(n.Name), mlabel(nodeTitle(n)))
		if len(n.Ifaces) == 0 {
			fmt.Fprintf(&b, "    %s[\"lo only\"]\n", mid(n.Name, "lo"))
		}
		for _, i := range n.Ifaces {
			label := i.Name
			if i.Kind == "bridge" {
				label += " (bridge)"
			}
			if !i.Up {
				label += " (down)"
			}
			for _, a := range i.Addrs {
				label += "<br/>" + a
			}
			shape := "[\"%s\"]"
			if i.Kind == "bridge" {
				shape = "[[\"%s\"]]"
			}
			fmt.Fprintf(&b, "    %s"+shape+"\n", mid(n.Name, i.Name), mlabel(label))
		}
		b.WriteString("  end\n")
	}
	for _, l := range t.Links {
		fmt.Fprintf(&b, "  %s ---|veth| %s\n", mid(l.A.Node, l.A.Iface), mid(l.B.Node, l.B.Iface))
	}
	for _, n := range t.Nodes {
		for _, i := range n.Ifaces {
			if i.Master != "" {
				fmt.Fprintf(&b, "  %s -.- %s\n", mid(n.Name, i.Name), mid(n.Name, i.Master))
			}
		}
		if n.Shares != "" {
			fmt.Fprintf(&b, "  %s -.-|shares| %s\n", mid(n.Name), mid(n.Shares))
		}
	}
	for _, group := range portsByContainer(t) {
		var labels []string
		for _, p := range group {
			labels = append(labels, p.String())
		}
		fmt.Fprintf(&b, "  %s ==>|\"%s\"| %s\n", mid("host"), mlabel(strings.Join(labels, ", ")), mid(group[0].Container))
	}
	return b.String()
}

func portsByContainer(t *Topology) [][]TPort {
	m := map[string][]TPort{}
	var names []string
	for _, p := range t.Ports {
		if _, ok := m[p.Container]; !ok {
			names = append(names, p.Container)
		}
		m[p.Container] = append(m[p.Container], p)
	}
	sort.Strings(names)
	var out [][]TPort
	for _, n := range names {
		out = append(out, m[n])
	}
	return out
}

func nodeTitle(n TNode) string {
	switch n.Kind {
	case "container":
		return "container " + n.Name
	case "switch":
		return "LAN switch"
	}
	return n.Name
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9_]`)

// mid is a Mermaid ID for a node or a node's interface.
func mid(parts ...string) string {
	for i, p := range parts {
		parts[i] = unsafeID.ReplaceAllString(p, "_")
	}
	return "n_" + strings.Join(parts, "__")
}

// mlabel escapes a Mermaid label (in double quotes).
func mlabel(s string) string { return strings.ReplaceAll(s, `"`, "#quot;") }

// SVG layout constants: a monospace font of 12px, about 7.2px a character.
const (
	svgFont     = 12
	svgCharW    = 7.2
	svgRowH     = 18
	svgTitleH   = 24
	svgPad      = 10
	svgGapX     = 70
	svgGapY     = 80
	svgMargin   = 30
	svgMinBoxW  = 120
	svgPortRowK = "port"
)

// svgBox is a node laid out.
type svgBox struct {
	n      TNode
	rows   []svgRow
	x, y   float64
	w, h   float64
	tier   int
	fill   string
	stroke string
}

type svgRow struct {
	iface string // "" for a row that is not an interface
	text  string
	kind  string
}

// SVG draws the topology as a standalone SVG picture: the nodes in tiers
// (the internet at the top, then the gateway, the LAN, the client and the
// host, then the containers), each a box listing its interfaces and
// addresses, veth pairs as curves between interfaces, and the published
// ports on the containers they lead to. It is hand-written: no layout
// engine, no fonts to install.
func SVG(t *Topology) string {
	boxes := layout(t)
	var w, h float64
	for _, b := range boxes {
		w = max(w, b.x+b.w)
		h = max(h, b.y+b.h)
	}
	w += svgMargin
	h += svgMargin
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="monospace" font-size="%d">`+"\n", w, h, w, h, svgFont)
	title := "labrun topology"
	if t.Lab != "" {
		title += ": " + t.Lab
	}
	fmt.Fprintf(&s, "<title>%s</title>\n", html.EscapeString(title))
	s.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	byName := map[string]*svgBox{}
	for _, b := range boxes {
		byName[b.n.Name] = b
	}
	// Links under the boxes.
	s.WriteString(`<g fill="none" stroke="#555" stroke-width="1.5">` + "\n")
	for _, l := range t.Links {
		a, b := byName[l.A.Node], byName[l.B.Node]
		if a == nil || b == nil {
			continue
		}
		x1, y1, x2, y2 := linkEnds(a, l.A.Iface, b, l.B.Iface)
		dx := 60.0
		if x2 < x1 {
			dx = -dx
		}
		if a == b {
			dx = 40
		}
		fmt.Fprintf(&s, `<path d="M %.1f %.1f C %.1f %.1f, %.1f %.1f, %.1f %.1f"><title>veth %s:%s - %s:%s</title></path>`+"\n",
			x1, y1, x1+dx, y1, x2-dx, y2, x2, y2, html.EscapeString(l.A.Node), html.EscapeString(l.A.Iface), html.EscapeString(l.B.Node), html.EscapeString(l.B.Iface))
	}
	for _, b := range boxes {
		if b.n.Shares == "" {
			continue
		}
		if to := byName[b.n.Shares]; to != nil {
			fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke-dasharray="5,4"/>`+"\n", b.x+b.w/2, b.y, to.x+to.w/2, to.y+to.h)
		}
	}
	s.WriteString("</g>\n")
	for _, b := range boxes {
		fmt.Fprintf(&s, `<g><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6" fill="%s" stroke="%s" stroke-width="1.5"/>`+"\n", b.x, b.y, b.w, b.h, b.fill, b.stroke)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-weight="bold">%s</text>`+"\n", b.x+svgPad, b.y+17, html.EscapeString(nodeTitle(b.n)))
		for i, r := range b.rows {
			y := b.y + svgTitleH + float64(i)*svgRowH + 13
			attr := ""
			switch r.kind {
			case "bridge":
				attr = ` font-weight="bold" fill="#1a4d8f"`
			case svgPortRowK:
				attr = ` fill="#8a3b00"`
			case "note":
				attr = ` fill="#666" font-style="italic"`
			}
			fmt.Fprintf(&s, `<text x="%.1f" y="%.1f"%s>%s</text>`+"\n", b.x+svgPad, y, attr, html.EscapeString(r.text))
		}
		s.WriteString("</g>\n")
	}
	s.WriteString("</svg>\n")
	return s.String()
}

// linkEnds picks where a link leaves and enters its two boxes: the sides of
// the interfaces' rows that face each other.
func linkEnds(a *svgBox, ai string, b *svgBox, bi string) (x1, y1, x2, y2 float64) {
	y1 = rowY(a, ai)
	y2 = rowY(b, bi)
	switch {
	case a == b:
		return a.x + a.w, y1, a.x + a.w, y2
	case a.x+a.w/2 <= b.x+b.w/2:
		return a.x + a.w, y1, b.x, y2
	}
	return a.x, y1, b.x + b.w, y2
}

func rowY(b *svgBox, iface string) float64 {
	for i, r := range b.rows {
		if r.iface == iface {
			return b.y + svgTitleH + float64(i)*svgRowH + 9
		}
	}
	return b.y + b.h/2
}

// layout places the boxes in tiers: the distance (in veth hops) from the
// internet node, so that the world reads top-down from the internet to the
// containers; nodes that share another's namespace go one tier below it,
// and unconnected nodes at the bottom.
func layout(t *Topology) []*svgBox {
	var boxes []*svgBox
	byName := map[string]*svgBox{}
	ports := map[string][]TPort{}
	for _, p := range t.Ports {
		ports[p.Container] = append(ports[p.Container], p)
	}
	for _, n := range t.Nodes {
		b := &svgBox{n: n, tier: -1, fill: "#e8f1fb", stroke: "#4a78b5"}
		switch n.Kind {
		case "container":
			b.fill, b.stroke = "#eaf7e8", "#4f9a45"
		case "switch":
			b.fill, b.stroke = "#f0f0f0", "#888"
		}
		for _, i := range n.Ifaces {
			text := i.Name
			if i.Kind == "bridge" {
				text += " [bridge]"
			} else if i.Kind != "veth" && i.Kind != "" {
				text += " [" + i.Kind + "]"
			}
			if len(i.Addrs) > 0 {
				text += "  " + strings.Join(i.Addrs, ", ")
			}
			if i.Master != "" {
				text += "  → " + i.Master
			}
			if !i.Up {
				text += "  (down)"
			}
			b.rows = append(b.rows, svgRow{iface: i.Name, text: text, kind: i.Kind})
		}
		if n.Shares != "" {
			b.rows = append(b.rows, svgRow{text: "shares the network of " + n.Shares, kind: "note"})
		} else if len(n.Ifaces) == 0 {
			b.rows = append(b.rows, svgRow{text: "lo only (no network)", kind: "note"})
		}
		for _, p := range ports[n.Name] {
			b.rows = append(b.rows, svgRow{text: "published " + p.String(), kind: svgPortRowK})
		}
		b.w = float64(utf8.RuneCountInString(nodeTitle(n)))*svgCharW + 2*svgPad
		for _, r := range b.rows {
			b.w = max(b.w, float64(utf8.RuneCountInString(r.text))*svgCharW+2*svgPad)
		}
		b.w = max(b.w, svgMinBoxW)
		b.h = svgTitleH + float64(len(b.rows))*svgRowH + 6
		boxes = append(boxes, b)
		byName[n.Name] = b
	}
	// Tiers by breadth-first search over the links.
	adj := map[string][]string{}
	for _, l := range t.Links {
		adj[l.A.Node] = append(adj[l.A.Node], l.B.Node)
		adj[l.B.Node] = append(adj[l.B.Node], l.A.Node)
	}
	root := "internet"
	if byName[root] == nil && len(boxes) > 0 {
		root = boxes[0].n.Name
	}
	if b := byName[root]; b != nil {
		b.tier = 0
		queue := []string{root}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, nb := range adj[cur] {
				if x := byName[nb]; x != nil && x.tier < 0 {
					x.tier = byName[cur].tier + 1
					queue = append(queue, nb)
				}
			}
		}
	}
	maxTier := 0
	for _, b := range boxes {
		if b.n.Shares != "" {
			if to := byName[b.n.Shares]; to != nil && to.tier >= 0 {
				b.tier = to.tier + 1
			}
		}
		maxTier = max(maxTier, b.tier)
	}
	for _, b := range boxes {
		if b.tier < 0 {
			b.tier = maxTier + 1
		}
	}
	tiers := map[int][]*svgBox{}
	var order []int
	for _, b := range boxes {
		if _, ok := tiers[b.tier]; !ok {
			order = append(order, b.tier)
		}
		tiers[b.tier] = append(tiers[b.tier], b)
	}
	sort.Ints(order)
	var widest float64
	for _, k := range order {
		row := tiers[k]
		sort.SliceStable(row, func(i, j int) bool { return row[i].n.Name < row[j].n.Name })
		var w float64
		for _, b := range row {
			w += b.w
		}
		w += float64(len(row)-1) * svgGapX
		widest = max(widest, w)
	}
	y := float64(svgMargin)
	for _, k := range order {
		row := tiers[k]
		var w, h float64
		for _, b := range row {
			w += b.w
			h = max(h, b.h)
		}
		w += float64(len(row)-1) * svgGapX
		x := svgMargin + (widest-w)/2
		for _, b := range row {
			b.x, b.y = x, y
			x += b.w + svgGapX
		}
		y += h + svgGapY
	}
	return boxes
}
