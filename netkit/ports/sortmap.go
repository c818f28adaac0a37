package ports

import "sort"

// SortPortMap orders bs the way Docker 20.10 to 26 order a container's
// bindings before allocating host ports: the daemon lists the container's
// ports, sorts them with go-connections' nat.SortPortMap (nat/sort.go,
// v0.4.0, from moby's daemon/network.go in 20.10) and takes each port's
// bindings in turn (docs/docker.md §2.2).
//
// SortPortMap's comparator puts i before j when i's host port is greater,
// or i's container port is greater, or both are the same port and i is
// TCP. That is not a strict order: for -p 10111:22 -p 801:80 it puts 22
// before 80 and 80 before 22, so the result depends on the order of the
// input, which the daemon takes from a Go map (at random). Where the order
// is strict (-p 9800-9803:80-83 gives 83, 82, 81, 80; -P with EXPOSE 80 and
// 443 gives 443, 80) the result is the engine's on every run. labrun's input
// is the command line's order, so its result is one of the engine's.
//
// The sort is Go's sort.Sort, as in the daemon. Host ranges count by their
// first port; bindings of one container port keep their given order.
func SortPortMap(bs []Binding) {
	// The ports in order of first appearance, and each one's bindings.
	var order []Port
	byPort := map[Port][]Binding{}
	for _, b := range bs {
		if _, ok := byPort[b.Container]; !ok {
			order = append(order, b.Container)
		}
		byPort[b.Container] = append(byPort[b.Container], b)
	}
	var entries portMapEntries
	for _, p := range order {
		entries = append(entries, byPort[p]...)
	}
	sort.Sort(entries)
	// Ports in the order of their first entry, each with its bindings in
	// the entries' order.
	seen := map[Port]bool{}
	out := bs[:0:0]
	for _, e := range entries {
		if seen[e.Container] {
			continue
		}
		seen[e.Container] = true
		for _, f := range entries {
			if f.Container == e.Container {
				out = append(out, f)
			}
		}
	}
	copy(bs, out)
}

// portMapEntries sorts as go-connections' portMapSorter.
type portMapEntries []Binding

func (s portMapEntries) Len() int      { return len(s) }
func (s portMapEntries) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s portMapEntries) Less(i, j int) bool {
	a, b := s[i], s[j]
	return a.HostPort > b.HostPort || a.Container.Num > b.Container.Num ||
		(a.Container.Num == b.Container.Num && a.Container.Proto == TCP)
}
