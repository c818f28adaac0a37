package netkit_test

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/proc"
)

// Programs that fail in the ways a container's main process can: before it
// is ready, by never getting ready, and right after it said it was.
func init() {
	initproc.Register("rollback-fail", func(args []string, ready func()) error {
		return errors.New("deliberate failure before ready")
	})
	initproc.Register("rollback-hang", func(args []string, ready func()) error {
		select {}
	})
	initproc.Register("rollback-exit", func(args []string, ready func()) error {
		ready()
		return errors.New("deliberate failure after ready")
	})
}

// TestRollback makes netkit operations fail half-way, in one lab, and checks
// after each that the lab is as it was before it (rollbackState): a failed
// operation undoes what it did. Where the kernel cannot see a leak (an
// address or a host port still allocated), the next operation that needs
// it shows it.
func TestRollback(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	// A running container, published, and a user network with one free
	// address, so that failures happen next to live state.
	_, err := e.Run(netkit.RunOptions{Name: "keep", Publish: mustBindings(t, "801:80")})
	require.NoError(t, err)
	_, err = e.CreateNetwork(netkit.NetworkOptions{Name: "tiny", Subnet: netip.MustParsePrefix("10.9.0.0/29")})
	require.NoError(t, err)

	fails := []struct {
		name string
		op   func() error
		want string // in the error
	}{
		{"main process fails before ready", func() error {
			_, err := e.Run(netkit.RunOptions{Name: "f1", Program: "rollback-fail", Publish: mustBindings(t, "802:80")})
			return err
		}, "deliberate failure before ready"},
		{"main process never ready", func() error {
			_, err := e.Run(netkit.RunOptions{Name: "f2", Program: "rollback-hang", ReadyTimeout: 300 * time.Millisecond,
				Publish: mustBindings(t, "803:80/udp")})
			return err
		}, "main process not ready after 300ms"},
		{"main process exits once ready", func() error {
			c, err := e.Run(netkit.RunOptions{Name: "f3", Program: "rollback-exit", Publish: mustBindings(t, "804:80")})
			if err != nil {
				return err // it exited before Run saw it running
			}
			// It runs, then exits by itself: the reaper tears it down.
			deadline := time.Now().Add(5 * time.Second)
			for c.State() == "running" && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			return fmt.Errorf("container f3 exited by itself (state %s)", c.State())
		}, "container f3"},
		{"second binding's port taken", func() error {
			_, err := e.Run(netkit.RunOptions{Name: "f4", Publish: append(mustBindings(t, "805:80"), mustBindings(t, "801:81")...)})
			return err
		}, "Bind for 0.0.0.0:801 failed: port is already allocated"},
		{"container mode, main process fails", func() error {
			_, err := e.Run(netkit.RunOptions{Name: "f5", Program: "rollback-fail", Network: netkit.Mode{Kind: netkit.ModeContainer, Container: "keep"}})
			return err
		}, "deliberate failure before ready"},
		{"user network, main process fails", func() error {
			_, err := e.Run(netkit.RunOptions{Name: "f6", Program: "rollback-fail", Network: netkit.Mode{Network: "tiny"}, IP: netip.MustParseAddr("10.9.0.6")})
			return err
		}, "deliberate failure before ready"},
		{"connect to a full network", func() error {
			// tiny (/29) has .2 to .6 for containers: fill it, fail one more.
			var made []string
			defer func() {
				for _, n := range made {
					e.Remove(n, true)
				}
			}()
			for i := 0; ; i++ {
				name := fmt.Sprintf("fill%d", i)
				if _, err := e.Run(netkit.RunOptions{Name: name, Network: netkit.Mode{Network: "tiny"}}); err != nil {
					break
				}
				made = append(made, name)
			}
			return e.Connect("tiny", "keep", netip.Addr{})
		}, "no available IPv4 addresses on this network's address pools: tiny"},
		{"network with an overlapping subnet", func() error {
			_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "over", Subnet: netip.MustParsePrefix("10.9.0.0/24")})
			return err
		}, "Pool overlaps"},
		{"network with a gateway outside its subnet", func() error {
			_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "gw", Subnet: netip.MustParsePrefix("10.8.0.0/24"), Gateway: netip.MustParseAddr("10.7.0.1")})
			return err
		}, "no matching subnet for gateway 10.7.0.1"},
	}
	for _, f := range fails {
		before := rollbackState(t, lab)
		err := f.op()
		require.Error(t, err, f.name)
		require.Contains(t, err.Error(), f.want, f.name)
		if after := rollbackState(t, lab); after != before {
			t.Errorf("%s: the lab changed:\n%s", f.name, diffLines(before, after))
		}
		// Docker keeps a container whose start failed, created: it goes,
		// so that the next case can take its name's place.
		for _, c := range e.Containers(true) {
			if c.State() != "running" {
				require.NoError(t, e.Remove(c.ID, true))
			}
		}
	}

	// What the failures had allocated is free again: the host ports, the
	// addresses (the lowest free one is handed out first), the subnet.
	for i, spec := range []string{"802:80", "803:80/udp", "804:80", "805:80"} {
		c, err := e.Run(netkit.RunOptions{Name: fmt.Sprintf("again%d", i), Publish: mustBindings(t, spec)})
		require.NoError(t, err, "publishing %s again", spec)
		require.Equal(t, fmt.Sprintf("172.17.0.%d", 3+i), c.IP("").String(), "the address of container again%d", i)
	}
	c, err := e.Run(netkit.RunOptions{Name: "tiny1", Network: netkit.Mode{Network: "tiny"}, IP: netip.MustParseAddr("10.9.0.6")})
	require.NoError(t, err, "--ip 10.9.0.6 again")
	require.Equal(t, "10.9.0.6", c.IP("tiny").String())
	_, err = e.CreateNetwork(netkit.NetworkOptions{Name: "gw", Subnet: netip.MustParsePrefix("10.8.0.0/24")})
	require.NoError(t, err, "the subnet of the refused network")
}

// rollbackState describes the lab as a failed operation must leave it, a
// fact a line: the host node's links, addresses (without the kernel's own
// IPv6 link-local ones), routes, listening sockets and iptables rules; every
// running container's interfaces; the engine's networks and endpoints; the
// processes descending from this one; and the network namespaces it holds.
func rollbackState(t *testing.T, lab *netkit.Lab) string {
	t.Helper()
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	nodes := map[string]*netkit.Node{"host": lab.Host()}
	e := lab.Engine()
	for _, c := range e.Containers(false) {
		if n := c.Node(); n != nil {
			nodes["container "+c.Name] = n
		}
	}
	for name, n := range nodes {
		h := n.Netlink()
		links, err := h.LinkList()
		require.NoError(t, err)
		idx := map[int]string{}
		for _, l := range links {
			idx[l.Attrs().Index] = l.Attrs().Name
		}
		for _, l := range links {
			a := l.Attrs()
			add("%s: link %s %s master=%s up=%v", name, a.Name, l.Type(), idx[a.MasterIndex], a.Flags&1 != 0)
		}
		addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
		require.NoError(t, err)
		for _, a := range addrs {
			if !a.IP.IsLinkLocalUnicast() {
				add("%s: addr %s %s", name, idx[a.LinkIndex], a.IPNet)
			}
		}
		routes, err := h.RouteList(nil, netlink.FAMILY_V4)
		require.NoError(t, err)
		for _, r := range routes {
			add("%s: route %v via %v dev %s", name, r.Dst, r.Gw, idx[r.LinkIndex])
		}
	}
	require.NoError(t, lab.Host().NS().Do(func() error {
		for _, f := range []string{"tcp", "tcp6", "udp", "udp6"} {
			b, err := os.ReadFile("/proc/thread-self/net/" + f)
			if err != nil {
				return err
			}
			for _, l := range strings.Split(string(b), "\n")[1:] {
				fs := strings.Fields(l)
				if len(fs) > 3 && (fs[3] == "0A" || strings.HasPrefix(f, "udp")) {
					add("host: socket %s %s", f, fs[1])
				}
			}
		}
		return nil
	}))
	out, err := lab.Host().Output("iptables-save")
	require.NoError(t, err)
	counters := regexp.MustCompile(`\[\d+:\d+\]`)
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			add("host: iptables %s", counters.ReplaceAllString(l, "[]"))
		}
	}
	for _, n := range e.Networks() {
		j := n.Inspect(e)
		add("network %s %s %s", n.Name, n.Bridge, n.Subnet)
		for _, c := range j.Containers {
			add("endpoint %s %s %s", n.Name, c.Name, c.IPv4Address)
		}
	}
	for _, p := range descendantsOf(os.Getpid()) {
		add("process %s", p)
	}
	root, _ := os.Readlink("/proc/thread-self/ns/net")
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, ent := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + ent.Name()); err == nil && strings.HasPrefix(l, "net:") && l != root {
			add("netns %s", l)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// descendantsOf lists the processes descending from pid as "PID COMM".
func descendantsOf(pid int) []string {
	parent, comm := map[int]int{}, map[int]string{}
	for _, s := range proc.List() {
		parent[s.PID], comm[s.PID] = s.PPID, s.Comm
	}
	var out []string
	for p := range parent {
		for a := parent[p]; a > 1; a = parent[a] {
			if a == pid {
				out = append(out, fmt.Sprintf("%d %s", p, comm[p]))
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// diffLines shows the lines only in a (-) and only in b (+).
func diffLines(a, b string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	ma, mb := count(a), count(b)
	var out []string
	for l, n := range ma {
		if mb[l] < n {
			out = append(out, "- "+l)
		}
	}
	for l, n := range mb {
		if ma[l] < n {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
