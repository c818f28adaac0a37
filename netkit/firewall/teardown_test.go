package firewall

import (
	"net/netip"
	"strings"
	"testing"
)

// TestTeardown: after an engine's networks are removed, Teardown leaves the
// tables as a fresh namespace has them: no DOCKER chain, no jump, FORWARD
// back to ACCEPT.
func TestTeardown(t *testing.T) {
	p := newProgrammer(t)
	fresh := save(t, p)
	cfg := Config{IPForwardFlipped: true}
	n := Network{Bridge: "docker0", Subnet: netip.MustParsePrefix("172.17.0.0/16")}
	apply(t, p, [][]Op{cfg.Start(), cfg.AddNetwork(n), cfg.AddBindings(n, ctr1, web), cfg.RemoveBindings(n, ctr1, web), cfg.RemoveNetwork(n)})
	if got := save(t, p); !strings.Contains(got, ":DOCKER") {
		t.Fatalf("the engine's chains are missing before teardown:\n%s", got)
	}
	if err := p.Teardown(true); err != nil {
		t.Fatal(err)
	}
	if got := save(t, p); got != fresh {
		t.Errorf("after teardown:\n%s\nwant a fresh namespace's tables:\n%s", got, fresh)
	}
}
