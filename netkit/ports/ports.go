// Package ports parses Docker's port publishing specs (-p, --expose) and
// hands out host ports the way Docker's port allocator does. It is pure: no
// syscalls, no namespaces, so it is unit-tested without privileges.
//
// It is not the place that binds sockets or programs NAT; netkit does that
// with what this package decides.
package ports

import (
	"net/netip"
	"strconv"
)

// Proto is a transport protocol: "tcp", "udp" or "sctp".
type Proto string

// The protocols Docker can publish.
const (
	TCP  Proto = "tcp"
	UDP  Proto = "udp"
	SCTP Proto = "sctp"
)

// Port is a container port with its protocol, as in "80/tcp".
type Port struct {
	Num   uint16
	Proto Proto
}

// String formats p as Docker does: "80/tcp".
func (p Port) String() string { return strconv.Itoa(int(p.Num)) + "/" + string(p.Proto) }

// Binding is one requested publication of a container port, the result of
// parsing a -p spec (a range spec yields one Binding per container port).
type Binding struct {
	// Container is the container port.
	Container Port
	// HostIP is the host address to bind; the zero Addr means "all
	// addresses" (the engine's default, 0.0.0.0 and ::).
	HostIP netip.Addr
	// HostPort is the first host port, 0 for an ephemeral one.
	HostPort uint16
	// HostPortEnd is the last host port of a host range (-p 8000-8010:80);
	// 0 when the spec named a single host port or none.
	HostPortEnd uint16
}

// OnLoopback reports whether a binding of bs is on an IPv4 loopback
// address: its own or, when it names none, def (the network's default
// host address: dockerd --ip, com.docker.network.bridge.host_binding_ipv4).
func OnLoopback(bs []Binding, def netip.Addr) bool {
	for _, b := range bs {
		ip := b.HostIP
		if !ip.IsValid() {
			ip = def
		}
		if ip.Is4() && ip.IsLoopback() {
			return true
		}
	}
	return false
}
