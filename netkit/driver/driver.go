// Package driver is Docker's macvlan and ipvlan network drivers: the
// closed types of drivers and modes, a network's driver options parsed and
// checked with Docker's own error texts, the parent link a network uses
// (an existing link, an 802.1Q sub-interface or a dummy that the driver
// makes and removes), the gateway and default route each Docker release
// gives its containers, and the links a container gets: a child of the
// parent, made in the host and moved into the container's namespace
// (Drivers.Join).
//
// Everything that decides is pure and unit-tested everywhere (options,
// parents, gateways, routes, texts); the kernel is asked only for what a
// decision needs (which links exist, which link types the kernel has) and
// for the links themselves, through netkit/link. A link type the kernel
// lacks (this project's kernel has macvlan, not ipvlan, 802.1Q or dummy)
// is detected before anything is made, and answered as Docker answers on
// such a kernel.
//
// It is not the engine: addresses come from netkit's IPAM, and netkit
// keeps the networks and endpoints; the bridge driver is netkit's own.
// Sources: moby/moby libnetwork/drivers/macvlan and ipvlan, v28.5.2, and
// daemon/libnetwork/drivers/{macvlan,ipvlan} of docker-v29.7.2 where 29
// differs.
package driver

import (
	"errors"
	"fmt"
)

// Driver is a network driver: the bridge (netkit's own), macvlan or
// ipvlan. The zero value is the bridge.
type Driver int

const (
	Bridge Driver = iota
	Macvlan
	IPvlan
)

// Parse parses docker network create's -d: "" and "bridge" are the bridge.
func Parse(name string) (Driver, bool) {
	switch name {
	case "", "bridge":
		return Bridge, true
	case "macvlan":
		return Macvlan, true
	case "ipvlan":
		return IPvlan, true
	}
	return Bridge, false
}

// String returns the driver's name, as docker network inspect shows it.
func (d Driver) String() string {
	switch d {
	case Macvlan:
		return "macvlan"
	case IPvlan:
		return "ipvlan"
	}
	return "bridge"
}

// MacvlanMode is -o macvlan_mode. The zero value is bridge, the default.
type MacvlanMode int

const (
	MacvlanBridge MacvlanMode = iota
	MacvlanPrivate
	MacvlanVEPA
	MacvlanPassthru
)

var macvlanModes = []string{"bridge", "private", "vepa", "passthru"}

func (m MacvlanMode) String() string { return macvlanModes[m] }

// IPvlanMode is -o ipvlan_mode. The zero value is l2, the default.
type IPvlanMode int

const (
	L2 IPvlanMode = iota
	L3
	L3S
)

var ipvlanModes = []string{"l2", "l3", "l3s"}

func (m IPvlanMode) String() string { return ipvlanModes[m] }

// IPvlanFlag is -o ipvlan_flag. The zero value is bridge, the default.
type IPvlanFlag int

const (
	FlagBridge IPvlanFlag = iota
	FlagPrivate
	FlagVEPA
)

var ipvlanFlags = []string{"bridge", "private", "vepa"}

func (f IPvlanFlag) String() string { return ipvlanFlags[f] }

// Option keys of docker network create -o.
const (
	OptParent      = "parent"
	OptMacvlanMode = "macvlan_mode"
	OptIPvlanMode  = "ipvlan_mode"
	OptIPvlanFlag  = "ipvlan_flag"
)

// Config is a macvlan or ipvlan network's driver configuration, as the
// driver's parseNetworkOptions makes it from the -o options.
type Config struct {
	Driver Driver
	// Parent is -o parent, "" when not given (the driver then makes a
	// dummy parent, see ParentLink).
	Parent  string
	Macvlan MacvlanMode
	IPvlan  IPvlanMode
	Flag    IPvlanFlag
	// Internal: --internal, or no parent. Only the driver treats a
	// parent-less network as internal; docker network inspect still says
	// "Internal": false.
	Internal bool
}

// Errors match these with errors.Is; their texts are Docker's. A link
// type the kernel lacks gives syscall.EOPNOTSUPP (Docker's "operation not
// supported"), which errors.ErrUnsupported also matches.
var (
	// ErrInvalid: an option or parent Docker refuses.
	ErrInvalid = errors.New("invalid driver option")
	// ErrConflict: the parent is taken by another network.
	ErrConflict = errors.New("parent in use")
)

// dockerError carries Docker's text and a sentinel.
type dockerError struct {
	msg  string
	kind error
}

func (e *dockerError) Error() string { return e.msg }
func (e *dockerError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &dockerError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// ParseOptions parses and checks a network's -o options for driver d
// (macvlan or ipvlan), in the driver's order: the mode, the flag, then the
// parent. Options it does not know are left alone, as Docker leaves them.
//
// Texts: moby/moby libnetwork/drivers/macvlan/macvlan_network.go and
// ipvlan/ipvlan_network.go parseNetworkOptions, v28.5.2.
func ParseOptions(d Driver, opts map[string]string, internal bool) (Config, error) {
	c := Config{Driver: d, Parent: opts[OptParent], Internal: internal}
	name := d.String()
	switch d {
	case Macvlan:
		m, ok := index(macvlanModes, opts[OptMacvlanMode])
		if !ok {
			return c, errorf(ErrInvalid, "requested macvlan mode '%s' is not valid, 'bridge' mode is the macvlan driver default", opts[OptMacvlanMode])
		}
		c.Macvlan = MacvlanMode(m)
	case IPvlan:
		m, ok := index(ipvlanModes, opts[OptIPvlanMode])
		if !ok {
			return c, errorf(ErrInvalid, "requested ipvlan mode '%s' is not valid, 'l2' mode is the ipvlan driver default", opts[OptIPvlanMode])
		}
		f, ok := index(ipvlanFlags, opts[OptIPvlanFlag])
		if !ok {
			return c, errorf(ErrInvalid, "requested ipvlan flag '%s' is not valid, 'bridge' is the ipvlan driver default", opts[OptIPvlanFlag])
		}
		c.IPvlan, c.Flag = IPvlanMode(m), IPvlanFlag(f)
	default:
		return c, fmt.Errorf("parsing options: %s is not a driver of this package", name)
	}
	if c.Parent == "lo" {
		return c, errorf(ErrInvalid, "loopback interface is not a valid %s parent link", name)
	}
	if c.Parent == "" {
		c.Internal = true
	}
	return c, nil
}

// index finds v in values; "" is the first, the default.
func index(values []string, v string) (int, bool) {
	if v == "" {
		return 0, true
	}
	for i, x := range values {
		if x == v {
			return i, true
		}
	}
	return 0, false
}

// DummyName is the dummy parent a network without -o parent gets:
// "dm-" (macvlan) or "di-" (ipvlan) and the network ID's first 12 digits
// (getDummyName).
func DummyName(d Driver, id string) string {
	if len(id) > 12 {
		id = id[:12]
	}
	if d == IPvlan {
		return "di-" + id
	}
	return "dm-" + id
}

// ParentLink is the link the network's children hang on: -o parent, or
// the dummy made for the network id.
func (c Config) ParentLink(id string) string {
	if c.Parent == "" {
		return DummyName(c.Driver, id)
	}
	return c.Parent
}

// EndpointError is the driver's refusal of container ctr's endpoint on
// network (named so), at its creation, in the daemon's words: an ipvlan
// child has its parent's MAC, so --mac-address (mac) is refused
// (ipvlan_endpoint.go CreateEndpoint, and libnetwork's wrapping); nil
// otherwise, and for a nil n (a bridge network).
func (n *Network) EndpointError(ctr, network string, mac bool) error {
	if n == nil || n.Config.Driver != IPvlan || !mac {
		return nil
	}
	return errorf(ErrInvalid, "failed to create endpoint %s on network %s: ipvlan interfaces do not support custom mac address assignment", ctr, network)
}
