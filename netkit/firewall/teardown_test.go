package firewall

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTeardown: after an engine's networks are removed, Teardown leaves the
// tables as a fresh namespace has them: no DOCKER chain, no jump, FORWARD
// back to ACCEPT. Compared table by table: the tables themselves stay, as
// after a real engine.
func TestTeardown(t *testing.T) {
	p := newProgrammer(t)
	fresh := save(t, p, DefaultTables...)
	cfg := Config{IPForwardFlipped: true}
	n := Network{Bridge: "docker0", Subnet: netip.MustParsePrefix("172.17.0.0/16")}
	apply(t, p, [][]Op{cfg.Start(), cfg.AddNetwork(n), cfg.AddBindings(n, ctr1, web), cfg.RemoveBindings(n, ctr1, web), cfg.RemoveNetwork(n)})
	require.Contains(t, save(t, p), ":DOCKER", "the engine's chains are missing before teardown")
	require.NoError(t, p.Teardown(true))
	assert.Equal(t, fresh, save(t, p, DefaultTables...), "after teardown: want a fresh namespace's tables")
}
