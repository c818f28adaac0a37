package ipam

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"sync"
)

// ErrNoIPv6Pool is the refusal of `docker network create --ipv6` without
// an IPv6 subnet by an engine that has no IPv6 default pool (up to 26:
// moby/moby v26.1.4 libnetwork/ipam/allocator.go).
var ErrNoIPv6Pool = errors.New("could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network")

// Pool6 allocates the addresses of one network's IPv6 subnet, as Docker's
// default IPAM does (moby/moby v28.5.2 libnetwork/ipams/defaultipam/
// allocator.go newPoolData): the subnet's first address, the
// Subnet-Router anycast address, is reserved, there is no broadcast
// address, RequestAny gives the lowest free address of the range (the IP
// range if one was given, else the subnet: ::1 for the gateway, then ::2,
// ::3, …, a released address first), and Request takes a given address
// anywhere in the subnet.
//
// The zero Pool6 is not usable; call NewPool6. A Pool6 is safe for
// concurrent use.
type Pool6 struct {
	subnet, ipRange netip.Prefix

	mu   sync.Mutex
	used map[netip.Addr]bool
	hint netip.Addr // no free address of the range below it
}

// NewPool6 returns the pool of the IPv6 subnet, handing out addresses from
// ipRange (--ip-range; the zero Prefix is the whole subnet). Both must be
// IPv6 prefixes in canonical form, ipRange inside subnet; the errors are
// those of Docker's network create (moby api ValidateIPAM).
func NewPool6(subnet, ipRange netip.Prefix) (*Pool6, error) {
	if !subnet.IsValid() || !subnet.Addr().Is6() || subnet.Addr().Is4In6() {
		return nil, fmt.Errorf("invalid subnet %s: invalid CIDR block notation", subnet)
	}
	if subnet != subnet.Masked() {
		return nil, fmt.Errorf("invalid subnet %s: it should be %s", subnet, subnet.Masked())
	}
	if ipRange.IsValid() {
		if err := rangeErrors(subnet, ipRange); err != nil {
			return nil, err
		}
	}
	p := &Pool6{subnet: subnet, ipRange: ipRange, used: map[netip.Addr]bool{subnet.Addr(): true}}
	p.hint = p.rangePrefix().Addr()
	return p, nil
}

// rangePrefix is where RequestAny takes addresses from.
func (p *Pool6) rangePrefix() netip.Prefix {
	if p.ipRange.IsValid() {
		return p.ipRange
	}
	return p.subnet
}

// Subnet returns the pool's subnet.
func (p *Pool6) Subnet() netip.Prefix { return p.subnet }

// IPRange returns the range given to NewPool6.
func (p *Pool6) IPRange() netip.Prefix { return p.ipRange }

// RequestAny allocates the lowest free address of the range, or returns
// ErrNoAvailableIPs.
func (p *Pool6) RequestAny() (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.rangePrefix()
	a := p.hint
	for a.IsValid() && r.Contains(a) && p.used[a] {
		a = a.Next()
	}
	if !a.IsValid() || !r.Contains(a) {
		return netip.Addr{}, ErrNoAvailableIPs
	}
	p.used[a] = true
	p.hint = a.Next()
	return a, nil
}

// Request allocates addr, which must be in the subnet (ErrIPOutOfRange)
// and free (ErrIPAlreadyAllocated).
func (p *Pool6) Request(addr netip.Addr) error {
	if !p.subnet.Contains(addr) {
		return ErrIPOutOfRange
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used[addr] {
		return ErrIPAlreadyAllocated
	}
	p.used[addr] = true
	return nil
}

// Release frees addr (not the reserved first address).
func (p *Pool6) Release(addr netip.Addr) {
	if addr == p.subnet.Addr() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used[addr] {
		delete(p.used, addr)
		if p.rangePrefix().Contains(addr) && addr.Less(p.hint) {
			p.hint = addr
		}
	}
}

// Status returns Docker 29's IPsInUse (every allocated address of the
// subnet, the reserved one included) and DynamicIPsAvailable (the range's
// size less its allocated addresses), saturated at the largest uint64
// (moby/moby v2.0.0-beta.24 daemon/libnetwork/ipams/defaultipam/
// address_space.go allocationStatus).
func (p *Pool6) Status() (inUse, available uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.rangePrefix()
	var inRange uint64
	for a := range p.used {
		if r.Contains(a) {
			inRange++
		}
	}
	hostBits := 128 - r.Bits()
	if hostBits >= 64 {
		// 2^hostBits - inRange, saturated.
		if hostBits > 64 || inRange == 0 {
			return uint64(len(p.used)), math.MaxUint64
		}
		return uint64(len(p.used)), math.MaxUint64 - inRange + 1
	}
	return uint64(len(p.used)), 1<<hostBits - inRange
}

// ULABase is the IPv6 default pool Docker 27+ derives from the engine's
// host ID: fd00::/8 with 40 bits of its SHA-256 as the global ID, a /48
// cut into /64s (moby/moby v28.5.2 daemon/daemon.go deriveULABaseNetwork).
func ULABase(hostID string) netip.Prefix {
	sum := sha256.Sum256([]byte(hostID))
	gid := binary.BigEndian.Uint64(sum[:8]) & (1<<40 - 1)
	var b [16]byte
	b[0] = 0xfd
	for i := range 5 {
		b[1+i] = byte(gid >> (8 * (4 - i)))
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), 48)
}

// Spaces6 tracks the IPv6 subnets of all networks and picks the subnet of
// a network created with --ipv6 and no IPv6 subnet: the lowest free /64
// of the ULA pool (ULABase), first fit as for IPv4 (Spaces). The zero
// Spaces6 has no default pool (Docker up to 26). It is safe for
// concurrent use.
type Spaces6 struct {
	// Base is the default pool, a /48 cut into /64s; the zero Prefix
	// when the release has none.
	Base netip.Prefix

	mu        sync.Mutex
	allocated []netip.Prefix
}

// Allocate picks and allocates the lowest /64 of Base that overlaps no
// allocated subnet: ErrNoIPv6Pool without a Base, ErrPoolsExhausted when
// every one is taken.
func (s *Spaces6) Allocate() (netip.Prefix, error) {
	if !s.Base.IsValid() {
		return netip.Prefix{}, ErrNoIPv6Pool
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.Base.Masked().Addr().As16()
	for i := range 1 << (64 - s.Base.Bits()) {
		binary.BigEndian.PutUint16(b[6:8], uint16(i))
		cand := netip.PrefixFrom(netip.AddrFrom16(b), 64)
		if !slices.ContainsFunc(s.allocated, cand.Overlaps) {
			s.allocated = append(s.allocated, cand)
			return cand, nil
		}
	}
	return netip.Prefix{}, ErrPoolsExhausted
}

// Reserve allocates a subnet given explicitly (--subnet, --fixed-cidr-v6),
// or refuses one overlapping an allocated subnet with the daemon's
// "invalid pool request: Pool overlaps with other one on this address
// space" (ErrPoolOverlap).
func (s *Spaces6) Reserve(p netip.Prefix) error {
	p = p.Masked()
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.ContainsFunc(s.allocated, p.Overlaps) {
		return fmt.Errorf("invalid pool request: %w", ErrPoolOverlap)
	}
	s.allocated = append(s.allocated, p)
	return nil
}

// Release frees an allocated subnet.
func (s *Spaces6) Release(p netip.Prefix) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allocated = slices.DeleteFunc(s.allocated, func(q netip.Prefix) bool { return q == p.Masked() })
}

// MACAddr6 is the IPv6 address Docker up to 27 gives a container on the
// default bridge whose --fixed-cidr-v6 leaves at least 48 host bits: the
// prefix with the container's MAC address in its last six bytes
// (moby/moby v27.5.1 libnetwork/drivers/bridge/bridge_linux.go
// CreateEndpoint; 02:42:ac:11:00:02 in 2001:db8:1::/64 is
// 2001:db8:1::242:ac11:2).
func MACAddr6(p netip.Prefix, mac net.HardwareAddr) netip.Addr {
	b := p.Masked().Addr().As16()
	copy(b[10:], mac)
	return netip.AddrFrom16(b)
}
