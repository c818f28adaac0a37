package ipam

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// defaultPools are Docker's local-scope default address pools
// (ipamutils/utils.go), in order: each base prefix is cut into subnets of
// the given size.
var defaultPools = []struct {
	base netip.Prefix
	size int
}{
	{netip.MustParsePrefix("172.17.0.0/16"), 16},
	{netip.MustParsePrefix("172.18.0.0/16"), 16},
	{netip.MustParsePrefix("172.19.0.0/16"), 16},
	{netip.MustParsePrefix("172.20.0.0/14"), 16},
	{netip.MustParsePrefix("172.24.0.0/14"), 16},
	{netip.MustParsePrefix("172.28.0.0/14"), 16},
	{netip.MustParsePrefix("192.168.0.0/16"), 20},
}

// Spaces tracks the IPv4 subnets of all networks and picks the subnet of a
// new one, as Docker 27+'s default IPAM does for the local address space
// (defaultipam address_space.go): first fit over the default pools
// 172.17.0.0/16 … 172.31.0.0/16, then 192.168.0.0/20, 192.168.16.0/20, …
// 192.168.240.0/20. So the default bridge gets 172.17.0.0/16, the first
// user network 172.18.0.0/16, and a released subnet is the next one given.
//
// Docker ≤26 went round-robin instead; that is not modelled. Neither is
// Docker's leniency for a --subnet given with --ip-range, which it does not
// check for overlap (moby#46756): Reserve always checks.
//
// The zero Spaces is empty and ready to use, like NewSpaces' result. Spaces
// is safe for concurrent use.
type Spaces struct {
	mu        sync.Mutex
	allocated []netip.Prefix // sorted by comparePrefix
}

// NewSpaces returns Spaces with Docker's default pools and no subnet
// allocated.
func NewSpaces() *Spaces { return &Spaces{} }

// Allocate picks and allocates the lowest default subnet that overlaps no
// allocated subnet and none of reserved (Docker passes the host's
// nameservers and on-link routes, netutils InferReservedNetworks; prefixes
// of other families are ignored). It returns ErrPoolsExhausted when every
// default subnet is taken.
func (s *Spaces) Allocate(reserved []netip.Prefix) (netip.Prefix, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pool := range defaultPools {
		step := size(netip.PrefixFrom(pool.base.Addr(), pool.size))
		end := uint64(addrUint(pool.base.Addr())) + size(pool.base) // one past the pool
		for next := uint64(addrUint(pool.base.Addr())); next < end; {
			cand := netip.PrefixFrom(uintAddr(uint32(next)), pool.size)
			o, ok := s.firstOverlap(cand, reserved)
			if !ok {
				s.insert(cand)
				return cand, nil
			}
			// Go on after whichever ends later: the candidate (o lies
			// inside it) or o (which covers it; the address after it is
			// aligned for the candidate's size).
			next = max(next+step, uint64(addrUint(o.Addr()))+size(o))
		}
	}
	return netip.Prefix{}, ErrPoolsExhausted
}

// firstOverlap returns an allocated or reserved prefix overlapping p.
func (s *Spaces) firstOverlap(p netip.Prefix, reserved []netip.Prefix) (netip.Prefix, bool) {
	for _, set := range [][]netip.Prefix{s.allocated, reserved} {
		for _, q := range set {
			if q.IsValid() && q.Addr().Is4() && q.Overlaps(p) {
				return q.Masked(), true
			}
		}
	}
	return netip.Prefix{}, false
}

// Reserve allocates a subnet given explicitly (--subnet, --bip,
// --fixed-cidr without --bip). The prefix is masked first, as Docker does.
// A subnet overlapping an allocated one is refused with Docker's
// "invalid pool request: Pool overlaps with other one on this address
// space", which matches ErrPoolOverlap with errors.Is.
func (s *Spaces) Reserve(p netip.Prefix) error {
	if !p.IsValid() || !p.Addr().Is4() {
		return fmt.Errorf("reserving %s: only IPv4 subnets are supported", p)
	}
	p = p.Masked()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.firstOverlap(p, nil); ok {
		// Docker: "invalid pool request: %v" (defaultipam RequestPool)
		// around ipamapi.ErrPoolOverlap.
		return fmt.Errorf("invalid pool request: %w", ErrPoolOverlap)
	}
	s.insert(p)
	return nil
}

// Release frees an allocated subnet (masked first). It returns
// ErrPoolNotFound for a subnet that is not allocated.
func (s *Spaces) Release(p netip.Prefix) error {
	p = p.Masked()
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := slices.BinarySearchFunc(s.allocated, p, comparePrefix)
	if !ok {
		return ErrPoolNotFound
	}
	s.allocated = slices.Delete(s.allocated, i, i+1)
	return nil
}

// Allocated returns the allocated subnets, in address order.
func (s *Spaces) Allocated() []netip.Prefix {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.allocated)
}

// insert adds p to the sorted list. Caller holds mu.
func (s *Spaces) insert(p netip.Prefix) {
	i, _ := slices.BinarySearchFunc(s.allocated, p, comparePrefix)
	s.allocated = slices.Insert(s.allocated, i, p)
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
