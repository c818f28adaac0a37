package main

import (
	"sort"
	"strings"
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

// maxCells bounds the LCS table; past it diffLines falls back to comparing the
// lines as multisets, which still names every added and removed line but no
// longer notices a pure reordering.
const maxCells = 1 << 22

// diffLines returns the lines removed from a ("- line") and added in b
// ("+ line"), in order, without context. It keeps a common prefix and suffix
// out of the way and runs a longest-common-subsequence diff on the rest.
func diffLines(a, b []string) []string {
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	if (len(a)+1)*(len(b)+1) > maxCells {
		return multisetDiff(a, b)
	}

	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var res []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			i++
			j++
		case j == len(b) || (i < len(a) && lcs[i+1][j] >= lcs[i][j+1]):
			res = append(res, "- "+a[i])
			i++
		default:
			res = append(res, "+ "+b[j])
			j++
		}
	}
	return res
}

// multisetDiff names the lines that occur more often in a ("- ") or in b
// ("+ "), sorted, removals first.
func multisetDiff(a, b []string) []string {
	count := map[string]int{}
	for _, l := range a {
		count[l]++
	}
	for _, l := range b {
		count[l]--
	}
	var removed, added []string
	for l, n := range count {
		for ; n > 0; n-- {
			removed = append(removed, "- "+l)
		}
		for ; n < 0; n++ {
			added = append(added, "+ "+l)
		}
	}
	sort.Strings(removed)
	sort.Strings(added)
	return append(removed, added...)
}
