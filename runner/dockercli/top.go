package dockercli

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/labrun/labrun/netkit/proc"
)

// processTable lists pids as `ps -ef` does (the columns docker top shows
// by default: UID PID PPID C STIME TTY TIME CMD), read from /proc so that
// no ps binary is needed. Processes that are gone are left out.
func processTable(pids []int, now time.Time) (titles []string, rows [][]string) {
	titles = []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}
	boot := proc.BootTime()
	for _, pid := range pids {
		if row, ok := processRow(pid, boot, now); ok {
			rows = append(rows, row)
		}
	}
	return titles, rows
}

func processRow(pid int, boot, now time.Time) ([]string, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	st, err := proc.ReadStat(pid)
	if err != nil {
		return nil, false
	}
	started := boot.Add(proc.Ticks(st.StartTime))
	cpu := proc.Ticks(st.UTime + st.STime)

	uid := "?"
	if status, err := os.ReadFile(dir + "/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
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
		cmd = "[" + st.Comm + "]"
	}
	return []string{uid, strconv.Itoa(pid), strconv.Itoa(st.PPID), strconv.Itoa(c), stimeOf(started, now), ttyName(st.TTY), cpuTime(cpu), cmd}, true
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
