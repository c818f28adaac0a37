package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labrun/labrun/netkit/proc"
)

// pss returns the proportional set size of process pid in bytes, from
// /proc/PID/smaps_rollup: shared pages (the program text every container
// re-executes) are split among the processes that map them, so a sum over
// processes counts them once.
func pss(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "Pss:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parsing smaps_rollup of %d: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no Pss line in smaps_rollup of %d", pid)
}

// descendants returns every process descended from pid (not pid itself).
func descendants(pid int) []int {
	return proc.Descendants([]int{pid})[1:]
}

// sumPSS adds up the PSS of pids; processes that exited meanwhile count 0.
func sumPSS(pids []int) (total int64, counted int) {
	for _, p := range pids {
		if v, err := pss(p); err == nil {
			total += v
			counted++
		}
	}
	return total, counted
}

// forEach calls fn(i) for i in [0, n) with at most par calls at once, and
// returns the first error (after which no new call starts).
func forEach(n, par int, fn func(i int) error) error {
	if par <= 1 {
		for i := 0; i < n; i++ {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	for w := 0; w < par; w++ {
		wg.Go(func() {
			for {
				mu.Lock()
				if first != nil || next >= n {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return first
}

// cpuTime returns the CPU time (user and system) this process and its
// reaped children have used so far. Work the kernel does in its own
// threads (namespace clean-up, for one) is not in it.
func cpuTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}

// fdKinds summarises this process's open descriptors by kind ("socket: 600,
// net: 300, …"): every process labrun starts copies them, so their number
// is part of what a container costs.
func fdKinds() string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err.Error()
	}
	count := map[string]int{}
	for _, e := range ents {
		l, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue
		}
		kind, _, _ := strings.Cut(l, ":")
		if strings.HasPrefix(l, "/") {
			kind = "file"
		}
		if strings.HasPrefix(l, "anon_inode:") {
			kind = l
		}
		count[kind]++
	}
	var kinds []string
	for k := range count {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return count[kinds[i]] > count[kinds[j]] })
	var b strings.Builder
	fmt.Fprintf(&b, "%d", len(ents))
	for _, k := range kinds {
		fmt.Fprintf(&b, ", %s %d", k, count[k])
	}
	return b.String()
}
