package link

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
)

// testNS makes a namespace and a handle bound to it, closed when the test
// ends, or skips when namespaces cannot be made here.
func testNS(t testing.TB) (*netns.NS, *netlink.Handle) {
	t.Helper()
	testkit.RequireNetAdmin(t)
	ns, err := netns.New()
	require.NoError(t, err)
	t.Cleanup(func() { ns.Close() })
	h, err := OpenHandle(ns)
	require.NoError(t, err)
	t.Cleanup(h.Close)
	return ns, h
}

// lender lends connections opened for each batch, as a test needs no pool.
type lender struct{ ns *netns.NS }

func (l lender) Borrow() (*Conn, error) { return Open(l.ns) }
func (l lender) GiveBack(c *Conn)       { c.Close() }

// vethHost makes a namespace with n veths whose peers sit in other
// namespaces, as an engine's host has, and a Deleter of its links.
func vethHost(t testing.TB, n int) (*netlink.Handle, *Deleter, []string) {
	t.Helper()
	host, h := testNS(t)
	var names []string
	for i := range n {
		peer, _ := testNS(t)
		name := fmt.Sprintf("veth%07d", i)
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name, Flags: net.FlagUp}, PeerName: "eth0", PeerNamespace: netlink.NsFd(peer.Fd())}
		require.NoError(t, h.LinkAdd(veth))
		names = append(names, name)
	}
	return h, NewDeleter(lender{host}), names
}

// isLinkNotFound reports whether err says that a link does not exist.
func isLinkNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}

func vethsLeft(t testing.TB, h *netlink.Handle, names []string) []string {
	t.Helper()
	var left []string
	for _, n := range names {
		if _, err := h.LinkByName(n); err == nil {
			left = append(left, n)
		} else {
			require.True(t, isLinkNotFound(err), "looking up %s: %v", n, err)
		}
	}
	return left
}

// TestVethDeleterBatch: a batch of veths goes with one group deletion, a
// veth already gone is no error, and the host's other links stay.
func TestVethDeleterBatch(t *testing.T) {
	h, d, names := vethHost(t, 4)
	// One is gone already: deleted alone (ip link del), and deleting it
	// alone again is no error either.
	require.NoError(t, d.deleteBatch(names[:1])[0])
	require.NoError(t, d.deleteBatch(names[:1])[0], "deleting a veth already gone")
	for i, err := range d.deleteBatch(names) {
		assert.NoError(t, err, "deleting %s", names[i])
	}
	assert.Empty(t, vethsLeft(t, h, names), "left behind")
	_, err := h.LinkByName("lo")
	assert.NoError(t, err, "lo went too")
}

// TestVethDeleterConcurrent: veths deleted from many goroutines at once are
// all gone when each call returns.
func TestVethDeleterConcurrent(t *testing.T) {
	h, d, names := vethHost(t, 16)
	inParallel(t, names, func(_ int, n string) error {
		err := d.Delete(n, nil)
		if _, lerr := h.LinkByName(n); !isLinkNotFound(lerr) {
			err = fmt.Errorf("%s still there after del: %v", n, lerr)
		}
		return err
	})
}

// inParallel runs del on each of names in a goroutine of its own and
// reports every error it returns once all are done.
func inParallel(t *testing.T, names []string, del func(i int, name string) error) {
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, n := range names {
		wg.Go(func() {
			errs[i] = del(i, n)
		})
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
}

// TestVethDeleterAnnounced: the veths of containers being stopped together
// are announced, and go in one batch with the first of them.
func TestVethDeleterAnnounced(t *testing.T) {
	h, d, names := vethHost(t, 8)
	var batches [][]string
	run := d.group.Run
	d.group.Run = func(b []string) []error {
		batches = append(batches, b)
		return run(b)
	}
	d.group.Gather = time.Minute
	tickets := make([]*batch.Ticket, len(names))
	for i := range names {
		tickets[i] = d.Expect(1)
	}
	inParallel(t, names, func(i int, n string) error {
		defer tickets[i].Release()
		return d.Delete(n, tickets[i])
	})
	if assert.Len(t, batches, 1, "batches %v, want one of all %d veths", batches, len(names)) {
		assert.Len(t, batches[0], len(names), "the one batch")
	}
	assert.Empty(t, vethsLeft(t, h, names), "left behind")
}

// BenchmarkVethDelete: deleting a lab's veths one at a time and all at once
// (the grace period a deletion waits for is paid once per batch).
func BenchmarkVethDelete(b *testing.B) {
	for _, concurrent := range []bool{false, true} {
		b.Run(fmt.Sprintf("concurrent=%v", concurrent), func(b *testing.B) {
			const n = 32
			for b.Loop() {
				b.StopTimer()
				_, d, names := vethHost(b, n)
				b.StartTimer()
				if !concurrent {
					for _, name := range names {
						if err := d.Delete(name, nil); err != nil {
							b.Fatal(err)
						}
					}
					continue
				}
				var wg sync.WaitGroup
				for _, name := range names {
					wg.Go(func() {
						if err := d.Delete(name, nil); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/veth")
		})
	}
}

// TestVethDeleterLeavesBridgeOnce: a batch takes each veth off its bridge
// before it deletes the group, so that the bridge disables each leaving
// port once (one AF_BRIDGE RTM_NEWLINK, one re-selection of every other
// port's state), not twice (when the link goes down, and when it leaves);
// the bridge's other port stays.
func TestVethDeleterLeavesBridgeOnce(t *testing.T) {
	h, d, names := vethHost(t, 4)
	require.NoError(t, h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0", Flags: net.FlagUp}}))
	br, err := h.LinkByName("br0")
	require.NoError(t, err)
	index := map[int32]string{}
	for _, name := range names {
		l, err := h.LinkByName(name)
		require.NoError(t, err)
		require.NoError(t, h.LinkSetMasterByIndex(l, br.Attrs().Index))
		index[int32(l.Attrs().Index)] = name
	}
	var s *nl.NetlinkSocket
	require.NoError(t, d.lender.(lender).ns.Do(func() error {
		s, err = nl.Subscribe(unix.NETLINK_ROUTE, unix.RTNLGRP_LINK)
		return err
	}))
	defer s.Close()
	require.NoError(t, s.SetReceiveTimeout(&unix.Timeval{Sec: 2}))

	for i, err := range d.deleteBatch(names[:3]) {
		require.NoError(t, err, "deleting %s", names[i])
	}
	// The kernel has sent every notification by now; read up to the last
	// veth's own RTM_DELLINK.
	disabled := map[string]int{}
	gone := 0
	for gone < 3 {
		msgs, _, err := s.Receive()
		require.NoError(t, err, "reading link notifications")
		for _, m := range msgs {
			if len(m.Data) < unix.SizeofIfInfomsg {
				continue
			}
			ifi := nl.DeserializeIfInfomsg(m.Data)
			name, ok := index[ifi.Index]
			if !ok {
				continue
			}
			switch {
			case ifi.Family == unix.AF_BRIDGE && m.Header.Type == unix.RTM_NEWLINK:
				disabled[name]++
			case ifi.Family == unix.AF_UNSPEC && m.Header.Type == unix.RTM_DELLINK:
				gone++
			}
		}
	}
	assert.Equal(t, map[string]int{names[0]: 1, names[1]: 1, names[2]: 1}, disabled, "port state changes announced by the bridge")
	assert.Equal(t, []string{names[3]}, vethsLeft(t, h, names))
	last, err := h.LinkByName(names[3])
	require.NoError(t, err)
	assert.Equal(t, br.Attrs().Index, last.Attrs().MasterIndex, "%s is still a port of br0", names[3])
}
