package ipam

import (
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func allocate(t *testing.T, s *Spaces, reserved ...string) string {
	t.Helper()
	var rs []netip.Prefix
	for _, r := range reserved {
		rs = append(rs, pfx(r))
	}
	p, err := s.Allocate(rs)
	require.NoError(t, err)
	return p.String()
}

func TestSpacesFirstFit(t *testing.T) {
	s := NewSpaces()
	require.Equal(t, "172.17.0.0/16", allocate(t, s)) // docker0
	require.Equal(t, "172.18.0.0/16", allocate(t, s))
	require.Equal(t, "172.19.0.0/16", allocate(t, s))
	// Docker 27+: the lowest free subnet, so a released one comes back.
	require.NoError(t, s.Release(pfx("172.18.0.0/16")))
	require.Equal(t, "172.18.0.0/16", allocate(t, s))
	require.Equal(t, "172.20.0.0/16", allocate(t, s))
	require.Equal(t, []netip.Prefix{pfx("172.17.0.0/16"), pfx("172.18.0.0/16"), pfx("172.19.0.0/16"), pfx("172.20.0.0/16")}, s.Allocated())
}

func TestSpacesSkipOverlaps(t *testing.T) {
	s := NewSpaces()
	// A user network inside a default pool, and host routes.
	require.NoError(t, s.Reserve(pfx("172.18.5.0/24")))
	require.Equal(t, "172.19.0.0/16", allocate(t, s, "172.17.0.0/24", "10.0.0.0/8", "fd00::/64"))
	require.Equal(t, "172.17.0.0/16", allocate(t, s))
	// A reserved prefix covering several defaults.
	require.Equal(t, "172.24.0.0/16", allocate(t, s, "172.20.0.0/14"))
	// A host on 172.16.0.0/12 leaves only 192.168.
	require.Equal(t, "192.168.0.0/20", allocate(t, s, "172.16.0.0/12"))
	require.Equal(t, "192.168.32.0/20", allocate(t, s, "172.16.0.0/12", "192.168.16.1/32"))
	require.Equal(t, "192.168.16.0/20", allocate(t, s, "172.16.0.0/12"))
}

func TestSpacesExhaustion(t *testing.T) {
	s := NewSpaces()
	var got []string
	for range 31 {
		got = append(got, allocate(t, s))
	}
	require.Equal(t, "172.17.0.0/16", got[0])
	require.Equal(t, "172.31.0.0/16", got[14])
	require.Equal(t, "192.168.0.0/20", got[15])
	require.Equal(t, "192.168.16.0/20", got[16])
	require.Equal(t, "192.168.240.0/20", got[30])
	_, err := s.Allocate(nil)
	require.ErrorIs(t, err, ErrPoolsExhausted)
	require.EqualError(t, err, "all predefined address pools have been fully subnetted")

	require.NoError(t, s.Release(pfx("192.168.64.0/20")))
	require.Equal(t, "192.168.64.0/20", allocate(t, s))
}

func TestSpacesReserve(t *testing.T) {
	s := NewSpaces()
	require.Equal(t, "172.17.0.0/16", allocate(t, s))
	require.NoError(t, s.Reserve(pfx("10.2.2.1/16"))) // --bip, masked
	require.Contains(t, s.Allocated(), pfx("10.2.0.0/16"))

	const overlap = "invalid pool request: Pool overlaps with other one on this address space"
	for _, p := range []string{"172.17.0.0/16", "172.17.5.0/24", "172.16.0.0/12", "10.2.3.0/24", "0.0.0.0/0"} {
		err := s.Reserve(pfx(p))
		require.EqualError(t, err, overlap, p)
		require.ErrorIs(t, err, ErrPoolOverlap, p)
	}
	require.NoError(t, s.Reserve(pfx("10.3.0.0/16")))

	require.Error(t, s.Reserve(pfx("fd00::/64")))
	require.Error(t, s.Reserve(netip.Prefix{}))
}

func TestSpacesRelease(t *testing.T) {
	s := NewSpaces()
	require.ErrorIs(t, s.Release(pfx("172.17.0.0/16")), ErrPoolNotFound)
	require.NoError(t, s.Reserve(pfx("10.0.0.0/24")))
	require.ErrorIs(t, s.Release(pfx("10.0.0.0/25")), ErrPoolNotFound)
	require.NoError(t, s.Release(pfx("10.0.0.9/24")))
	require.Empty(t, s.Allocated())
	require.EqualError(t, s.Release(pfx("10.0.0.0/24")), "address space does not contain specified address pool")
}

func TestSpacesConcurrent(t *testing.T) {
	s := NewSpaces()
	got := make([]netip.Prefix, 31)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			got[i], _ = s.Allocate(nil)
		})
	}
	wg.Wait()
	seen := map[netip.Prefix]bool{}
	for _, p := range got {
		require.True(t, p.IsValid())
		require.False(t, seen[p])
		seen[p] = true
	}
}
