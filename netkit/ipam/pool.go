package ipam

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
)

// Pool allocates the addresses of one network's IPv4 subnet, as Docker's
// default IPAM does for a pool (defaultipam newPoolData, getAddress):
//
//   - The network and broadcast addresses are reserved at creation, except
//     in a /31 or /32, where every address is usable.
//   - RequestAny gives the lowest free address of the range (the IP range
//     if one was given, else the whole subnet): a released address is the
//     first to be handed out again (Docker's non-serial mode). The range's
//     own first and last addresses are usable unless they are the subnet's
//     network or broadcast address.
//   - Request takes a given address anywhere in the subnet, inside the
//     range or not (--gateway, --ip, --bip).
//
// The zero Pool is not usable; call NewPool. A Pool is safe for concurrent
// use.
type Pool struct {
	subnet  netip.Prefix
	ipRange netip.Prefix // zero when the whole subnet is the range
	base    uint32       // the subnet's first address
	last    uint64       // offset of the subnet's last address
	lo, hi  uint64       // offsets of the range's first and last address
	edges   bool         // network and broadcast addresses reserved

	mu      sync.Mutex
	set     addrSet
	inUse   int    // addresses set in the subnet
	inRange int    // addresses set in [lo, hi]
	hint    uint64 // no clear offset in [lo, hint)
}

// NewPool returns the pool of subnet, handing out addresses from ipRange
// (--ip-range, --fixed-cidr); a zero ipRange means the whole subnet.
//
// The checks and their messages are those of Docker's network create
// (moby api ValidateIPAM), without the "invalid network config:" header
// the daemon puts above them; several failed checks of ipRange are joined
// with errors.Join. The subnet must be IPv4 and in canonical form (the
// engine masks --bip itself); ipRange must be an IPv4 prefix inside it.
func NewPool(subnet, ipRange netip.Prefix) (*Pool, error) {
	if !subnet.IsValid() {
		return nil, fmt.Errorf("invalid subnet %s: invalid CIDR block notation", subnet)
	}
	if !subnet.Addr().Is4() {
		// labrun's own: the package is IPv4 only.
		return nil, fmt.Errorf("invalid subnet %s: only IPv4 subnets are supported", subnet)
	}
	if subnet != subnet.Masked() {
		return nil, fmt.Errorf("invalid subnet %s: it should be %s", subnet, subnet.Masked())
	}
	if ipRange.IsValid() {
		if err := validateRange(subnet, ipRange); err != nil {
			return nil, err
		}
	} else if ipRange != (netip.Prefix{}) {
		return nil, fmt.Errorf("invalid ip-range %s: invalid CIDR block notation", ipRange)
	}

	p := &Pool{
		subnet:  subnet,
		ipRange: ipRange,
		base:    addrUint(subnet.Addr()),
		last:    size(subnet) - 1,
	}
	p.lo, p.hi = 0, p.last
	if ipRange.IsValid() {
		p.lo = uint64(addrUint(ipRange.Addr()) - p.base)
		p.hi = p.lo + size(ipRange) - 1
	}
	p.hint = p.lo
	// Docker reserves the first address (network) and, for IPv4, the last
	// (broadcast), unless the subnet is a /31 or /32 (RFC 3021).
	if subnet.Bits() < 31 {
		p.edges = true
		p.mark(0)
		p.mark(p.last)
	}
	return p, nil
}

// validateRange runs Docker's ip-range checks (api network validateIPRange).
func validateRange(subnet, r netip.Prefix) error {
	if !r.Addr().Is4() {
		return fmt.Errorf("invalid ip-range %s: parent subnet is an IPv4 block", r)
	}
	return rangeErrors(subnet, r)
}

// rangeErrors are Docker's checks of an ip-range against its subnet, of
// either family.
func rangeErrors(subnet, r netip.Prefix) error {
	var errs []error
	if r.Bits() < subnet.Bits() {
		errs = append(errs, fmt.Errorf("invalid ip-range %s: CIDR block is bigger than its parent subnet %s", r, subnet))
	}
	if r != r.Masked() {
		errs = append(errs, fmt.Errorf("invalid ip-range %s: it should be %s", r, r.Masked()))
	}
	if !subnet.Overlaps(r) {
		errs = append(errs, fmt.Errorf("invalid ip-range %s: parent subnet %s doesn't contain ip-range", r, subnet))
	}
	return errors.Join(errs...)
}

// Subnet returns the pool's subnet.
func (p *Pool) Subnet() netip.Prefix { return p.subnet }

// IPRange returns the range addresses are handed out from, as given to
// NewPool: the zero Prefix when it is the whole subnet.
func (p *Pool) IPRange() netip.Prefix { return p.ipRange }

// Contains reports whether addr is in the pool's subnet (an IPv4-mapped
// address counts as its IPv4 address).
func (p *Pool) Contains(addr netip.Addr) bool {
	return p.subnet.Contains(addr.Unmap())
}

// IsAllocated reports whether addr is in use, reserved addresses included.
func (p *Pool) IsAllocated(addr netip.Addr) bool {
	off, ok := p.offset(addr)
	if !ok {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.set.has(off)
}

// RequestAny allocates the lowest free address of the range. It returns
// ErrNoAvailableIPs when the range is full.
func (p *Pool) RequestAny() (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	off, ok := p.set.nextClear(p.hint, p.hi)
	if !ok {
		p.hint = p.hi + 1
		return netip.Addr{}, ErrNoAvailableIPs
	}
	p.mark(off)
	p.hint = off + 1
	return p.addr(off), nil
}

// Request allocates addr, which must be in the subnet (ErrIPOutOfRange)
// and free (ErrIPAlreadyAllocated, also for the reserved network and
// broadcast addresses). It may lie outside the IP range.
func (p *Pool) Request(addr netip.Addr) error {
	off, err := p.offsetIn(addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.mark(off) {
		return ErrIPAlreadyAllocated
	}
	return nil
}

// Release frees addr. Releasing a free address does nothing; an address
// outside the subnet is ErrIPOutOfRange. The reserved network and
// broadcast addresses cannot be released (Docker would let them go, which
// only a broken engine would ask for).
func (p *Pool) Release(addr netip.Addr) error {
	off, err := p.offsetIn(addr)
	if err != nil {
		return err
	}
	if p.edges && (off == 0 || off == p.last) {
		return fmt.Errorf("releasing %s: reserved address of %s", addr.Unmap(), p.subnet)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.set.remove(off) {
		return nil
	}
	p.inUse--
	if p.lo <= off && off <= p.hi {
		p.inRange--
		p.hint = min(p.hint, off)
	}
	return nil
}

// InUse returns the number of addresses in use in the subnet, counting the
// reserved network and broadcast addresses and the gateway: Docker's
// IPsInUse in network inspect's Status (Docker 29).
func (p *Pool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inUse
}

// DynamicAvailable returns the size of the range (the IP range, else the
// subnet) minus the addresses in use within it: Docker's
// DynamicIPsAvailable in network inspect's Status (Docker 29).
func (p *Pool) DynamicAvailable() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int(p.hi-p.lo+1) - p.inRange
}

// mark sets off and keeps the counters; it reports whether off was free.
// Caller holds mu, or owns p.
func (p *Pool) mark(off uint64) bool {
	if !p.set.add(off) {
		return false
	}
	p.inUse++
	if p.lo <= off && off <= p.hi {
		p.inRange++
	}
	return true
}

// offset returns addr's offset in the subnet.
func (p *Pool) offset(addr netip.Addr) (uint64, bool) {
	addr = addr.Unmap()
	if !p.subnet.Contains(addr) {
		return 0, false
	}
	return uint64(addrUint(addr) - p.base), true
}

// offsetIn is offset for Request and Release, whose addr must be in the
// subnet: an invalid address or ErrIPOutOfRange otherwise.
func (p *Pool) offsetIn(addr netip.Addr) (uint64, error) {
	off, ok := p.offset(addr)
	if !ok {
		if !addr.IsValid() {
			return 0, errors.New("invalid address")
		}
		return 0, ErrIPOutOfRange
	}
	return off, nil
}

func (p *Pool) addr(off uint64) netip.Addr {
	return uintAddr(p.base + uint32(off))
}

// size returns the number of addresses of an IPv4 prefix.
func size(p netip.Prefix) uint64 { return 1 << (32 - p.Bits()) }

func addrUint(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func uintAddr(n uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], n)
	return netip.AddrFrom4(b)
}
