package netkit_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/testkit"
)

// The hot paths of a lab, as Go benchmarks (go test -bench . ./netkit):
// a fresh lab, docker run and docker rm of a published container, one at
// a time and many at once. They measure; they assert nothing about time
// (labrun bench compares whole labs with other tools). The tests in this
// file pin what the fast paths must keep: IPv6 off on containers' links as
// with Docker, and parallel runs and removals that leave nothing behind.

// benchLab is newLab for benchmarks and tests alike.
func benchLab(tb testing.TB) (*netkit.Lab, *netkit.Engine) {
	tb.Helper()
	testkit.RequireNetAdmin(tb)
	testkit.RequireBinary(tb, "iptables-restore")
	lab, err := netkit.NewLab(netkit.LabOptions{})
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, lab.Close()) })
	e, err := lab.StartEngine(netkit.DaemonOptions{})
	require.NoError(tb, err)
	return lab, e
}

// published is docker run -d -p PORT:80 busybox sleep infinity.
func published(tb testing.TB, name string, port int) netkit.RunOptions {
	pub, err := ports.ParsePublish(fmt.Sprintf("%d:80", port))
	require.NoError(tb, err)
	return netkit.RunOptions{Name: name, Image: "busybox", Comm: "sleep", Command: "sleep infinity", Publish: pub}
}

// TestContainerIPv6Off: a container's interface has IPv6 off, as Docker
// leaves it on an IPv4-only network (no link-local address), while the
// namespace's default and lo keep theirs.
func TestContainerIPv6Off(t *testing.T) {
	lab, e := benchLab(t)
	c, err := e.Run(published(t, "v6", 20000))
	require.NoError(t, err)
	n := node(t, lab, c.Name)
	for key, want := range map[string]string{
		"net/ipv6/conf/eth0/disable_ipv6":    "1",
		"net/ipv6/conf/default/disable_ipv6": "0",
		"net/ipv6/conf/lo/disable_ipv6":      "0",
	} {
		got, err := n.NS().ReadSysctl(key)
		if errors.Is(err, os.ErrNotExist) {
			t.Skip("skipping: this kernel has no IPv6")
		}
		require.NoError(t, err)
		require.Equal(t, want, got, key)
	}
	eth, err := n.Netlink().LinkByName("eth0")
	require.NoError(t, err)
	addrs, err := n.Netlink().AddrList(eth, netlink.FAMILY_V6)
	require.NoError(t, err)
	require.Empty(t, addrs, "eth0 has no IPv6 address")
}

// TestParallelRunRemove starts and removes containers from many goroutines
// at once (their rules and veths then go in shared batches) and checks that
// every container got its own address and rules, and that removing them
// leaves the lab exactly as it was.
func TestParallelRunRemove(t *testing.T) {
	lab, e := benchLab(t)
	before := rollbackState(t, lab)
	const n = 24
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.Run(published(t, fmt.Sprintf("p%d", i), 21000+i))
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, err := range errs {
		require.NoError(t, err, "run %d", i)
		c, err := e.Container(fmt.Sprintf("p%d", i))
		require.NoError(t, err)
		ip := c.IP("").String()
		require.False(t, seen[ip], "address %s given twice", ip)
		seen[ip] = true
	}
	out, err := lab.Host().Output("iptables-save", "-t", "nat")
	require.NoError(t, err)
	require.Equal(t, n, strings.Count(string(out), "-j DNAT"), "one DNAT rule per container")
	links, err := lab.Host().Netlink().LinkList()
	require.NoError(t, err)
	veths := 0
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, "veth") {
			veths++
		}
	}
	require.Equal(t, n, veths)

	for i := range n {
		wg.Go(func() {
			errs[i] = e.Remove(fmt.Sprintf("p%d", i), true)
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "remove %d", i)
	}
	require.Equal(t, before, rollbackState(t, lab))
}

// BenchmarkLabStart: a fresh lab (the five namespaces of the world, docker0
// and Docker's chains), ready for docker run.
func BenchmarkLabStart(b *testing.B) {
	benchLab(b) // skips when labs cannot be made here
	for b.Loop() {
		lab, err := netkit.NewLab(netkit.LabOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := lab.StartEngine(netkit.DaemonOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		lab.Close()
		b.StartTimer()
	}
}

// BenchmarkRun: docker run -d -p P:80 of one container at a time, in a lab
// that grows by one container per iteration.
func BenchmarkRun(b *testing.B) {
	_, e := benchLab(b)
	i := 0
	for b.Loop() {
		if _, err := e.Run(published(b, fmt.Sprintf("r%d", i), 20000+i%40000)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRemove: docker rm -f of one container at a time.
func BenchmarkRemove(b *testing.B) {
	_, e := benchLab(b)
	i := 0
	for b.Loop() {
		b.StopTimer()
		name := fmt.Sprintf("r%d", i)
		if _, err := e.Run(published(b, name, 20000+i%40000)); err != nil {
			b.Fatal(err)
		}
		i++
		b.StartTimer()
		if err := e.Remove(name, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunRemoveParallel: docker run then docker rm -f, from 16
// goroutines at once, as `labrun bench` and docker rm -f $(docker ps -q)
// do; ns/op is per container.
func BenchmarkRunRemoveParallel(b *testing.B) {
	_, e := benchLab(b)
	var next atomic.Int64
	b.SetParallelism(8) // 8 × GOMAXPROCS goroutines
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			name := fmt.Sprintf("p%d", i)
			if _, err := e.Run(published(b, name, 20000+int(i%40000))); err != nil {
				b.Error(err)
				return
			}
			if err := e.Remove(name, true); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
