package ipam

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPool6: ::0 reserved, ::1 then ::2 …, released addresses first, a
// range, Request anywhere in the subnet, and Docker 29's status.
func TestPool6(t *testing.T) {
	p, err := NewPool6(netip.MustParsePrefix("fd00:db8:1::/64"), netip.Prefix{})
	require.NoError(t, err)
	for _, want := range []string{"fd00:db8:1::1", "fd00:db8:1::2", "fd00:db8:1::3"} {
		a, err := p.RequestAny()
		require.NoError(t, err)
		assert.Equal(t, want, a.String())
	}
	p.Release(netip.MustParseAddr("fd00:db8:1::2"))
	a, _ := p.RequestAny()
	assert.Equal(t, "fd00:db8:1::2", a.String(), "a released address is the next one")
	assert.ErrorIs(t, p.Request(netip.MustParseAddr("fd00:db8:1::3")), ErrIPAlreadyAllocated)
	assert.ErrorIs(t, p.Request(netip.MustParseAddr("fd00:db8:2::3")), ErrIPOutOfRange)
	assert.ErrorIs(t, p.Request(netip.MustParseAddr("fd00:db8:1::")), ErrIPAlreadyAllocated, "::0 is reserved")
	inUse, avail := p.Status()
	assert.Equal(t, uint64(4), inUse)
	assert.Equal(t, uint64(math.MaxUint64-3), avail, "2^64 less the 4 in use")

	r, err := NewPool6(netip.MustParsePrefix("fd00:db8:2::/64"), netip.MustParsePrefix("fd00:db8:2::100/126"))
	require.NoError(t, err)
	var got []string
	for {
		a, err := r.RequestAny()
		if errors.Is(err, ErrNoAvailableIPs) {
			break
		}
		require.NoError(t, err)
		got = append(got, a.String())
	}
	assert.Equal(t, []string{"fd00:db8:2::100", "fd00:db8:2::101", "fd00:db8:2::102", "fd00:db8:2::103"}, got)
	inUse, avail = r.Status()
	assert.Equal(t, []uint64{5, 0}, []uint64{inUse, avail})

	_, err = NewPool6(netip.MustParsePrefix("fd00:db8:1::1/64"), netip.Prefix{})
	assert.EqualError(t, err, "invalid subnet fd00:db8:1::1/64: it should be fd00:db8:1::/64")
}

// TestULA: Docker's derivation (fd and the low 40 bits of the first 8
// bytes of SHA-256), a /48 cut into /64s first fit, and subnets given
// beside it.
func TestULA(t *testing.T) {
	base := ULABase("lab")
	assert.Equal(t, 48, base.Bits())
	assert.Equal(t, byte(0xfd), base.Addr().As16()[0])
	assert.Equal(t, base, ULABase("lab"), "stable for one host ID")
	assert.NotEqual(t, base, ULABase("another"))

	s := &Spaces6{Base: base}
	first, err := s.Allocate()
	require.NoError(t, err)
	assert.Equal(t, netip.PrefixFrom(base.Addr(), 64), first)
	second, _ := s.Allocate()
	b := base.Addr().As16()
	b[7] = 1
	assert.Equal(t, netip.PrefixFrom(netip.AddrFrom16(b), 64), second, "the next /64")
	s.Release(first)
	again, _ := s.Allocate()
	assert.Equal(t, first, again, "a released subnet is the next one")

	assert.NoError(t, s.Reserve(netip.MustParsePrefix("fd00:db8:1::/64")))
	assert.ErrorIs(t, s.Reserve(netip.MustParsePrefix("fd00:db8:1::/80")), ErrPoolOverlap)
	_, err = (&Spaces6{}).Allocate()
	assert.ErrorIs(t, err, ErrNoIPv6Pool, "no IPv6 pool before 27")
}

// TestNet6: a network's IPv6 side, given or from the pool, its gateway,
// and the daemon's refusals; the default bridge's.
func TestNet6(t *testing.T) {
	s := &Spaces6{Base: ULABase("lab")}
	n, err := NewNet6(s, Request6{Subnet: netip.MustParsePrefix("fd00:db8:1::/64")})
	require.NoError(t, err)
	assert.Equal(t, "fd00:db8:1::1", n.Gateway.String())
	assert.True(t, n.UserSubnet)
	_, err = NewNet6(s, Request6{Subnet: netip.MustParsePrefix("fd00:db8:1::/64")})
	assert.EqualError(t, err, "invalid pool request: Pool overlaps with other one on this address space")
	_, err = NewNet6(s, Request6{Subnet: netip.MustParsePrefix("fd00:db8:2::/64"), Gateway: netip.MustParseAddr("fd00:db8:3::1")})
	assert.EqualError(t, err, "no matching subnet for gateway fd00:db8:3::1")
	assert.NoError(t, s.Reserve(netip.MustParsePrefix("fd00:db8:2::/64")), "a refused network keeps nothing")
	g, err := NewNet6(s, Request6{Subnet: netip.MustParsePrefix("fd00:db8:4::/64"), Gateway: netip.MustParseAddr("fd00:db8:4::fe"),
		IPRange: netip.MustParsePrefix("fd00:db8:4::100/120")})
	require.NoError(t, err)
	a, err := g.Take(netip.Addr{}, nil)
	require.NoError(t, err)
	assert.Equal(t, "fd00:db8:4::100", a.String())
	_, err = g.Take(netip.MustParseAddr("fd00:db8:4::fe"), nil)
	assert.ErrorIs(t, err, ErrIPAlreadyAllocated, "--ip6 of the gateway")
	auto, err := NewNet6(s, Request6{})
	require.NoError(t, err)
	assert.False(t, auto.UserSubnet)
	assert.Equal(t, s.Base.Addr().Next(), auto.Gateway)

	_, err = DefaultBridge6(s, netip.Prefix{}, false, true)
	assert.ErrorIs(t, err, ErrNoDefaultBridge6, "27 without --fixed-cidr-v6")
	d, err := DefaultBridge6(s, netip.MustParsePrefix("2001:db8:1::/64"), false, true)
	require.NoError(t, err)
	mac, _ := net.ParseMAC("02:42:ac:11:00:02")
	a, err = d.Take(netip.Addr{}, mac)
	require.NoError(t, err)
	assert.Equal(t, "2001:db8:1::242:ac11:2", a.String(), "27's MAC-derived address (docs: 2001:db8:1::242:ac12:2)")
	f, err := d.Fresh(&Spaces6{})
	require.NoError(t, err)
	assert.Equal(t, []any{d.Subnet, d.Gateway}, []any{f.Subnet, f.Gateway}, "restored by the next engine")
}
