package ports

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// The ephemeral range Docker falls back to when it cannot read
// /proc/sys/net/ipv4/ip_local_port_range (portallocator_unix.go).
const (
	FallbackBegin uint16 = 49153
	FallbackEnd   uint16 = 65535
)

// Allocator errors. A conflict is an *AllocatedError, which matches
// ErrPortAllocated with errors.Is.
var (
	// ErrPortAllocated: the exact host port asked for is already held.
	ErrPortAllocated = errors.New("port is already allocated")
	// ErrAllPortsAllocated: no port of the range is free. The text is
	// Docker's (portallocator errAllPortsAllocated).
	ErrAllPortsAllocated = errors.New("all ports are allocated")
	// ErrUnknownProtocol: the protocol is not tcp, udp or sctp. The text is
	// Docker's (portallocator errUnknownProtocol).
	ErrUnknownProtocol = errors.New("unknown protocol")
)

// AllocatedError reports an exact host port that is already allocated on
// IP. Its text is Docker's, "Bind for 0.0.0.0:8080 failed: port is already
// allocated" (portallocator alreadyAllocatedErr); an IPv6 address is not
// bracketed ("Bind for :::8080 failed: ..."), as Docker prints it.
type AllocatedError struct {
	IP   netip.Addr
	Port uint16
}

// Error returns Docker's message.
func (e *AllocatedError) Error() string {
	return fmt.Sprintf("Bind for %s:%d failed: port is already allocated", e.IP, e.Port)
}

// Is reports whether target is ErrPortAllocated.
func (e *AllocatedError) Is(target error) bool { return target == ErrPortAllocated }

// ParseLocalPortRange parses the content of
// /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999\n"). On error the
// caller uses FallbackBegin and FallbackEnd, as Docker does.
func ParseLocalPortRange(content string) (begin, end uint16, err error) {
	f := strings.Fields(content)
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("parsing local port range %q: want two numbers", content)
	}
	var n [2]uint64
	for i, s := range f {
		if n[i], err = strconv.ParseUint(s, 10, 16); err != nil {
			return 0, 0, fmt.Errorf("parsing local port range %q: %w", content, err)
		}
	}
	if n[0] == 0 || n[1] < n[0] {
		return 0, 0, fmt.Errorf("parsing local port range %q: not a range of ports", content)
	}
	return uint16(n[0]), uint16(n[1]), nil
}

// Allocator hands out host ports as Docker 27's port allocator
// (libnetwork/portallocator) does. It is safe for concurrent use.
//
// Every host address has its own table of used ports per protocol: 0.0.0.0
// and 127.0.0.1 do not conflict here (the kernel's bind does, later; the
// cross-address checks of Docker 28.3+ are not modelled). An IPv4-mapped
// IPv6 address counts as its IPv4 address, and the zero Addr as 0.0.0.0.
//
// Ephemeral ports and host ranges are handed out "next after last": each
// range remembers the last port it gave and scans on from there, wrapping
// at its end. A fresh allocator therefore gives begin, begin+1, … and a
// released port is not reused until the scan wraps. A host range
// (-p 9090-9092:80) is its own range, with its own last port, per address
// and protocol.
//
// The state is in memory only, like dockerd's: a new Allocator is a
// restarted daemon.
type Allocator struct {
	mu         sync.Mutex
	begin, end uint16
	addrs      map[netip.Addr]*[3]*portMap // by address, then protoIndex
}

type portMap struct {
	used   [65536 / 64]uint64
	ranges map[[2]uint16]*portRange
}

type portRange struct {
	lo, hi, last int
}

// NewAllocator returns an Allocator whose ephemeral range is begin–end, the
// system's ip_local_port_range. An invalid range (begin 0, or end before
// begin) is replaced by FallbackBegin–FallbackEnd.
func NewAllocator(begin, end uint16) *Allocator {
	if begin == 0 || end < begin {
		begin, end = FallbackBegin, FallbackEnd
	}
	return &Allocator{begin: begin, end: end, addrs: map[netip.Addr]*[3]*portMap{}}
}

// Range returns the ephemeral range.
func (a *Allocator) Range() (begin, end uint16) { return a.begin, a.end }

// Request allocates port for proto on ip. Port 0 asks for an ephemeral
// port: the next free one after the last handed out for (ip, proto). A
// non-zero port is taken if free, else an *AllocatedError is returned.
func (a *Allocator) Request(ip netip.Addr, proto Proto, port uint16) (uint16, error) {
	return a.RequestSame([]netip.Addr{ip}, proto, port, port)
}

// RequestRange allocates the first free port of the host range start–end
// for proto on ip, scanning on from the last port this range handed out
// (for a fresh range: start, start+1, …). It returns ErrAllPortsAllocated
// when the range is full. start == end asks for that exact port, as
// Request does; see RequestSame for the errors.
func (a *Allocator) RequestRange(ip netip.Addr, proto Proto, start, end uint16) (uint16, error) {
	return a.RequestSame([]netip.Addr{ip}, proto, start, end)
}

// RequestSame allocates one port number for proto on every address of ips
// at once, free in all of them, as Docker 27+ does for a binding that
// expands to 0.0.0.0 and :: (RequestPortsInRange). The port arguments mean
// what they mean for Request and RequestRange: start == end == 0 is an
// ephemeral port, start == end != 0 that exact port, start < end a host
// range. The scan follows the last port of the first address's range, and
// the port becomes the last port of every address's range.
//
// Errors: ErrUnknownProtocol; "invalid port range: a-b" for a range with a
// zero bound or end before start (Docker's text); an *AllocatedError naming
// the first address where an exact port is taken; ErrAllPortsAllocated.
func (a *Allocator) RequestSame(ips []netip.Addr, proto Proto, start, end uint16) (uint16, error) {
	pi, ok := protoIndex(proto)
	if !ok {
		return 0, ErrUnknownProtocol
	}
	exact := start != 0 && start == end
	if !exact && (start != 0 || end != 0) && (start == 0 || end == 0 || end < start) {
		// Docker: "invalid port range: %d-%d" (portallocator).
		return 0, fmt.Errorf("invalid port range: %d-%d", start, end)
	}
	if len(ips) == 0 {
		return 0, errors.New("no IP addresses specified")
	}

	a.mu.Lock()
	defer a.mu.Unlock()

	// Small requests (one address, or 0.0.0.0 and ::) stay on the stack.
	var keyBuf [4]netip.Addr
	var mapBuf [4]*portMap
	var rangeBuf [4]*portRange
	keys, maps := keyBuf[:0], mapBuf[:0]
	for _, ip := range ips {
		k := addrKey(ip)
		keys = append(keys, k)
		maps = append(maps, a.portMap(k, pi))
	}

	if exact {
		for i, m := range maps {
			if m.isUsed(int(start)) {
				return 0, &AllocatedError{IP: keys[i], Port: start}
			}
		}
		for _, m := range maps {
			m.set(int(start))
		}
		return start, nil
	}

	lo, hi := start, end
	if lo == 0 {
		lo, hi = a.begin, a.end
	}
	rs := rangeBuf[:0]
	for _, m := range maps {
		rs = append(rs, m.rangeFor(lo, hi))
	}
	first := rs[0]
	port := first.last
	for range first.hi - first.lo + 1 {
		port++
		if port > first.hi {
			port = first.lo
		}
		if freeInAll(maps, port) {
			for i, m := range maps {
				m.set(port)
				rs[i].last = port
			}
			return uint16(port), nil
		}
	}
	return 0, ErrAllPortsAllocated
}

// Release frees port for proto on ip. Releasing a port that is not
// allocated does nothing. The ranges' last ports do not move back.
func (a *Allocator) Release(ip netip.Addr, proto Proto, port uint16) {
	pi, ok := protoIndex(proto)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if pms := a.addrs[addrKey(ip)]; pms != nil && pms[pi] != nil {
		pms[pi].clear(int(port))
	}
}

// portMap returns the table of (addr, proto), creating it. Caller holds mu.
func (a *Allocator) portMap(addr netip.Addr, pi int) *portMap {
	pms := a.addrs[addr]
	if pms == nil {
		pms = new([3]*portMap)
		a.addrs[addr] = pms
	}
	if pms[pi] == nil {
		pms[pi] = &portMap{ranges: map[[2]uint16]*portRange{}}
	}
	return pms[pi]
}

func (m *portMap) rangeFor(lo, hi uint16) *portRange {
	k := [2]uint16{lo, hi}
	r := m.ranges[k]
	if r == nil {
		// last starts at the end, so that the first scan begins at lo.
		r = &portRange{lo: int(lo), hi: int(hi), last: int(hi)}
		m.ranges[k] = r
	}
	return r
}

func (m *portMap) isUsed(p int) bool { return m.used[p>>6]&(1<<(p&63)) != 0 }
func (m *portMap) set(p int)         { m.used[p>>6] |= 1 << (p & 63) }
func (m *portMap) clear(p int)       { m.used[p>>6] &^= 1 << (p & 63) }

func freeInAll(maps []*portMap, p int) bool {
	for _, m := range maps {
		if m.isUsed(p) {
			return false
		}
	}
	return true
}

// addrKey is the table key of ip: unmapped, without zone, and 0.0.0.0 for
// the zero Addr (Docker's default for a nil address).
func addrKey(ip netip.Addr) netip.Addr {
	if !ip.IsValid() {
		return netip.IPv4Unspecified()
	}
	return ip.Unmap().WithZone("")
}

func protoIndex(p Proto) (int, bool) {
	switch p {
	case TCP:
		return 0, true
	case UDP:
		return 1, true
	case SCTP:
		return 2, true
	}
	return 0, false
}
