package testkit

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/labrun/labrun/netkit/netns"
)

// NSOptions says how NewNS prepares a namespace. The zero value is a
// namespace as the kernel makes it: lo down, IPv6 on.
type NSOptions struct {
	// LoopbackUp sets lo up.
	LoopbackUp bool
	// NoIPv6 turns IPv6 off on every link, present and future, so that no
	// router solicitation or MLD report lands in a capture.
	NoIPv6 bool
}

// NewNS returns a fresh network namespace, closed when the test ends, or
// skips the test when this process cannot make one.
//
// Equivalent to: ip netns add NAME; sysctl -w net.ipv6.conf.{all,default}.disable_ipv6=1; ip link set lo up
func NewNS(t testing.TB, opts NSOptions) *netns.NS {
	t.Helper()
	RequireNetAdmin(t)
	ns, err := netns.New()
	require.NoError(t, err, "making a network namespace")
	t.Cleanup(func() { ns.Close() })
	if opts.NoIPv6 {
		for _, k := range []string{"net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6"} {
			require.NoError(t, ns.WriteSysctl(k, "1"))
		}
	}
	if opts.LoopbackUp {
		h := Handle(t, ns)
		lo, err := h.LinkByName("lo")
		require.NoError(t, err)
		require.NoError(t, h.LinkSetUp(lo), "setting lo up")
	}
	return ns
}

// Handle returns a netlink handle bound to ns, closed when the test ends.
func Handle(t testing.TB, ns *netns.NS) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(ns.Handle())
	require.NoError(t, err, "opening a netlink handle")
	t.Cleanup(h.Close)
	return h
}
