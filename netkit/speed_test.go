package netkit_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/testkit"
)

// Tests of what the speed work of issue 6 changed in behaviour
// (docs/performance.md): host-side veths without IPv6, a busybox container's
// main process without a mount namespace, and a failed veth after the
// container's ports were published (the two are made at the same time).

func sysctl(t *testing.T, n *netkit.Node, key string) string {
	t.Helper()
	v, err := n.NS().ReadSysctl(key)
	require.NoError(t, err, key)
	return v
}

// bridgePorts returns the host's veths that are ports of a bridge, of the
// bridge with ifindex master when master is not 0.
func bridgePorts(t *testing.T, lab *netkit.Lab, master int) []netlink.Link {
	t.Helper()
	links, err := lab.Host().Netlink().LinkList()
	require.NoError(t, err)
	var ports []netlink.Link
	for _, l := range links {
		if m := l.Attrs().MasterIndex; l.Type() == "veth" && m != 0 && (master == 0 || m == master) {
			ports = append(ports, l)
		}
	}
	return ports
}

// TestHostVethsWithoutIPv6: a container's host-side veth has IPv6 off, while
// the host's default, docker0 and a network created while containers start
// keep theirs.
func TestHostVethsWithoutIPv6(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	if _, err := os.Stat("/proc/sys/net/ipv6"); err != nil {
		t.Skip("skipping: this kernel has no IPv6")
	}
	host := lab.Host()
	before := sysctl(t, host, "net/ipv6/conf/default/disable_ipv6")
	var wg sync.WaitGroup
	errs := make([]error, 9)
	for i := range 8 {
		wg.Go(func() {
			_, errs[i] = e.Run(netkit.RunOptions{Name: fmt.Sprintf("v%d", i), Command: "sleep infinity", Comm: "sleep"})
		})
	}
	wg.Go(func() {
		_, errs[8] = e.CreateNetwork(netkit.NetworkOptions{Name: "mid"})
	})
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	links, err := host.Netlink().LinkList()
	require.NoError(t, err)
	veths := 0
	for _, l := range links {
		name := l.Attrs().Name
		v := sysctl(t, host, "net/ipv6/conf/"+name+"/disable_ipv6")
		switch {
		case l.Type() == "veth" && l.Attrs().MasterIndex != 0:
			veths++
			assert.Equal(t, "1", v, "IPv6 of host-side veth %s", name)
		case l.Type() == "bridge":
			assert.Equal(t, before, v, "IPv6 of bridge %s", name)
		}
	}
	assert.Equal(t, 8, veths)
	assert.Equal(t, before, sysctl(t, host, "net/ipv6/conf/default/disable_ipv6"), "the host's default")
	// The container's end has IPv6 off too, as Docker's does.
	c, err := e.Container("v0")
	require.NoError(t, err)
	assert.Equal(t, "1", sysctl(t, c.Node(), "net/ipv6/conf/eth0/disable_ipv6"))
}

// sleeper runs a container, name, whose main process sleeps for ever.
func sleeper(t *testing.T, e *netkit.Engine, name string) *netkit.Container {
	t.Helper()
	c, err := e.Run(netkit.RunOptions{Name: name, Command: "sleep infinity", Comm: "sleep"})
	require.NoError(t, err)
	return c
}

// TestVethQueuesAsTheKernelDefault: a container's veth pair gets the number
// of queues that a veth made without asking (as Docker makes them) gets, so
// `ip -d link` shows the same numtxqueues and numrxqueues.
func TestVethQueuesAsTheKernelDefault(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	c := sleeper(t, e, "ctr-q")
	// A reference pair, made the plain way in another node of the lab.
	// Equivalent to: ip -n internet link add ref0 type veth peer name ref1
	inet, err := lab.Node("internet")
	require.NoError(t, err)
	require.NoError(t, inet.Netlink().LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "ref0"}, PeerName: "ref1"}))
	ref, err := inet.Netlink().LinkByName("ref0")
	require.NoError(t, err)
	want := [2]int{ref.Attrs().NumTxQueues, ref.Attrs().NumRxQueues}
	require.NotZero(t, want[0], "the kernel reports no queue counts")

	eth0, err := c.Node().Netlink().LinkByName("eth0")
	require.NoError(t, err)
	assert.Equal(t, want, [2]int{eth0.Attrs().NumTxQueues, eth0.Attrs().NumRxQueues}, "eth0's tx and rx queues")
	ports := bridgePorts(t, lab, 0)
	require.Len(t, ports, 1)
	assert.Equal(t, want, [2]int{ports[0].Attrs().NumTxQueues, ports[0].Attrs().NumRxQueues}, "%s's tx and rx queues", ports[0].Attrs().Name)
}

// TestBridgeReplacedUnderTheEngine: netkit remembers a bridge's ifindex
// between containers; a docker0 deleted and made again by hand (a new
// index) still takes the next container's veth.
func TestBridgeReplacedUnderTheEngine(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	_, err := e.Run(netkit.RunOptions{Name: "ctr-a", Command: "sleep infinity", Comm: "sleep"})
	require.NoError(t, err)
	h := lab.Host().Netlink()
	old, err := h.LinkByName("docker0")
	require.NoError(t, err)
	// Equivalent to: ip link del docker0; ip link add docker0 type bridge; ip link set docker0 up
	require.NoError(t, h.LinkDel(old))
	require.NoError(t, h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "docker0", Flags: net.FlagUp}}))
	br, err := h.LinkByName("docker0")
	require.NoError(t, err)
	require.NotEqual(t, old.Attrs().Index, br.Attrs().Index)

	_, err = e.Run(netkit.RunOptions{Name: "ctr-b", Command: "sleep infinity", Comm: "sleep"})
	require.NoError(t, err)
	assert.Len(t, bridgePorts(t, lab, br.Attrs().Index), 1, "veths on the new docker0")
}

// TestBridgeEnablesANewPortOnce: a container's host end is made down and
// set up after the container's end (see link.Conn.AddVeth), so that docker0 enables
// the new port once, and does not enable it while its operational state is
// not yet known, disable it for want of carrier, and enable it again: each
// is a pass over every port of the bridge. The port's states as docker0
// announces them (IFLA_BRPORT_STATE) go from disabled to forwarding, and
// the container answers through it.
func TestBridgeEnablesANewPortOnce(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	host := lab.Host()
	var s *nl.NetlinkSocket
	require.NoError(t, host.NS().Do(func() error {
		var err error
		s, err = nl.Subscribe(unix.NETLINK_ROUTE, unix.RTNLGRP_LINK)
		return err
	}))
	defer s.Close()
	require.NoError(t, s.SetReceiveTimeout(&unix.Timeval{Sec: 2}))

	_, err := e.Run(netkit.RunOptions{Name: "ctr-a", Command: "sleep infinity", Comm: "sleep"})
	require.NoError(t, err)
	ports := bridgePorts(t, lab, 0)
	require.Len(t, ports, 1)
	veth := ports[0]
	// A change of lo's alias marks the end of what docker run caused.
	lo, err := host.Netlink().LinkByName("lo")
	require.NoError(t, err)
	require.NoError(t, host.Netlink().LinkSetAlias(lo, "mark"))
	const disabled, forwarding = 0, 3 // BR_STATE_*
	var states []int
	for marked := false; !marked; {
		msgs, _, err := s.Receive()
		require.NoError(t, err, "reading link notifications")
		for _, m := range msgs {
			if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
				continue
			}
			ifi := nl.DeserializeIfInfomsg(m.Data)
			if int(ifi.Index) == lo.Attrs().Index {
				marked = true
			}
			if int(ifi.Index) != veth.Attrs().Index || ifi.Family != unix.AF_BRIDGE {
				continue
			}
			if st, ok := portState(t, m.Data[unix.SizeofIfInfomsg:]); ok && (len(states) == 0 || states[len(states)-1] != st) {
				states = append(states, st)
			}
		}
	}
	assert.Equal(t, []int{disabled, forwarding}, states, "%s's port states, as docker0 announced them", veth.Attrs().Name)
	listen(t, node(t, lab, "ctr-a"), ":80")
	out, err := dial(host, "172.17.0.2:80")
	require.NoError(t, err, "the container from the host, through docker0")
	assert.Equal(t, "hello", out)
}

// portState finds IFLA_BRPORT_STATE in the attributes of a bridge's
// AF_BRIDGE link message.
func portState(t *testing.T, b []byte) (int, bool) {
	attrs, err := nl.ParseRouteAttr(b)
	require.NoError(t, err)
	for _, a := range attrs {
		if a.Attr.Type&^unix.NLA_F_NESTED != unix.IFLA_PROTINFO {
			continue
		}
		nested, err := nl.ParseRouteAttr(a.Value)
		require.NoError(t, err)
		for _, n := range nested {
			if n.Attr.Type == unix.IFLA_BRPORT_STATE && len(n.Value) == 1 {
				return int(n.Value[0]), true
			}
		}
	}
	return 0, false
}

// TestWaiterSharesMountNamespace: a container that runs no program gets the
// light waiter, which remounts nothing and so needs no mount namespace of
// its own; a command run in it still gets one, with the container's /sys.
func TestWaiterSharesMountNamespace(t *testing.T) {
	_, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	c := sleeper(t, e, "ctr-w")
	own, err := os.Readlink("/proc/self/ns/mnt")
	require.NoError(t, err)
	its, err := os.Readlink("/proc/" + strconv.Itoa(c.Pid()) + "/ns/mnt")
	require.NoError(t, err)
	if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(c.Pid()) + "/comm"); strings.TrimSpace(string(comm)) != "sleep" {
		t.Skipf("skipping: no waiter on this machine (main process is %q)", comm)
	}
	assert.Equal(t, own, its, "the waiter's mount namespace")
	cmd, err := c.Exec(nil, "ls", "/sys/class/net")
	require.NoError(t, err)
	var out strings.Builder
	cmd.Stdout = &out
	require.NoError(t, c.StartExec(cmd))
	require.NoError(t, cmd.Wait())
	assert.Equal(t, "eth0\nlo\n", out.String(), "/sys of an exec'd command")
}

// TestPublishRolledBackWhenVethFails: the veth and the published ports are
// made at the same time; when the veth fails (here the bridge was deleted
// behind the engine's back), the ports that were published go again: no
// proxy holds the host port, no rule names the container, the port and
// the address are free.
func TestPublishRolledBackWhenVethFails(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	host := lab.Host()
	rulesBefore, err := host.Output("iptables-save", "-t", "nat")
	require.NoError(t, err)
	br, err := host.Netlink().LinkByName("docker0")
	require.NoError(t, err)
	require.NoError(t, host.Netlink().LinkDel(br))
	_, err = e.Run(netkit.RunOptions{Name: "ctr-f", Command: "sleep infinity", Comm: "sleep", Publish: mustBindings(t, "8080:80")})
	require.Error(t, err)
	require.Contains(t, err.Error(), "finding bridge docker0")
	// Its main process, started meanwhile, is gone too.
	assert.Empty(t, childrenNamed(t, "sleep"), "the failed container's main process")
	rulesAfter, err := host.Output("iptables-save", "-t", "nat")
	require.NoError(t, err)
	assert.Equal(t, stripCounters(string(rulesBefore)), stripCounters(string(rulesAfter)), "nat rules after the failure")
	// Nothing listens on the host port any more.
	require.NoError(t, host.NS().Do(func() error {
		ln, err := net.Listen("tcp4", "0.0.0.0:8080")
		if err == nil {
			ln.Close()
		}
		return err
	}), "binding the host port the failed container had published")
	// With docker0 back, the port and the address are handed out again.
	require.NoError(t, host.Netlink().LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "docker0"}}))
	l, err := host.Netlink().LinkByName("docker0")
	require.NoError(t, err)
	require.NoError(t, host.Netlink().LinkSetUp(l))
	require.NoError(t, e.Remove("ctr-f", true))
	c, err := e.Run(netkit.RunOptions{Name: "ctr-g", Command: "sleep infinity", Comm: "sleep", Publish: mustBindings(t, "8080:80")})
	require.NoError(t, err)
	assert.Equal(t, "172.17.0.2", c.IP("").String())
}

// childrenNamed returns the PIDs of this process's children (of any of its
// threads) whose name is comm.
func childrenNamed(t *testing.T, comm string) []int {
	t.Helper()
	var pids []int
	for _, p := range testkit.Children(os.Getpid()) {
		if p.Comm == comm {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// stripCounters drops iptables-save's comment and counter lines, which
// differ between two dumps of the same rules.
func stripCounters(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, ":") {
			if i := strings.Index(l, " ["); i > 0 {
				l = l[:i]
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// logIPTables puts iptables-save and iptables-restore wrappers first in
// PATH that log each call, one line each, and returns a function that
// reads the log.
func logIPTables(t *testing.T) (calls func() []string) {
	t.Helper()
	dir := t.TempDir()
	logf := filepath.Join(dir, "calls.log")
	for _, name := range []string{"iptables-save", "iptables-restore"} {
		real, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("skipping: %s not installed", name)
		}
		script := fmt.Sprintf("#!/bin/sh\necho \"%s $*\" >> %s\nexec %s \"$@\"\n", name, logf, real)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755))
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() []string {
		b, err := os.ReadFile(logf)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		require.NoError(t, err)
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
}

// TestIPTablesProcessesOfALab: a fresh lab's engine programs its chains
// and docker0's rules with one iptables-restore and no iptables-save (its
// host namespace has no table yet), and closing the lab runs neither: the
// kernel frees the rules with the namespace. A host that has a table
// already is read first, and keeps it.
func TestIPTablesProcessesOfALab(t *testing.T) {
	testkit.RequireNetAdmin(t)
	calls := logIPTables(t)
	lab, err := netkit.NewLab(netkit.LabOptions{})
	require.NoError(t, err)
	defer lab.Close()
	e, err := lab.StartEngine(netkit.DaemonOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"iptables-restore -w --noflush"}, calls(), "starting the engine")
	pb, err := ports.ParsePublish("8080:80")
	require.NoError(t, err)
	_, err = e.Run(netkit.RunOptions{Name: "web", Publish: pb, Command: "sleep infinity", Comm: "sleep"})
	require.NoError(t, err)
	nat, err := lab.Host().Output("iptables", "-t", "nat", "-S", "DOCKER")
	require.NoError(t, err)
	require.Contains(t, string(nat), "--dport 8080 -j DNAT --to-destination 172.17.0.2:80")
	before := len(calls())
	require.NoError(t, lab.Close())
	require.Len(t, calls(), before, "closing the lab: %q", calls()[before:])

	// A host with a table of its own: the engine reads the rules first.
	lab2, err := netkit.NewLab(netkit.LabOptions{})
	require.NoError(t, err)
	defer lab2.Close()
	_, err = lab2.Host().Output("iptables", "-t", "nat", "-N", "MINE")
	require.NoError(t, err)
	before = len(calls())
	_, err = lab2.StartEngine(netkit.DaemonOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"iptables-save ", "iptables-restore -w --noflush"}, calls()[before:], "starting the engine")
	nat, err = lab2.Host().Output("iptables", "-t", "nat", "-S")
	require.NoError(t, err)
	require.Contains(t, string(nat), "-N MINE\n")
	require.Contains(t, string(nat), "-N DOCKER\n")
}
