package netkit

import "github.com/labrun/labrun/netkit/mode"

// The network modes (netkit/mode).
type (
	ModeKind = mode.Kind
	Mode     = mode.Mode
)

const (
	ModeBridge    = mode.Bridge
	ModeHost      = mode.Host
	ModeNone      = mode.None
	ModeContainer = mode.Container
)

// ParseMode parses a --net/--network value once into a Mode (mode.Parse);
// its errors are ErrInvalid.
func ParseMode(s string) (Mode, error) {
	m, err := mode.Parse(s)
	if err != nil {
		return m, derr(ErrInvalid, "%s", err)
	}
	return m, nil
}
