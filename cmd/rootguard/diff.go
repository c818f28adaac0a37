package main

import (
	"strings"

	"github.com/rogpeppe/go-internal/diff"
)

// compare returns a readable report of what changed from before to after,
// section by section, or "" if nothing did.
//
//	routes:
//	  - 10.1.0.0/24 dev lab0 proto kernel scope link src 10.1.0.1
//	  + ...
func compare(before, after snapshot) string {
	var b strings.Builder
	for _, name := range sections {
		d := diffLines(before[name], after[name])
		if len(d) == 0 {
			continue
		}
		b.WriteString("  " + name + ":\n")
		for _, l := range d {
			b.WriteString("    " + l + "\n")
		}
	}
	return b.String()
}

// diffLines returns the lines removed from a ("- line") and added in b
// ("+ line"), in order, without context: the changed lines of go-internal's
// unified diff, which runs in O(n log n) however long the sections are.
func diffLines(a, b []string) []string {
	text := func(lines []string) []byte {
		if len(lines) == 0 {
			return nil
		}
		return []byte(strings.Join(lines, "\n") + "\n")
	}
	var res []string
	for i, l := range strings.Split(string(diff.Diff("before", text(a), "after", text(b))), "\n") {
		// The first three lines are the header: "diff before after",
		// "--- before", "+++ after".
		if i >= 3 && l != "" && (l[0] == '-' || l[0] == '+') {
			res = append(res, l[:1]+" "+l[1:])
		}
	}
	return res
}
