package firewall

import (
	"net/netip"

	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
)

// This file holds forwarding names for code outside netkit that has not
// moved to package release and to AddBindings yet (runner's cli_era.go and
// dockerd.go, runner/bench). Remove it once they have.

// Era is release.Era.
//
// Deprecated: use release.Era; kept only until runner is switched.
type Era = release.Era

// The eras, as release names them.
//
// Deprecated: use release.Era27, release.Era28 and release.Era29.
const (
	Era27 = release.Era27
	Era28 = release.Era28
	Era29 = release.Era29
)

// Port is a published binding together with the container's address.
//
// Deprecated: use AddBindings with ports.Binding; kept only until
// runner/bench is switched.
type Port struct {
	Proto         ports.Proto
	HostIP        netip.Addr
	HostPort      uint16
	ContainerIP   netip.Addr
	ContainerPort uint16
}

// AddPorts is AddBindings for bindings in the old shape.
//
// Deprecated: use AddBindings.
func (c Config) AddPorts(n Network, ps ...Port) []Op { return c.oldPorts(n, ps).ops }

// RemovePorts is RemoveBindings for bindings in the old shape.
//
// Deprecated: use RemoveBindings.
func (c Config) RemovePorts(n Network, ps ...Port) []Op { return c.oldPorts(n, ps).inverse() }

func (c Config) oldPorts(n Network, ps []Port) *builder {
	b := &builder{seen: map[string]bool{}}
	if c.NoIPTables || n.Internal {
		return b
	}
	for _, p := range ps {
		c.binding(b, n, p.ContainerIP, ports.Binding{Container: ports.Port{Num: p.ContainerPort, Proto: p.Proto},
			HostIP: p.HostIP, HostPort: p.HostPort})
	}
	return b
}
