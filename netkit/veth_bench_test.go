package netkit

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/netns"
)

// vethHost makes a node with n veths whose peers sit in other namespaces,
// as an engine's host has, or skips when namespaces cannot be made here.
func vethHost(t testing.TB, n int) (*Node, []string) {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("skipping: cannot make network namespaces: %v", err)
	}
	host, err := newNode("host")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.close() })
	var names []string
	for i := range n {
		peer, err := newContainerNode(fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { peer.close() })
		name := fmt.Sprintf("veth%07d", i)
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name, Flags: net.FlagUp}, PeerName: "eth0", PeerNamespace: netlink.NsFd(peer.ns.Fd())}
		if err := host.nl.LinkAdd(veth); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return host, names
}

func vethsLeft(t testing.TB, h *netlink.Handle, names []string) []string {
	t.Helper()
	var left []string
	for _, n := range names {
		if _, err := h.LinkByName(n); err == nil {
			left = append(left, n)
		} else if !isLinkNotFound(err) {
			t.Fatal(err)
		}
	}
	return left
}

// TestVethDeleterBatch: a batch of veths goes with one group deletion, a
// veth already gone is no error, and the host's other links stay.
func TestVethDeleterBatch(t *testing.T) {
	host, names := vethHost(t, 4)
	d := newVethDeleter(host)
	// One is gone already.
	if err := d.delOne(names[0]); err != nil {
		t.Fatal(err)
	}
	for i, err := range d.deleteBatch(names) {
		if err != nil {
			t.Errorf("deleting %s: %v", names[i], err)
		}
	}
	if left := vethsLeft(t, host.nl, names); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if _, err := host.nl.LinkByName("lo"); err != nil {
		t.Errorf("lo went too: %v", err)
	}
}

// TestVethDeleterConcurrent: veths deleted from many goroutines at once are
// all gone when each call returns.
func TestVethDeleterConcurrent(t *testing.T) {
	host, names := vethHost(t, 16)
	d := newVethDeleter(host)
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.del(n, nil)
			if _, err := host.nl.LinkByName(n); !isLinkNotFound(err) {
				errs[i] = fmt.Errorf("%s still there after del: %v", n, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestVethDeleterAnnounced: the veths of containers being stopped together
// are announced, and go in one batch with the first of them.
func TestVethDeleterAnnounced(t *testing.T) {
	host, names := vethHost(t, 8)
	d := newVethDeleter(host)
	var batches [][]string
	run := d.group.Run
	d.group.Run = func(b []string) []error {
		batches = append(batches, b)
		return run(b)
	}
	d.group.Gather = time.Minute
	tickets := make([]*batch.Ticket, len(names))
	for i := range names {
		tickets[i] = d.expect(1)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer tickets[i].Release()
			errs[i] = d.del(n, tickets[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if len(batches) != 1 || len(batches[0]) != len(names) {
		t.Errorf("batches %v, want one of all %d veths", batches, len(names))
	}
	if left := vethsLeft(t, host.nl, names); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// BenchmarkVethDelete: deleting a lab's veths one at a time and all at once
// (the grace period a deletion waits for is paid once per batch).
func BenchmarkVethDelete(b *testing.B) {
	for _, concurrent := range []bool{false, true} {
		b.Run(fmt.Sprintf("concurrent=%v", concurrent), func(b *testing.B) {
			const n = 32
			for b.Loop() {
				b.StopTimer()
				host, names := vethHost(b, n)
				d := newVethDeleter(host)
				b.StartTimer()
				if !concurrent {
					for _, name := range names {
						if err := d.del(name, nil); err != nil {
							b.Fatal(err)
						}
					}
					continue
				}
				var wg sync.WaitGroup
				for _, name := range names {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if err := d.del(name, nil); err != nil {
							b.Error(err)
						}
					}()
				}
				wg.Wait()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/veth")
		})
	}
}
