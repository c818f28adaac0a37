package names

import "strings"

// Nearest returns the name among names nearest to word, for a "did you
// mean" on a typo: one that word begins (two letters at least), or the
// closest by edit distance when within a third of word's length (at least
// one edit); "" when none is near. Case is ignored.
func Nearest(word string, names []string) string {
	w := strings.ToLower(word)
	best, bestD := "", max(1, len(w)/3)+1
	for _, n := range names {
		l := strings.ToLower(n)
		if len(w) >= 2 && len(w) < len(l) && strings.HasPrefix(l, w) {
			return n
		}
		if d := EditDistance(w, l); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// EditDistance is the edit distance between a and b (bytes): insertions,
// deletions, substitutions and swaps of two neighbours (optimal string
// alignment), so that "hlep" is one edit from "help".
func EditDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
