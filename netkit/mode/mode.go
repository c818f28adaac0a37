// Package mode is a container's network mode, docker run's --net/--network
// value parsed once: the closed set of the four modes, and the network or
// container a mode names. It is pure, and not the modes' wiring (netkit).
package mode

import (
	"errors"
	"strings"
)

// Kind is one of the four network modes.
type Kind int

const (
	// Bridge attaches the container to a bridge network (the default one,
	// or a user-defined one named in Mode.Network).
	Bridge Kind = iota
	// Host runs the container in the host node's namespace.
	Host
	// None gives the container a namespace with only lo.
	None
	// Container shares another container's namespace.
	Container
)

// Mode is a parsed --net/--network value. The zero value is the default
// bridge.
type Mode struct {
	Kind Kind
	// Network names a user-defined network (Bridge); "" or "bridge" means
	// the default bridge.
	Network string
	// Container names the container whose namespace is shared (Container).
	Container string
}

// errContainerFormat is the daemon's refusal of "container" without a name.
var errContainerFormat = errors.New("invalid container format container:<name|id>")

// Parse parses a --net/--network value: "bridge" (or "" or "default"),
// "host", "none", "container:NAME", or the name of a user-defined network.
func Parse(s string) (Mode, error) {
	switch {
	case s == "" || s == "default" || s == "bridge":
		return Mode{Kind: Bridge}, nil
	case s == "host":
		return Mode{Kind: Host}, nil
	case s == "none":
		return Mode{Kind: None}, nil
	case s == "container" || s == "container:":
		return Mode{}, errContainerFormat
	case strings.HasPrefix(s, "container:"):
		return Mode{Kind: Container, Container: strings.TrimPrefix(s, "container:")}, nil
	default:
		return Mode{Kind: Bridge, Network: s}, nil
	}
}

// String returns the mode as docker inspect's HostConfig.NetworkMode shows it.
func (m Mode) String() string {
	switch m.Kind {
	case Host:
		return "host"
	case None:
		return "none"
	case Container:
		return "container:" + m.Container
	default:
		if m.Network == "" || m.Network == "bridge" {
			return "bridge"
		}
		return m.Network
	}
}
