// Package proc is netkit's room for the processes it starts: reading a
// process's /proc/PID/stat, walking and killing a process tree, and the
// small protocol by which a started process reports that it is ready.
//
// It exists so that there is a single /proc/PID/stat parser (ReadStat) for
// the whole module: docker top's table, the lab registry's liveness checks
// and the tests' process snapshots all read the same fields the same way.
// It is not a process manager: starting a process inside a namespace is
// netns's (NS.Start, NS.Spawn) and what runs there is initproc's; proc
// knows nothing of namespaces or containers.
package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ClockTick is the kernel's USER_HZ, the unit of the times in
// /proc/PID/stat; it is 100 on every Linux architecture labrun runs on.
const ClockTick = 100

// Stat is what netkit and its users read from a process's /proc/PID/stat
// (proc(5)); the field names follow the manual's.
type Stat struct {
	PID   int
	Comm  string // the command name, without its parentheses
	State byte   // R, S, D, Z, T, …
	PPID  int
	TTY   int // tty_nr: the controlling terminal's device number; 0 for none
	// UTime and STime are the CPU time spent in user and kernel mode, in
	// clock ticks (ClockTick).
	UTime, STime uint64
	// CUTime and CSTime are the same times of the children it waited for
	// (and of theirs), in clock ticks.
	CUTime, CSTime uint64
	// StartTime is when the process started, in clock ticks after boot
	// (see BootTime).
	StartTime uint64
}

// Zombie reports whether the process has exited but was not reaped yet.
func (s Stat) Zombie() bool { return s.State == 'Z' }

// errShort is ParseStat's error for a line with too few fields.
var errShort = errors.New("too few fields")

// ParseStat parses the text of a /proc/PID/stat file. The command name is
// taken between the first '(' and the last ')', since it may itself hold
// spaces and parentheses.
func ParseStat(b []byte) (Stat, error) {
	open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || close < open {
		return Stat{}, fmt.Errorf("parsing /proc/PID/stat %q: no command name", b)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return Stat{}, fmt.Errorf("parsing /proc/PID/stat: pid: %w", err)
	}
	// f[0] is field 3 (state), f[1] field 4 (ppid), … f[19] field 22
	// (starttime).
	f := strings.Fields(string(b[close+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return Stat{}, fmt.Errorf("parsing /proc/%d/stat: %w", pid, errShort)
	}
	s := Stat{PID: pid, Comm: string(b[open+1 : close]), State: f[0][0]}
	ints := []struct {
		field int
		to    *int
	}{{1, &s.PPID}, {4, &s.TTY}}
	for _, x := range ints {
		if *x.to, err = strconv.Atoi(f[x.field]); err != nil {
			return Stat{}, fmt.Errorf("parsing /proc/%d/stat field %d: %w", pid, x.field+3, err)
		}
	}
	uints := []struct {
		field int
		to    *uint64
	}{{11, &s.UTime}, {12, &s.STime}, {13, &s.CUTime}, {14, &s.CSTime}, {19, &s.StartTime}}
	for _, x := range uints {
		if *x.to, err = strconv.ParseUint(f[x.field], 10, 64); err != nil {
			return Stat{}, fmt.Errorf("parsing /proc/%d/stat field %d: %w", pid, x.field+3, err)
		}
	}
	return s, nil
}

// ReadStat reads and parses /proc/PID/stat. A process that is gone gives
// an error that matches os.ErrNotExist (or ESRCH, when it went while the
// file was being read).
//
// Equivalent to: cat /proc/PID/stat
func ReadStat(pid int) (Stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, fmt.Errorf("reading the stat of process %d: %w", pid, err)
	}
	return ParseStat(b)
}

// List reads the stat of every process on the machine, in the order of
// /proc's entries; processes that go while it reads are left out.
//
// Equivalent to: cat /proc/[0-9]*/stat
func List() []Stat {
	ents, _ := os.ReadDir("/proc")
	out := make([]Stat, 0, len(ents))
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		if s, err := ReadStat(pid); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// Alive reports whether pid exists and is not a zombie.
func Alive(pid int) bool {
	s, err := ReadStat(pid)
	return err == nil && !s.Zombie()
}

// BootTime returns the time the kernel booted (btime in /proc/stat), the
// origin of Stat.StartTime, or the zero Time where it cannot be read.
func BootTime() time.Time {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return time.Unix(n, 0)
		}
	}
	return time.Time{}
}

// Ticks converts clock ticks (ClockTick) to a duration.
func Ticks(n uint64) time.Duration { return time.Duration(n) * time.Second / ClockTick }
