// Package ipam hands out IPv4 and IPv6 subnets and addresses the way
// Docker's default IPAM driver does, so that the networks and containers of a lab get the
// addresses Docker would give them.
//
// It is pure allocation: no syscalls, no namespaces, no persistence; state
// lives in memory like dockerd's, and the package is unit-tested without
// privileges. It does not put addresses on links or bridges; netkit does
// that with what this package decides.
//
// A Pool is one network's subnet: the network and broadcast addresses are
// reserved, and RequestAny gives the lowest free address (.1 for the
// gateway, then .2, .3, …, reusing released addresses first). Spaces picks
// the subnet of a new network among Docker's default pools, first fit.
// Both are safe for concurrent use. Their IPv6 counterparts are Pool6
// (::0 reserved, no broadcast) and Spaces6 (the ULA pool of Docker 27+,
// ULABase), and Net6 is a network's IPv6 side (--ipv6).
//
// The sentinel errors carry the text of Docker's ipamapi errors, so an
// engine can show them as the daemon does.
package ipam

import "errors"

// Errors, with the text of Docker's ipamapi (contract.go). Docker's
// messages are reproduced exactly, capital letters included.
var (
	// ErrNoAvailableIPs: the pool's range has no free address. The engine
	// reports it as "no available IPv4 addresses on this network's address
	// pools: NAME (ID)" (libnetwork endpoint.go).
	ErrNoAvailableIPs = errors.New("no available addresses on this pool")
	// ErrIPAlreadyAllocated: the requested address is in use (Docker's
	// ipamapi.ErrIPAlreadyAllocated).
	ErrIPAlreadyAllocated = errors.New("Address already in use") //nolint:staticcheck // ST1005: Docker's text.
	// ErrIPOutOfRange: the address is not in the pool's subnet (Docker's
	// ipamapi.ErrIPOutOfRange).
	ErrIPOutOfRange = errors.New("requested address is out of range")
	// ErrPoolOverlap: an explicitly requested subnet overlaps an allocated
	// one. Spaces.Reserve wraps it as the daemon does: "invalid pool
	// request: Pool overlaps with other one on this address space".
	ErrPoolOverlap = errors.New("Pool overlaps with other one on this address space") //nolint:staticcheck // ST1005: Docker's text.
	// ErrPoolsExhausted: every default pool is used (Docker 27+
	// ipamapi.ErrNoMoreSubnets).
	ErrPoolsExhausted = errors.New("all predefined address pools have been fully subnetted")
	// ErrPoolNotFound: releasing a subnet that is not allocated (Docker's
	// ipamapi.ErrBadPool).
	ErrPoolNotFound = errors.New("address space does not contain specified address pool")
)
