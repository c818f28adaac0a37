package ipam

import (
	"errors"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
)

func newPool(t testing.TB, subnet, ipRange string) *Pool {
	t.Helper()
	var r netip.Prefix
	if ipRange != "" {
		r = pfx(ipRange)
	}
	p, err := NewPool(pfx(subnet), r)
	require.NoError(t, err)
	return p
}

func requestAny(t testing.TB, p *Pool, n int) []string {
	t.Helper()
	var got []string
	for range n {
		a, err := p.RequestAny()
		require.NoError(t, err)
		got = append(got, a.String())
	}
	return got
}

func TestDefaultBridge(t *testing.T) {
	// docker0: 172.17.0.0/16, gateway .1 (the IPAM's lowest free
	// address), containers .2, .3, …
	p := newPool(t, "172.17.0.0/16", "")
	require.Equal(t, 2, p.InUse()) // network and broadcast
	require.Equal(t, 65534, p.DynamicAvailable())

	require.Equal(t, []string{"172.17.0.1"}, requestAny(t, p, 1))
	require.Equal(t, []string{"172.17.0.2"}, requestAny(t, p, 1))
	// docs/docker.md §5.1: one container → IPsInUse 4, DynamicIPsAvailable 65532.
	require.Equal(t, 4, p.InUse())
	require.Equal(t, 65532, p.DynamicAvailable())

	require.Equal(t, []string{"172.17.0.3", "172.17.0.4"}, requestAny(t, p, 2))
	// A released address is handed out again first (non-serial).
	require.NoError(t, p.Release(addr("172.17.0.3")))
	require.NoError(t, p.Release(addr("172.17.0.2")))
	require.Equal(t, []string{"172.17.0.2", "172.17.0.3", "172.17.0.5"}, requestAny(t, p, 3))
}

func TestExplicitGateway(t *testing.T) {
	p := newPool(t, "192.168.0.0/24", "")
	require.NoError(t, p.Request(addr("192.168.0.254")))
	require.Equal(t, []string{"192.168.0.1", "192.168.0.2"}, requestAny(t, p, 2))
}

func TestFixedCIDR(t *testing.T) {
	// --bip 10.2.2.1/16 --fixed-cidr 10.2.2.0/24: the bridge takes
	// 10.2.2.1; the range's first address is not the subnet's network
	// address, so the first container gets 10.2.2.0, the second 10.2.2.2
	// (integration-cli TestDaemonBridgeFixedCidr2).
	p := newPool(t, "10.2.0.0/16", "10.2.2.0/24")
	require.NoError(t, p.Request(addr("10.2.2.1")))
	require.Equal(t, []string{"10.2.2.0", "10.2.2.2"}, requestAny(t, p, 2))
	// In use: 10.2.0.0, 10.2.255.255, the gateway and two containers.
	require.Equal(t, 5, p.InUse())
	require.Equal(t, 256-3, p.DynamicAvailable())

	// The range's last address is usable too.
	requestAny(t, p, 252)
	require.Equal(t, []string{"10.2.2.255"}, requestAny(t, p, 1))
	_, err := p.RequestAny()
	require.ErrorIs(t, err, ErrNoAvailableIPs)
	require.Equal(t, 0, p.DynamicAvailable())

	// Addresses outside the range can still be requested by name.
	require.NoError(t, p.Request(addr("10.2.3.7")))
	require.Equal(t, 256+2+1, p.InUse())
	require.Equal(t, 0, p.DynamicAvailable())
}

func TestRangeAtSubnetStart(t *testing.T) {
	// The subnet's network address stays reserved inside a range.
	p := newPool(t, "10.0.0.0/24", "10.0.0.0/28")
	require.Equal(t, 15, p.DynamicAvailable())
	require.Equal(t, []string{"10.0.0.1", "10.0.0.2"}, requestAny(t, p, 2))
	require.Equal(t, 13, p.DynamicAvailable())
	require.Equal(t, 4, p.InUse())

	q := newPool(t, "10.0.0.0/24", "10.0.0.240/28")
	require.Equal(t, 15, q.DynamicAvailable())
	got := requestAny(t, q, 15)
	require.Equal(t, "10.0.0.240", got[0])
	require.Equal(t, "10.0.0.254", got[14])
	_, err := q.RequestAny() // 10.0.0.255 is the broadcast address
	require.ErrorIs(t, err, ErrNoAvailableIPs)
}

func TestExhaustion(t *testing.T) {
	p := newPool(t, "192.168.5.0/30", "")
	require.Equal(t, []string{"192.168.5.1", "192.168.5.2"}, requestAny(t, p, 2))
	_, err := p.RequestAny()
	require.ErrorIs(t, err, ErrNoAvailableIPs)
	require.EqualError(t, err, "no available addresses on this pool")
	require.Equal(t, 4, p.InUse())
	require.Equal(t, 0, p.DynamicAvailable())
	_, err = p.RequestAny()
	require.ErrorIs(t, err, ErrNoAvailableIPs)

	require.NoError(t, p.Release(addr("192.168.5.1")))
	require.Equal(t, []string{"192.168.5.1"}, requestAny(t, p, 1))
}

func TestPointToPoint(t *testing.T) {
	// RFC 3021: a /31 has no network or broadcast address; a /32 is one
	// address.
	p := newPool(t, "10.9.0.0/31", "")
	require.Equal(t, 0, p.InUse())
	require.Equal(t, []string{"10.9.0.0", "10.9.0.1"}, requestAny(t, p, 2))
	_, err := p.RequestAny()
	require.ErrorIs(t, err, ErrNoAvailableIPs)
	require.NoError(t, p.Release(addr("10.9.0.0")))

	q := newPool(t, "10.9.0.7/32", "")
	require.Equal(t, 1, q.DynamicAvailable())
	require.Equal(t, []string{"10.9.0.7"}, requestAny(t, q, 1))
	_, err = q.RequestAny()
	require.ErrorIs(t, err, ErrNoAvailableIPs)
}

func TestRequest(t *testing.T) {
	p := newPool(t, "172.18.0.0/16", "")
	require.NoError(t, p.Request(addr("172.18.0.10")))
	require.True(t, p.IsAllocated(addr("172.18.0.10")))

	err := p.Request(addr("172.18.0.10"))
	require.ErrorIs(t, err, ErrIPAlreadyAllocated)
	require.EqualError(t, err, "Address already in use")
	// The reserved addresses are in use.
	require.ErrorIs(t, p.Request(addr("172.18.0.0")), ErrIPAlreadyAllocated)
	require.ErrorIs(t, p.Request(addr("172.18.255.255")), ErrIPAlreadyAllocated)

	err = p.Request(addr("172.19.0.1"))
	require.ErrorIs(t, err, ErrIPOutOfRange)
	require.EqualError(t, err, "requested address is out of range")
	require.ErrorIs(t, p.Request(addr("fd00::1")), ErrIPOutOfRange)
	require.EqualError(t, p.Request(netip.Addr{}), "invalid address")

	// IPv4-mapped addresses count as IPv4.
	require.ErrorIs(t, p.Request(addr("::ffff:172.18.0.10")), ErrIPAlreadyAllocated)
	require.NoError(t, p.Request(addr("::ffff:172.18.0.11")))
	require.True(t, p.IsAllocated(addr("172.18.0.11")))

	// RequestAny skips what was taken by name.
	require.Equal(t, []string{"172.18.0.1", "172.18.0.2"}, requestAny(t, p, 2))
}

func TestRelease(t *testing.T) {
	p := newPool(t, "172.18.0.0/16", "")
	require.NoError(t, p.Request(addr("172.18.0.5")))
	require.NoError(t, p.Release(addr("172.18.0.5")))
	require.False(t, p.IsAllocated(addr("172.18.0.5")))
	// Idempotent.
	require.NoError(t, p.Release(addr("172.18.0.5")))
	require.Equal(t, 2, p.InUse())

	require.ErrorIs(t, p.Release(addr("10.0.0.1")), ErrIPOutOfRange)
	require.EqualError(t, p.Release(netip.Addr{}), "invalid address")
	require.EqualError(t, p.Release(addr("172.18.0.0")), "releasing 172.18.0.0: reserved address of 172.18.0.0/16")
	require.Error(t, p.Release(addr("172.18.255.255")))
	require.True(t, p.IsAllocated(addr("172.18.255.255")))
}

func TestPoolAccessors(t *testing.T) {
	p := newPool(t, "10.2.0.0/16", "10.2.2.0/24")
	require.Equal(t, pfx("10.2.0.0/16"), p.Subnet())
	require.Equal(t, pfx("10.2.2.0/24"), p.IPRange())
	require.True(t, p.Contains(addr("10.2.200.1")))
	require.True(t, p.Contains(addr("::ffff:10.2.0.1")))
	require.False(t, p.Contains(addr("10.3.0.1")))
	require.False(t, p.IsAllocated(addr("10.3.0.1")))
	require.Equal(t, netip.Prefix{}, newPool(t, "10.2.0.0/16", "").IPRange())
}

func TestNewPoolErrors(t *testing.T) {
	tests := []struct {
		subnet, ipRange netip.Prefix
		msg             string
	}{
		{netip.Prefix{}, netip.Prefix{}, "invalid subnet invalid Prefix: invalid CIDR block notation"},
		{pfx("fd00::/64"), netip.Prefix{}, "invalid subnet fd00::/64: only IPv4 subnets are supported"},
		{pfx("::ffff:10.0.0.0/120"), netip.Prefix{}, "invalid subnet ::ffff:10.0.0.0/120: only IPv4 subnets are supported"},
		{pfx("10.0.0.1/24"), netip.Prefix{}, "invalid subnet 10.0.0.1/24: it should be 10.0.0.0/24"},
		{pfx("10.0.0.0/24"), pfx("fd00::/64"), "invalid ip-range fd00::/64: parent subnet is an IPv4 block"},
		{pfx("10.0.0.0/24"), pfx("10.0.0.0/16"), "invalid ip-range 10.0.0.0/16: CIDR block is bigger than its parent subnet 10.0.0.0/24"},
		{pfx("10.0.0.0/24"), pfx("10.0.0.5/28"), "invalid ip-range 10.0.0.5/28: it should be 10.0.0.0/28"},
		{pfx("10.0.0.0/24"), pfx("10.0.1.0/28"), "invalid ip-range 10.0.1.0/28: parent subnet 10.0.0.0/24 doesn't contain ip-range"},
		{pfx("10.0.0.0/24"), pfx("10.1.0.0/16"), "invalid ip-range 10.1.0.0/16: CIDR block is bigger than its parent subnet 10.0.0.0/24\n" +
			"invalid ip-range 10.1.0.0/16: parent subnet 10.0.0.0/24 doesn't contain ip-range"},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			p, err := NewPool(tt.subnet, tt.ipRange)
			require.Nil(t, p)
			require.EqualError(t, err, tt.msg)
		})
	}
}

func TestLargePool(t *testing.T) {
	// A /8 crosses many bitmap chunks; sequential allocation stays cheap.
	p := newPool(t, "10.0.0.0/8", "")
	const n = 3 * chunkBits
	var last netip.Addr
	for i := range n {
		a, err := p.RequestAny()
		require.NoError(t, err)
		if i == 0 {
			require.Equal(t, addr("10.0.0.1"), a)
		} else {
			require.Equal(t, last.Next(), a)
		}
		last = a
	}
	require.Equal(t, addr("10.3.0.0"), last)
	require.Equal(t, n+2, p.InUse())
	require.Equal(t, 1<<24-n-2, p.DynamicAvailable())

	// Holes are filled lowest first, across chunks.
	for _, s := range []string{"10.2.0.5", "10.0.3.1", "10.1.255.255"} {
		require.NoError(t, p.Release(addr(s)))
	}
	require.Equal(t, []string{"10.0.3.1", "10.1.255.255", "10.2.0.5", "10.3.0.1"}, requestAny(t, p, 4))
}

func TestFullChunkInRange(t *testing.T) {
	// Fill the first bitmap chunk (10.0.0.0–10.0.255.255) behind the
	// counters' back. A range inside it has nothing free; a range that
	// goes on into the next chunk continues there.
	p := newPool(t, "10.0.0.0/8", "10.0.255.0/24")
	for off := range uint64(chunkBits) {
		p.set.add(off)
	}
	_, err := p.RequestAny()
	require.ErrorIs(t, err, ErrNoAvailableIPs)
	q := newPool(t, "10.0.0.0/8", "10.0.0.0/15")
	for off := range uint64(chunkBits) {
		q.set.add(off)
	}
	require.Equal(t, []string{"10.1.0.0"}, requestAny(t, q, 1))
}

func TestPoolConcurrent(t *testing.T) {
	p := newPool(t, "10.0.0.0/22", "")
	const n = 1022
	got := make([]netip.Addr, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, err := p.RequestAny()
			if err == nil {
				got[i] = a
			}
		})
	}
	wg.Wait()
	seen := map[netip.Addr]bool{}
	for _, a := range got {
		require.True(t, a.IsValid())
		require.False(t, seen[a], "%v handed out twice", a)
		seen[a] = true
	}
	_, err := p.RequestAny()
	require.True(t, errors.Is(err, ErrNoAvailableIPs))
	require.Equal(t, 1024, p.InUse())
}

func BenchmarkPoolRequestAny(b *testing.B) {
	for b.Loop() {
		p, err := NewPool(pfx("172.17.0.0/16"), netip.Prefix{})
		if err != nil {
			b.Fatal(err)
		}
		for range 1000 {
			if _, err := p.RequestAny(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkPoolRequestAnyReuse(b *testing.B) {
	// A /16 with 1000 containers, one leaving and another arriving.
	p, err := NewPool(pfx("172.17.0.0/16"), netip.Prefix{})
	if err != nil {
		b.Fatal(err)
	}
	addrs := make([]netip.Addr, 1000)
	for i := range addrs {
		addrs[i], _ = p.RequestAny()
	}
	i := 0
	for b.Loop() {
		i = (i + 7) % len(addrs)
		if err := p.Release(addrs[i]); err != nil {
			b.Fatal(err)
		}
		if addrs[i], err = p.RequestAny(); err != nil {
			b.Fatal(err)
		}
	}
}
