package topology

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
	// Containers are grouped by the network they are plugged into,
	// each network a subgraph of its own.
	node := func(n TNode) {
		if n.Shares != "" {
			fmt.Fprintf(&b, "  %s[\"%s<br/>(shares the network of %s)\"]\n", mid(n.Name), mlabel(nodeTitle(n)), mlabel(n.Shares))
			return
		}
		fmt.Fprintf(&b, "  subgraph %s[\"%s\"]\n", mid(n.Name), mlabel(nodeTitle(n)))
		if len(n.Ifaces) == 0 {
			fmt.Fprintf(&b, "    %s[\"lo only\"]\n", mid(n.Name, "lo"))
		}
		for _, i := range n.Ifaces {
			label := i.Name
			if i.Kind == "bridge" {
				label = bridgeTitle(t, n, i.Name, " (bridge)")
			}
			if !i.Up {
				label += " (down)"
			}
			for _, a := range i.Addrs {
				label += "<br/>" + a
			}
			if m := masqueradeNote(t, n, i.Name); m != "" {
				label += "<br/>" + m
			}
			shape := "[\"%s\"]"
			if i.Kind == "bridge" {
				shape = "[[\"%s\"]]"
			}
			fmt.Fprintf(&b, "    %s"+shape+"\n", mid(n.Name, i.Name), mlabel(label))
		}
		b.WriteString("  end\n")
	}
	members := map[string][]TNode{}
	for _, n := range t.Nodes {
		if nw := t.networkOf(n); nw != nil && n.Kind == "container" {
			members[nw.key()] = append(members[nw.key()], n)
			continue
		}
		node(n)
	}
	for _, nw := range t.Networks {
		if len(members[nw.key()]) == 0 {
			continue
		}
		on := ""
		if nw.Host != "" {
			on = " on " + nw.Host
		}
		fmt.Fprintf(&b, "  subgraph %s[\"network %s (%s) %s%s\"]\n", mid("net", nw.key()), mlabel(nw.Name), mlabel(nw.Bridge), mlabel(nw.Subnet), mlabel(on))
		for _, n := range members[nw.key()] {
			node(n)
		}
		b.WriteString("  end\n")
	}
	for _, h := range t.Highlight {
		fmt.Fprintf(&b, "  style %s stroke:#d00,stroke-width:3px\n", mid(h))
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
		host := group[0].Host
		if host == "" {
			host = t.engineHost()
		}
		fmt.Fprintf(&b, "  %s ==>|\"DNAT %s\"| %s\n", mid(host), mlabel(strings.Join(labels, ", ")), mid(group[0].Container))
	}
	b.WriteString(walkMermaid(t))
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

// bridgeTitle names a bridge of the engine's host by its network, as
// docker network ls does, then the link ("appnet (br-d1e6e698644b)",
// "bridge (docker0)"); other bridges by their link name and kind.
func bridgeTitle(t *Topology, n TNode, iface, kind string) string {
	if nw := hostNetwork(t, n, iface); nw != nil {
		return nw.Name + " (" + iface + ")"
	}
	return iface + kind
}

// masqueradeNote says where the host masquerades a network's traffic on
// its way out: on the bridge of a network that masquerades.
func masqueradeNote(t *Topology, n TNode, iface string) string {
	if nw := hostNetwork(t, n, iface); nw != nil && nw.Masquerade {
		return "MASQUERADE " + nw.Subnet + " on the way out"
	}
	return ""
}

// hostNetwork is the network whose bridge is iface of node n, a Docker
// host.
func hostNetwork(t *Topology, n TNode, iface string) *TNetwork {
	for i := range t.Networks {
		nw := &t.Networks[i]
		if nw.Bridge == iface && (nw.Host == n.Name || nw.Host == "" && n.Name == t.engineHost()) {
			return nw
		}
	}
	return nil
}

// key names a network uniquely among the engines': its name, after its
// host's when the lab runs several engines.
func (nw TNetwork) key() string {
	if nw.Host == "" {
		return nw.Name
	}
	return nw.Host + "/" + nw.Name
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
	svgNATRowK  = "nat"
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
	pictureH := h
	lw, lh := walkSVGSize(t)
	w = max(w, lw)
	h += svgMargin + lh
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
	// Links under the boxes: between tiers, from the bottom of the upper
	// box to the top of the lower one, with the interfaces' names at the
	// ends; within a tier, between the boxes' facing sides.
	ends := linkAnchors(t.Links, byName)
	s.WriteString(`<g fill="none" stroke="#555" stroke-width="1.5">` + "\n")
	var labels []string
	for i, l := range t.Links {
		e, ok := ends[i]
		if !ok {
			continue
		}
		fmt.Fprintf(&s, `<path d="M %.1f %.1f C %.1f %.1f, %.1f %.1f, %.1f %.1f"><title>veth %s:%s - %s:%s</title></path>`+"\n",
			e.x1, e.y1, e.cx1, e.cy1, e.cx2, e.cy2, e.x2, e.y2, html.EscapeString(l.A.Node), html.EscapeString(l.A.Iface), html.EscapeString(l.B.Node), html.EscapeString(l.B.Iface))
		if e.vertical {
			labels = append(labels, endLabel(e.x1, e.y1+12*e.dir1+2, e.left1, e.label1), endLabel(e.x2, e.y2+12*e.dir2+2, e.left2, e.label2))
		}
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
	if len(labels) > 0 {
		s.WriteString(`<g font-size="10" fill="#555">` + "\n" + strings.Join(labels, "\n") + "\n</g>\n")
	}
	for _, b := range boxes {
		stroke, width := b.stroke, 1.5
		if t.highlighted(b.n.Name) {
			stroke, width = "#d00", 3
		}
		fmt.Fprintf(&s, `<g><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6" fill="%s" stroke="%s" stroke-width="%.1f"/>`+"\n", b.x, b.y, b.w, b.h, b.fill, stroke, width)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-weight="bold">%s</text>`+"\n", b.x+svgPad, b.y+17, html.EscapeString(nodeTitle(b.n)))
		for i, r := range b.rows {
			y := b.y + svgTitleH + float64(i)*svgRowH + 13
			attr := ""
			switch r.kind {
			case "bridge":
				attr = ` font-weight="bold" fill="#1a4d8f"`
			case svgPortRowK, svgNATRowK:
				attr = ` fill="#8a3b00"`
			case "note":
				attr = ` fill="#666" font-style="italic"`
			}
			fmt.Fprintf(&s, `<text x="%.1f" y="%.1f"%s>%s</text>`+"\n", b.x+svgPad, y, attr, html.EscapeString(r.text))
		}
		s.WriteString("</g>\n")
	}
	s.WriteString(walkSVG(t, byName, pictureH))
	s.WriteString("</svg>\n")
	return s.String()
}

// anchor is where a link is drawn: from (x1, y1) to (x2, y2), with the
// Bezier control points; vertical links carry the interfaces' names.
type anchor struct {
	x1, y1, cx1, cy1, cx2, cy2, x2, y2 float64
	vertical                           bool
	dir1, dir2                         float64 // +1: label below the end, -1: above
	label1, label2                     string
	left1, left2                       bool // the end is on the left half of its box
}

// endLabel names the interface at a link's end, beside the line: to its
// left on the left half of a box, to its right on the right half, so that
// the names of neighbouring ends do not overlap.
func endLabel(x, y float64, left bool, name string) string {
	if left {
		return fmt.Sprintf(`<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, x-4, y, html.EscapeString(name))
	}
	return fmt.Sprintf(`<text x="%.1f" y="%.1f">%s</text>`, x+4, y, html.EscapeString(name))
}

// linkAnchors places the links. Between tiers, each box spreads its links
// along its bottom (or top) edge in the order of the other ends, so that
// they do not cross on the way.
func linkAnchors(links []TLink, byName map[string]*svgBox) map[int]anchor {
	type end struct {
		link  int
		first bool // the link's A end
		other *svgBox
	}
	bottoms, tops := map[*svgBox][]end{}, map[*svgBox][]end{}
	out := map[int]anchor{}
	for i, l := range links {
		a, b := byName[l.A.Node], byName[l.B.Node]
		if a == nil || b == nil {
			continue
		}
		switch {
		case a.tier < b.tier:
			bottoms[a] = append(bottoms[a], end{i, true, b})
			tops[b] = append(tops[b], end{i, false, a})
		case b.tier < a.tier:
			bottoms[b] = append(bottoms[b], end{i, false, a})
			tops[a] = append(tops[a], end{i, true, b})
		default:
			y1, y2 := rowY(a, l.A.Iface), rowY(b, l.B.Iface)
			var x1, x2, s1, s2 float64
			switch {
			case a == b:
				x1, s1, x2, s2 = a.x+a.w, 1, a.x+a.w, 1
			case a.x < b.x:
				x1, s1, x2, s2 = a.x+a.w, 1, b.x, -1
			default:
				x1, s1, x2, s2 = a.x, -1, b.x+b.w, 1
			}
			out[i] = anchor{x1: x1, y1: y1, cx1: x1 + 50*s1, cy1: y1, cx2: x2 + 50*s2, cy2: y2, x2: x2, y2: y2}
		}
	}
	type pos struct {
		x, y float64
		left bool
	}
	at := map[[2]int]pos{} // (link, 0 for A / 1 for B) -> point
	place := func(m map[*svgBox][]end, bottom bool) {
		for box, es := range m {
			sort.SliceStable(es, func(i, j int) bool { return es[i].other.x+es[i].other.w/2 < es[j].other.x+es[j].other.w/2 })
			for k, e := range es {
				p := pos{x: box.x + box.w*float64(k+1)/float64(len(es)+1), y: box.y}
				p.left = p.x < box.x+box.w/2
				if bottom {
					p.y = box.y + box.h
				}
				side := 1
				if e.first {
					side = 0
				}
				at[[2]int{e.link, side}] = p
			}
		}
	}
	place(bottoms, true)
	place(tops, false)
	for i, l := range links {
		pa, okA := at[[2]int{i, 0}]
		pb, okB := at[[2]int{i, 1}]
		if !okA || !okB {
			continue
		}
		da, db := 1.0, -1.0 // A at a bottom edge, B at a top edge
		if pa.y > pb.y {
			da, db = -1, 1
		}
		bend := max(30, (max(pa.y, pb.y)-min(pa.y, pb.y))/2)
		out[i] = anchor{x1: pa.x, y1: pa.y, cx1: pa.x, cy1: pa.y + da*bend, cx2: pb.x, cy2: pb.y + db*bend, x2: pb.x, y2: pb.y,
			vertical: true, dir1: da, dir2: db, label1: l.A.Iface, label2: l.B.Iface, left1: pa.left, left2: pb.left}
	}
	return out
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
				text = bridgeTitle(t, n, i.Name, " [bridge]")
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
			if m := masqueradeNote(t, n, i.Name); m != "" {
				b.rows = append(b.rows, svgRow{text: "  " + m, kind: svgNATRowK})
			}
		}
		if n.Shares != "" {
			b.rows = append(b.rows, svgRow{text: "shares the network of " + n.Shares, kind: "note"})
		} else if len(n.Ifaces) == 0 {
			b.rows = append(b.rows, svgRow{text: "lo only (no network)", kind: "note"})
		}
		for _, p := range ports[n.Name] {
			host := p.Host
			if host == "" {
				host = t.engineHost()
			}
			b.rows = append(b.rows, svgRow{text: "published " + p.String() + " (DNAT on " + host + ")", kind: svgPortRowK})
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
