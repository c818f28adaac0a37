package testkit

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/labrun/labrun/netkit/proc"
)

// Proc is one process, as netkit/proc reads it from /proc/PID/stat (the
// module's one parser): PID and StartTime together name a process that is
// never reused.
type Proc struct{ proc.Stat }

// String returns "PID COMM", as the leak tests' snapshots show processes.
func (p Proc) String() string { return fmt.Sprintf("%d %s", p.PID, p.Comm) }

// Procs lists the machine's processes, by PID. A process that exits while
// it is read is left out.
//
// Equivalent to: ps -e -o pid,ppid,comm,lstart
func Procs() []Proc {
	var out []Proc
	for _, st := range proc.List() {
		out = append(out, Proc{st})
	}
	slices.SortFunc(out, func(a, b Proc) int { return a.PID - b.PID })
	return out
}

// Children lists the processes whose parent is pid, by PID.
//
// Equivalent to: ps --ppid PID
func Children(pid int) []Proc {
	var out []Proc
	for _, p := range Procs() {
		if p.PPID == pid {
			out = append(out, p)
		}
	}
	return out
}

// Descendants lists the processes descending from pid (its children, theirs,
// and so on), by PID; proc.Descendants walks the tree.
//
// Equivalent to: pstree -p PID
func Descendants(pid int) []Proc {
	var out []Proc
	for _, d := range proc.Descendants([]int{pid})[1:] {
		if st, err := proc.ReadStat(d); err == nil {
			out = append(out, Proc{st})
		}
	}
	slices.SortFunc(out, func(a, b Proc) int { return a.PID - b.PID })
	return out
}

// NetnsHolders maps every network namespace ("net:[INODE]") that a
// process, a thread or a descriptor on the machine refers to, to the /proc
// paths that refer to it.
func NetnsHolders() map[string][]string {
	held := map[string][]string{}
	add := func(path string) {
		if l, err := os.Readlink(path); err == nil && strings.HasPrefix(l, "net:") {
			held[l] = append(held[l], path)
		}
	}
	for _, p := range Procs() {
		dir := fmt.Sprintf("/proc/%d", p.PID)
		add(dir + "/ns/net")
		if tasks, err := os.ReadDir(dir + "/task"); err == nil {
			for _, task := range tasks {
				add(dir + "/task/" + task.Name() + "/ns/net")
			}
		}
		if fds, err := os.ReadDir(dir + "/fd"); err == nil {
			for _, fd := range fds {
				add(dir + "/fd/" + fd.Name())
			}
		}
	}
	return held
}
