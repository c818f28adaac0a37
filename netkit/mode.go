package netkit

import "strings"

// ParseMode parses a --net/--network value once into a Mode: "bridge" (or
// ""), "host", "none", "container:NAME", or the name of a user-defined
// network.
func ParseMode(s string) (Mode, error) {
	switch {
	case s == "" || s == "default" || s == "bridge":
		return Mode{Kind: ModeBridge}, nil
	case s == "host":
		return Mode{Kind: ModeHost}, nil
	case s == "none":
		return Mode{Kind: ModeNone}, nil
	case s == "container":
		return Mode{}, derr(ErrInvalid, "invalid container format container:<name|id>")
	case strings.HasPrefix(s, "container:"):
		name := strings.TrimPrefix(s, "container:")
		if name == "" {
			return Mode{}, derr(ErrInvalid, "invalid container format container:<name|id>")
		}
		return Mode{Kind: ModeContainer, Container: name}, nil
	default:
		return Mode{Kind: ModeBridge, Network: s}, nil
	}
}

// String returns the mode as docker inspect's HostConfig.NetworkMode shows it.
func (m Mode) String() string {
	switch m.Kind {
	case ModeHost:
		return "host"
	case ModeNone:
		return "none"
	case ModeContainer:
		return "container:" + m.Container
	default:
		if m.Network == "" || m.Network == "bridge" {
			return "bridge"
		}
		return m.Network
	}
}
