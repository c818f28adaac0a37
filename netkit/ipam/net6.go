package ipam

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Net6 is the IPv6 side of a network created with --ipv6 (of the default
// bridge: dockerd --ipv6): its subnet, range and gateway, and the pool of
// its addresses. A network without it is IPv4 only.
type Net6 struct {
	Subnet, IPRange netip.Prefix
	Gateway         netip.Addr
	// UserSubnet: the subnet was given (--subnet, --fixed-cidr-v6):
	// network inspect lists it first, without a gateway before 29 unless
	// UserGateway (moby/moby v28.5.2 daemon/network.go
	// buildIPAMResources).
	UserSubnet, UserGateway bool
	// MACAddrs: containers get MAC-derived addresses (MACAddr6), as
	// Docker 27's default bridge does with a --fixed-cidr-v6 of at
	// most /80.
	MACAddrs bool
	// Pool hands out the containers' addresses.
	Pool *Pool6
}

// Request6 are docker network create's IPv6 flags: --subnet, --ip-range
// and --gateway with IPv6 values (each may be zero).
type Request6 struct {
	Subnet, IPRange netip.Prefix
	Gateway         netip.Addr
}

// NewNet6 makes a network's IPv6 side from s: the requested subnet, or
// the lowest free /64 of s's default pool; the requested gateway, or the
// subnet's first free address (::1). The errors are the daemon's texts;
// ErrPoolOverlap, ErrNoIPv6Pool and ErrPoolsExhausted match with
// errors.Is. On error nothing stays allocated.
func NewNet6(s *Spaces6, r Request6) (*Net6, error) {
	n := &Net6{Subnet: r.Subnet, UserSubnet: r.Subnet.IsValid(), UserGateway: r.Gateway.IsValid()}
	if n.UserSubnet {
		if r.Subnet != r.Subnet.Masked() {
			// The API's ValidateIPAM (moby api/types/network).
			return nil, fmt.Errorf("invalid network config:\ninvalid subnet %s: it should be %s", r.Subnet, r.Subnet.Masked())
		}
		if err := s.Reserve(r.Subnet); err != nil {
			return nil, err
		}
	} else {
		sub, err := s.Allocate()
		if err != nil {
			return nil, err
		}
		n.Subnet = sub
	}
	if err := n.plan(r.IPRange, r.Gateway); err != nil {
		s.Release(n.Subnet)
		return nil, err
	}
	return n, nil
}

// plan makes n's pool of range ipRange and takes its gateway (gw, or the
// first free address).
func (n *Net6) plan(ipRange netip.Prefix, gw netip.Addr) error {
	if ipRange.IsValid() && (!n.Subnet.Contains(ipRange.Addr()) || ipRange.Bits() < n.Subnet.Bits()) {
		return fmt.Errorf("invalid pool request: ip-range %s is not within subnet %s", ipRange, n.Subnet)
	}
	pool, err := NewPool6(n.Subnet, ipRange)
	if err != nil {
		return err
	}
	n.Pool, n.IPRange = pool, ipRange
	switch {
	case !gw.IsValid():
		if n.Gateway, err = pool.RequestAny(); err != nil {
			return fmt.Errorf("failed to allocate gateway: %w", err)
		}
	case !n.Subnet.Contains(gw):
		return fmt.Errorf("no matching subnet for gateway %s", gw)
	default:
		if err := pool.Request(gw); err != nil {
			return fmt.Errorf("failed to allocate gateway (%s): %w", gw, err)
		}
		n.Gateway = gw
	}
	return nil
}

// DefaultBridge6 makes the default bridge's IPv6 side for dockerd --ipv6:
// --fixed-cidr-v6's subnet and range (given: the gateway its first
// address), or else the lowest free /64 of s's pool, which releases from
// 28 have (release.Release.DefaultBridgeULA; before, the daemon refuses
// to start: ErrNoDefaultBridge6). macAddrs: Docker 27 derives container
// addresses from their MACs when the prefix leaves 48 host bits (moby/moby
// v27.5.1 daemon/daemon_unix.go getDefaultBridgeIPAMConf and
// libnetwork/drivers/bridge/bridge_linux.go, NetworkOptionDeferIPv6Alloc).
func DefaultBridge6(s *Spaces6, fixed netip.Prefix, ula, macAddrs bool) (*Net6, error) {
	if !fixed.IsValid() {
		if !ula {
			return nil, ErrNoDefaultBridge6
		}
		return NewNet6(s, Request6{})
	}
	n := &Net6{Subnet: fixed.Masked(), UserSubnet: true, MACAddrs: macAddrs && fixed.Bits() <= 80}
	if err := s.Reserve(n.Subnet); err != nil {
		return nil, err
	}
	if err := n.plan(n.Subnet, netip.Addr{}); err != nil {
		s.Release(n.Subnet)
		return nil, err
	}
	return n, nil
}

// ErrNoDefaultBridge6 is Docker 27's refusal of dockerd --ipv6 without
// --fixed-cidr-v6 (moby/moby v27.5.1 daemon/daemon_unix.go
// initBridgeDriver).
var ErrNoDefaultBridge6 = errors.New("IPv6 is enabled for the default bridge, but no subnet is configured. Specify an IPv6 subnet using --fixed-cidr-v6")

// Fresh returns n as the next engine restores it: the same subnet, range
// and gateway, in a new pool holding only the gateway, its subnet
// reserved in s.
func (n *Net6) Fresh(s *Spaces6) (*Net6, error) {
	f := *n
	if err := s.Reserve(n.Subnet); err != nil {
		return nil, err
	}
	if err := f.plan(n.IPRange, n.Gateway); err != nil {
		return nil, err
	}
	return &f, nil
}

// Prefix is n's subnet, the zero Prefix for a nil n (an IPv4-only
// network).
func (n *Net6) Prefix() netip.Prefix {
	if n == nil {
		return netip.Prefix{}
	}
	return n.Subnet
}

// Take takes a container's address: req (--ip6) when valid, or else the
// one derived from its MAC when n.MACAddrs (MACAddr6; taken from the pool
// too, though Docker 27's IPAM does not know it), or else the pool's next
// free one. It returns ErrIPAlreadyAllocated or ErrNoAvailableIPs.
func (n *Net6) Take(req netip.Addr, mac net.HardwareAddr) (netip.Addr, error) {
	switch {
	case req.IsValid():
		return req, n.Pool.Request(req)
	case n.MACAddrs:
		a := MACAddr6(n.Subnet, mac)
		_ = n.Pool.Request(a)
		return a, nil
	}
	return n.Pool.RequestAny()
}
