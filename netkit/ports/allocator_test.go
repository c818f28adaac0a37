package ports

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func requestN(t *testing.T, a *Allocator, ip netip.Addr, proto Proto, n int) []uint16 {
	t.Helper()
	var got []uint16
	for range n {
		p, err := a.Request(ip, proto, 0)
		require.NoError(t, err)
		got = append(got, p)
	}
	return got
}

func TestParseLocalPortRange(t *testing.T) {
	for _, tt := range []struct {
		in         string
		begin, end uint16
	}{
		{"32768\t60999\n", 32768, 60999},
		{"1024 65535", 1024, 65535},
		{"  40000\t40000  ", 40000, 40000},
	} {
		b, e, err := ParseLocalPortRange(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, [2]uint16{tt.begin, tt.end}, [2]uint16{b, e}, tt.in)
	}
	for _, in := range []string{"", "32768", "32768\t60999\t1", "a\tb", "60999\t32768", "0\t100", "70000\t80000", "-1\t5"} {
		_, _, err := ParseLocalPortRange(in)
		require.Error(t, err, in)
	}
}

func TestNewAllocatorFallback(t *testing.T) {
	for _, r := range [][2]uint16{{0, 0}, {0, 100}, {200, 100}} {
		b, e := NewAllocator(r[0], r[1]).Range()
		require.Equal(t, [2]uint16{FallbackBegin, FallbackEnd}, [2]uint16{b, e})
	}
	b, e := NewAllocator(32768, 60999).Range()
	require.Equal(t, [2]uint16{32768, 60999}, [2]uint16{b, e})
}

func TestEphemeralOrder(t *testing.T) {
	a := NewAllocator(32768, 60999)
	require.Equal(t, []uint16{32768, 32769, 32770}, requestN(t, a, any4, TCP, 3))

	// A released port is not handed out again until the scan wraps.
	a.Release(any4, TCP, 32768)
	a.Release(any4, TCP, 32770)
	require.Equal(t, []uint16{32771, 32772}, requestN(t, a, any4, TCP, 2))

	// Each protocol and each address has its own table and last port.
	require.Equal(t, []uint16{32768}, requestN(t, a, any4, UDP, 1))
	require.Equal(t, []uint16{32768}, requestN(t, a, any4, SCTP, 1))
	require.Equal(t, []uint16{32768, 32769}, requestN(t, a, lo4, TCP, 2))
	require.Equal(t, []uint16{32768}, requestN(t, a, any6, TCP, 1))
}

func TestEphemeralWrap(t *testing.T) {
	a := NewAllocator(100, 102)
	require.Equal(t, []uint16{100, 101, 102}, requestN(t, a, any4, TCP, 3))
	_, err := a.Request(any4, TCP, 0)
	require.ErrorIs(t, err, ErrAllPortsAllocated)
	require.EqualError(t, err, "all ports are allocated")

	a.Release(any4, TCP, 101)
	require.Equal(t, []uint16{101}, requestN(t, a, any4, TCP, 1))
	a.Release(any4, TCP, 100)
	a.Release(any4, TCP, 102)
	// last is 101: the scan goes on at 102, then wraps to 100.
	require.Equal(t, []uint16{102, 100}, requestN(t, a, any4, TCP, 2))
}

func TestEphemeralSkipsExactPorts(t *testing.T) {
	a := NewAllocator(32768, 60999)
	_, err := a.Request(any4, TCP, 32769)
	require.NoError(t, err)
	require.Equal(t, []uint16{32768, 32770}, requestN(t, a, any4, TCP, 2))
}

func TestExactPortConflict(t *testing.T) {
	a := NewAllocator(32768, 60999)
	p, err := a.Request(any4, TCP, 8080)
	require.NoError(t, err)
	require.Equal(t, uint16(8080), p)

	_, err = a.Request(any4, TCP, 8080)
	require.EqualError(t, err, "Bind for 0.0.0.0:8080 failed: port is already allocated")
	require.ErrorIs(t, err, ErrPortAllocated)
	var ae *AllocatedError
	require.True(t, errors.As(err, &ae))
	require.Equal(t, AllocatedError{IP: any4, Port: 8080}, *ae)

	// The zero Addr is 0.0.0.0, and an IPv4-mapped address is its IPv4
	// address.
	_, err = a.Request(netip.Addr{}, TCP, 8080)
	require.EqualError(t, err, "Bind for 0.0.0.0:8080 failed: port is already allocated")
	_, err = a.Request(lo4, TCP, 9090)
	require.NoError(t, err)
	_, err = a.Request(netip.MustParseAddr("::ffff:127.0.0.1"), TCP, 9090)
	require.EqualError(t, err, "Bind for 127.0.0.1:9090 failed: port is already allocated")

	// Docker prints IPv6 addresses without brackets.
	_, err = a.Request(any6, TCP, 8080)
	require.NoError(t, err)
	_, err = a.Request(any6, TCP, 8080)
	require.EqualError(t, err, "Bind for :::8080 failed: port is already allocated")

	// 27-era tables are per address and per protocol.
	_, err = a.Request(lo4, TCP, 8080)
	require.NoError(t, err)
	_, err = a.Request(any4, UDP, 8080)
	require.NoError(t, err)

	// Released, the port can be taken again.
	a.Release(any4, TCP, 8080)
	_, err = a.Request(any4, TCP, 8080)
	require.NoError(t, err)
}

func TestHostRange(t *testing.T) {
	// integration-cli TestPortList: three runs with -p 9090-9092:80 get
	// 9090, 9091, 9092; the fourth fails.
	a := NewAllocator(32768, 60999)
	for _, want := range []uint16{9090, 9091, 9092} {
		p, err := a.RequestRange(any4, TCP, 9090, 9092)
		require.NoError(t, err)
		require.Equal(t, want, p)
	}
	_, err := a.RequestRange(any4, TCP, 9090, 9092)
	require.ErrorIs(t, err, ErrAllPortsAllocated)

	// The range's own last port: a released port waits for the wrap.
	a.Release(any4, TCP, 9090)
	a.Release(any4, TCP, 9091)
	p, err := a.RequestRange(any4, TCP, 9090, 9092)
	require.NoError(t, err)
	require.Equal(t, uint16(9090), p) // wrapped after 9092
	p, err = a.RequestRange(any4, TCP, 9090, 9092)
	require.NoError(t, err)
	require.Equal(t, uint16(9091), p)

	// Another range over the same ports starts at its own beginning and
	// skips what is taken.
	a.Release(any4, TCP, 9092)
	p, err = a.RequestRange(any4, TCP, 9091, 9095)
	require.NoError(t, err)
	require.Equal(t, uint16(9092), p)

	// Ranges do not move the ephemeral range's last port.
	require.Equal(t, []uint16{32768}, requestN(t, a, any4, TCP, 1))
}

func TestHostRangeAfterExactPort(t *testing.T) {
	a := NewAllocator(32768, 60999)
	_, err := a.Request(any4, TCP, 8001)
	require.NoError(t, err)
	var got []uint16
	for range 2 {
		p, err := a.RequestRange(any4, TCP, 8000, 8002)
		require.NoError(t, err)
		got = append(got, p)
	}
	require.Equal(t, []uint16{8000, 8002}, got)
}

func TestInvalidRequests(t *testing.T) {
	a := NewAllocator(32768, 60999)
	for _, r := range [][2]uint16{{0, 10}, {10, 0}, {10, 5}} {
		_, err := a.RequestRange(any4, TCP, r[0], r[1])
		require.EqualError(t, err, fmt.Sprintf("invalid port range: %d-%d", r[0], r[1]))
	}
	_, err := a.Request(any4, "icmp", 0)
	require.ErrorIs(t, err, ErrUnknownProtocol)
	require.EqualError(t, err, "unknown protocol")
	_, err = a.RequestSame(nil, TCP, 0, 0)
	require.EqualError(t, err, "no IP addresses specified")
	// Releasing what was never allocated is harmless.
	a.Release(lo6, UDP, 1)
	a.Release(lo6, "icmp", 1)
}

func TestRequestSame(t *testing.T) {
	a := NewAllocator(32768, 60999)
	both := []netip.Addr{any4, any6}

	p, err := a.RequestSame(both, TCP, 0, 0)
	require.NoError(t, err)
	require.Equal(t, uint16(32768), p)

	// :: alone continues after its own last port.
	require.Equal(t, []uint16{32769}, requestN(t, a, any6, TCP, 1))
	_, err = a.Request(any6, TCP, 32770)
	require.NoError(t, err)

	// The scan follows 0.0.0.0's last port (32768) but needs a port free
	// on both addresses.
	p, err = a.RequestSame(both, TCP, 0, 0)
	require.NoError(t, err)
	require.Equal(t, uint16(32771), p)
	// Both ranges' last ports moved to it.
	// (Each table only knows its own ports: 0.0.0.0 can take 32772 too.)
	require.Equal(t, []uint16{32772}, requestN(t, a, any6, TCP, 1))
	require.Equal(t, []uint16{32772}, requestN(t, a, any4, TCP, 1))
}

func TestRequestSameExact(t *testing.T) {
	a := NewAllocator(32768, 60999)
	_, err := a.Request(any6, TCP, 8080)
	require.NoError(t, err)

	_, err = a.RequestSame([]netip.Addr{any4, any6}, TCP, 8080, 8080)
	require.EqualError(t, err, "Bind for :::8080 failed: port is already allocated")
	// Nothing was taken on 0.0.0.0.
	_, err = a.Request(any4, TCP, 8080)
	require.NoError(t, err)

	p, err := a.RequestSame([]netip.Addr{any4, any6}, UDP, 8080, 8080)
	require.NoError(t, err)
	require.Equal(t, uint16(8080), p)
	_, err = a.Request(any4, UDP, 8080)
	require.ErrorIs(t, err, ErrPortAllocated)
	_, err = a.Request(any6, UDP, 8080)
	require.ErrorIs(t, err, ErrPortAllocated)
}

func TestRequestSameRange(t *testing.T) {
	a := NewAllocator(32768, 60999)
	_, err := a.Request(any6, TCP, 8000)
	require.NoError(t, err)
	p, err := a.RequestSame([]netip.Addr{any4, any6}, TCP, 8000, 8010)
	require.NoError(t, err)
	require.Equal(t, uint16(8001), p)
}

func TestAllocatorConcurrent(t *testing.T) {
	const n = 200
	a := NewAllocator(40000, 40000+n-1)
	var wg sync.WaitGroup
	got := make([]uint16, n)
	for i := range n {
		wg.Go(func() {
			p, err := a.RequestSame([]netip.Addr{any4, any6}, TCP, 0, 0)
			if err == nil {
				got[i] = p
			}
		})
	}
	wg.Wait()
	seen := map[uint16]bool{}
	for _, p := range got {
		require.NotZero(t, p)
		require.False(t, seen[p], "port %d handed out twice", p)
		seen[p] = true
	}
	_, err := a.Request(any4, TCP, 0)
	require.ErrorIs(t, err, ErrAllPortsAllocated)
}

func BenchmarkAllocatorRequest(b *testing.B) {
	for b.Loop() {
		a := NewAllocator(32768, 60999)
		for range 1000 {
			if _, err := a.RequestSame([]netip.Addr{any4, any6}, TCP, 0, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
}
