package proc

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Descendants returns roots and every process descended from them, read
// from /proc, roots first, each once, depth first, children in the order
// of their /proc entries.
//
// It follows /proc/PID/task/TID/children down from the roots, which costs
// what the tree holds; a lab of 1000 containers stops each with this, and
// a scan of every process on the machine per container would make removing
// a lab grow with the square of its size. Without that file (a kernel
// without CONFIG_PROC_CHILDREN), it scans /proc.
//
// Equivalent to: pstree -p PID
func Descendants(roots []int) []int {
	if len(roots) == 0 {
		return nil
	}
	if procChildren() {
		return descendantsByChildren(roots)
	}
	return descendantsByScan(roots)
}

// KillTree sends SIGKILL to every process descended from p, then to p: the
// children first, so that nothing of the tree outlives it (not even a
// zombie waiting for its init). It does not wait for p.
//
// Equivalent to: kill -KILL $(pstree -p PID | grep -o '[0-9]*' | tail -n +2) PID
func KillTree(p *os.Process) error {
	if kids := Descendants([]int{p.Pid}); len(kids) > 1 {
		for _, pid := range kids[1:] {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return p.Kill()
}

// descendantsByScan is Descendants by reading every process's parent.
func descendantsByScan(roots []int) []int {
	children := map[int][]int{}
	for _, s := range List() {
		children[s.PPID] = append(children[s.PPID], s.PID)
	}
	return walkTree(roots, func(p int) []int { return children[p] })
}

// procChildren reports whether this kernel has the children files.
var procChildren = sync.OnceValue(func() bool {
	_, err := os.Stat("/proc/self/task/" + strconv.Itoa(os.Getpid()) + "/children")
	return err == nil
})

// descendantsByChildren is Descendants through the children files of each
// process's threads.
func descendantsByChildren(roots []int) []int {
	return walkTree(roots, func(p int) []int {
		dir := "/proc/" + strconv.Itoa(p) + "/task/"
		tasks, _ := os.ReadDir(dir)
		var kids []string
		for _, t := range tasks {
			b, err := os.ReadFile(dir + t.Name() + "/children")
			if err == nil {
				kids = append(kids, strings.Fields(string(b))...)
			}
		}
		// The order a scan of /proc (sorted by name) would give.
		sort.Strings(kids)
		var pids []int
		for _, k := range kids {
			if pid, err := strconv.Atoi(k); err == nil {
				pids = append(pids, pid)
			}
		}
		return pids
	})
}

// walkTree lists roots and their descendants depth first, each once, in
// the order children gives them.
func walkTree(roots []int, children func(int) []int) []int {
	var out []int
	seen := map[int]bool{}
	var walk func(int)
	walk = func(p int) {
		if seen[p] {
			return
		}
		seen[p] = true
		out = append(out, p)
		for _, ch := range children(p) {
			walk(ch)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}

// Each calls fn(i) for every i below n, at most workers at a time, and
// returns each call's error at its index.
func Each(n, workers int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < min(workers, n); w++ {
		wg.Go(func() {
			for i := range next {
				errs[i] = fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}
