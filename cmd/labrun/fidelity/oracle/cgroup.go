package oracle

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// cgroupMounts returns the shell lines that mount, inside the engine's
// mount namespace, each cgroup hierarchy mounted below /sys/fs/cgroup here
// (a fresh sysfs hides them): cgroup v1 hierarchies are shared, so runc's
// cgroups land in the machine's, below the engine's --cgroup-parent.
//
// Equivalent to: mkdir -p /sys/fs/cgroup/cpu; mount -t cgroup -o cpu
// cgroup /sys/fs/cgroup/cpu (and so on)
func cgroupMounts() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("reading mountinfo: %w", err)
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if !ok || len(pf) < 5 || len(qf) < 3 || pf[3] != "/" || !strings.HasPrefix(pf[4], "/sys/fs/cgroup/") {
			continue
		}
		if qf[0] != "cgroup" && qf[0] != "cgroup2" {
			continue
		}
		opts := qf[2]
		if qf[0] == "cgroup2" {
			opts = "rw"
		}
		fmt.Fprintf(&b, "mkdir -p %s\nmount -t %s -o %s cgroup %s\n", pf[4], qf[0], opts, pf[4])
	}
	return b.String(), sc.Err()
}

// hierarchies are the cgroup hierarchies' mount points here.
func hierarchies() []string {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*")
	return dirs
}

// removeCgroups removes the engine's cgroup parent, deepest first, from
// every hierarchy; the engine's processes are gone by then.
//
// Equivalent to: find /sys/fs/cgroup/*/NAME -depth -type d -exec rmdir {} \;
func removeCgroups(name string) {
	for _, h := range hierarchies() {
		var dirs []string
		filepath.WalkDir(filepath.Join(h, name), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
		for _, d := range dirs {
			os.Remove(d)
		}
	}
}

// sweepCgroups removes the cgroup parents of engines whose process is gone
// (a run killed with -9 cannot remove its own).
func sweepCgroups() {
	seen := map[string]bool{}
	for _, h := range hierarchies() {
		ents, _ := os.ReadDir(h)
		for _, ent := range ents {
			name := ent.Name()
			if !ent.IsDir() || !strings.HasPrefix(name, cgroupPrefix) || seen[name] {
				continue
			}
			seen[name] = true
			pid, _, _ := strings.Cut(strings.TrimPrefix(name, cgroupPrefix), "-")
			if n, err := strconv.Atoi(pid); err == nil && n != os.Getpid() {
				if _, err := os.Stat("/proc/" + pid); err == nil {
					continue
				}
			}
			if pid != strconv.Itoa(os.Getpid()) {
				removeCgroups(name)
			}
		}
	}
}

// ping asks the engine's API for /_ping.
func ping(socket string) error {
	resp, err := client(socket, time.Second).Get("http://engine/_ping")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/_ping: %s", resp.Status)
	}
	return nil
}

// client is an HTTP client of the API on socket.
func client(socket string, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		}}}
}
