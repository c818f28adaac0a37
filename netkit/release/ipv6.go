package release

// The questions netkit/firewall's callers ask about IPv6.

// IP6TablesByDefault reports whether dockerd writes ip6tables rules when
// --ip6tables is not given: from 27.0 (API 1.46; moby/moby v27.0.1
// cmd/dockerd/config_unix.go, "ip6tables" default true). Up to 26 the
// option is experimental and off (moby/moby v26.1.4, same file), so an
// engine of those releases writes no ip6tables rule unless told to.
func (r Release) IP6TablesByDefault() bool { return r.API() >= 46 }

// ULAPool reports whether `docker network create --ipv6` without an IPv6
// subnet gets a /64 of a ULA /48 derived from the engine's host ID (fd and
// 40 bits of its SHA-256, when default-address-pools has no IPv6 pool):
// from 27.0 (moby/moby v27.0.1 daemon/daemon.go deriveULABaseNetwork). Up
// to 26 the command fails: "could not find an available, non-overlapping
// IPv6 address pool among the defaults to assign to the network" (moby/moby
// v26.1.4 libnetwork/ipam/allocator.go).
func (r Release) ULAPool() bool { return r.API() >= 46 }

// DefaultBridgeULA reports whether dockerd --ipv6 without --fixed-cidr-v6
// gives docker0 a ULA /64 of the default pools: from 28.0 (API 1.48).
// Before, the daemon does not start: "IPv6 is enabled for the default
// bridge, but no subnet is configured. Specify an IPv6 subnet using
// --fixed-cidr-v6" (moby/moby v27.5.1 daemon/daemon_unix.go).
func (r Release) DefaultBridgeULA() bool { return r.API() >= 48 }

// Switch is a daemon flag whose default depends on the release
// (--ip6tables): SwitchDefault (the zero value) takes the release's,
// SwitchOn and SwitchOff are the flag given as true or false.
type Switch int

const (
	SwitchDefault Switch = iota
	SwitchOn
	SwitchOff
)

// IP6TablesOn reports whether the engine writes ip6tables rules with
// --ip6tables set to s.
func (r Release) IP6TablesOn(s Switch) bool {
	return s == SwitchOn || s == SwitchDefault && r.IP6TablesByDefault()
}

// BridgeNoDAD reports whether the bridge's IPv6 address is added without
// duplicate address detection, as the containers' always are: from 28.0
// (moby/moby commit 38f0483ea7, v28.0.0 libnetwork/drivers/bridge/
// setup_ipv6_linux.go); before, it is tentative for a moment.
func (r Release) BridgeNoDAD() bool { return r.Era >= Era28 }

// MACDerivedIPv6 reports whether the default bridge's containers get
// addresses derived from their MACs (--fixed-cidr-v6 of at most /80): up
// to 27 (moby/moby v27.5.1 libnetwork/drivers/bridge/bridge_linux.go
// CreateEndpoint); from 28.0, IPAM's next free address.
func (r Release) MACDerivedIPv6() bool { return r.Era < Era28 }

// Gateway6WithPrefix reports whether network inspect shows the gateway of
// an IPv6 subnet taken from the default pool with its prefix length
// ("fd12:3456:789a::1/64"): up to 27, fixed by moby/moby commit
// 3cf4ff971d in 28.0.
func (r Release) Gateway6WithPrefix() bool { return r.Era < Era28 }
