package classroom

import (
	"path/filepath"
	"regexp"
	"sort"

	"github.com/labrun/labrun/netkit/netns"
)

// PinDir is where a scenario run with -keep pins a failed lab's
// namespaces, one file per node (labrun-SCENARIO-RANDOM-NODE), so that
// `ip netns exec` recipes work on them.
const PinDir = "/run/netns"

// pinName splits a pinned namespace's name into its kept lab
// (SCENARIO-RANDOM, RANDOM six hex digits) and its node.
var pinName = regexp.MustCompile(`^labrun-(.+?-[0-9a-f]{6})-(.+)$`)

// keptLab is a lab that -keep left pinned: its nodes' pins by node name.
type keptLab struct {
	name string
	pins map[string]string // node → path
}

// keptLabs lists the kept labs, by name.
func keptLabs() []keptLab {
	paths, _ := filepath.Glob(filepath.Join(PinDir, "labrun-*"))
	byName := map[string]*keptLab{}
	for _, p := range paths {
		m := pinName.FindStringSubmatch(filepath.Base(p))
		if m == nil {
			continue
		}
		k := byName[m[1]]
		if k == nil {
			k = &keptLab{name: m[1], pins: map[string]string{}}
			byName[m[1]] = k
		}
		k.pins[m[2]] = p
	}
	var out []keptLab
	for _, k := range byName {
		out = append(out, *k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// kept returns the kept lab named name, if there is one.
func kept(name string) (keptLab, bool) {
	for _, k := range keptLabs() {
		if k.name == name {
			return k, true
		}
	}
	return keptLab{}, false
}

// containers counts the kept lab's nodes that are not the world's.
func (k keptLab) containers() int {
	n := 0
	for node := range k.pins {
		switch node {
		case "host", "client", "gateway", "internet", "switch":
		default:
			n++
		}
	}
	return n
}

// remove unpins the kept lab's namespaces: they vanish with their last
// process.
//
// Equivalent to: ip netns delete labrun-SCENARIO-RANDOM-NODE (each node)
func (k keptLab) remove() error {
	var first error
	for _, p := range k.pins {
		if err := netns.Unpin(p); err != nil && first == nil {
			first = err
		}
	}
	return first
}
