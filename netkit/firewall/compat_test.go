package firewall

import (
	"slices"
	"testing"
)

// TestDeprecatedPorts: the forwarding AddPorts and RemovePorts (for
// runner/bench until it moves to AddBindings) build the same operations.
func TestDeprecatedPorts(t *testing.T) {
	c := Config{}
	old := Port{HostPort: 8080, ContainerIP: ctr1, ContainerPort: 80}
	if got, want := c.AddPorts(docker0, old), c.AddBindings(docker0, ctr1, web); !slices.EqualFunc(got, want, eqOp) {
		t.Errorf("AddPorts = %v, want %v", got, want)
	}
	if got, want := c.RemovePorts(docker0, old), c.RemoveBindings(docker0, ctr1, web); !slices.EqualFunc(got, want, eqOp) {
		t.Errorf("RemovePorts = %v, want %v", got, want)
	}
}

func eqOp(a, b Op) bool { return a.String() == b.String() && a.Rule.Table == b.Rule.Table }
