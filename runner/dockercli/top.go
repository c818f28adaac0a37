package dockercli

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"
)

// clockTick is the kernel's USER_HZ, the unit of /proc/PID/stat times; it
// is 100 on every Linux architecture labrun runs on.
const clockTick = 100

// processTable lists pids as `ps -ef` does (the columns docker top shows
// by default: UID PID PPID C STIME TTY TIME CMD), read from /proc so that
// no ps binary is needed. Processes that are gone are left out.
func processTable(pids []int, now time.Time) (titles []string, rows [][]string) {
	titles = []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}
	boot := bootTime()
	for _, pid := range pids {
		if row, ok := processRow(pid, boot, now); ok {
			rows = append(rows, row)
		}
	}
	return titles, rows
}

func processRow(pid int, boot, now time.Time) ([]string, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return nil, false
	}
	s := string(stat)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return nil, false
	}
	comm := s[open+1 : close]
	// Fields after the command: state ppid pgrp session tty_nr tpgid flags
	// minflt cminflt majflt cmajflt utime stime cutime cstime priority nice
	// num_threads itrealvalue starttime ...
	f := strings.Fields(s[close+1:])
	if len(f) < 20 {
		return nil, false
	}
	ppid := f[1]
	ttyNr, _ := strconv.Atoi(f[4])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	start, _ := strconv.ParseInt(f[19], 10, 64)
	started := boot.Add(time.Duration(start) * time.Second / clockTick)
	cpu := time.Duration(utime+stime) * time.Second / clockTick

	uid := "?"
	if st, err := os.ReadFile(dir + "/status"); err == nil {
		for _, line := range strings.Split(string(st), "\n") {
			if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
				if fs := strings.Fields(rest); len(fs) > 1 {
					uid = fs[1] // effective UID
				}
			}
		}
	}
	if u, err := user.LookupId(uid); err == nil {
		uid = u.Username
	}
	c := 0
	if elapsed := now.Sub(started); elapsed > 0 {
		c = int(cpu * 100 / elapsed)
	}
	cmdline, _ := os.ReadFile(dir + "/cmdline")
	cmd := strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
	if cmd == "" {
		cmd = "[" + comm + "]"
	}
	return []string{uid, strconv.Itoa(pid), ppid, strconv.Itoa(c), stimeOf(started, now), ttyName(ttyNr), cpuTime(cpu), cmd}, true
}

// bootTime reads the kernel's boot time from /proc/stat.
func bootTime() time.Time {
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

// stimeOf is ps's STIME: the time of day for a process started in the last
// 24 hours, else month and day, else the year.
func stimeOf(t, now time.Time) string {
	switch {
	case now.Sub(t) < 24*time.Hour:
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Jan02")
	}
	return t.Format("2006")
}

// ttyName is ps's TTY for a /proc tty_nr.
func ttyName(nr int) string {
	if nr == 0 {
		return "?"
	}
	major, minor := (nr>>8)&0xfff, (nr&0xff)|((nr>>12)&0xfff00)
	switch {
	case major >= 136 && major <= 143:
		return fmt.Sprintf("pts/%d", (major-136)*256+minor)
	case major == 4 && minor < 64:
		return fmt.Sprintf("tty%d", minor)
	}
	return "?"
}

// cpuTime is ps's TIME: [DD-]HH:MM:SS.
func cpuTime(d time.Duration) string {
	s := int(d.Seconds())
	days, s := s/86400, s%86400
	out := fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
	if days > 0 {
		out = fmt.Sprintf("%d-%s", days, out)
	}
	return out
}
