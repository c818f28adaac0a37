package netkit_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/testkit"
	"github.com/labrun/labrun/netkit/world"
)

// TestEngines: a world of two Docker hosts runs an engine on each, apart
// (their own containers, bridges and rules); the lab finds a container on
// either; a node that runs no Docker has no engine to start; restarting
// one engine leaves the other alone.
func TestEngines(t *testing.T) {
	testkit.RequireNetAdmin(t)
	testkit.RequireBinary(t, "iptables-restore")
	w, err := world.Parse("w.yaml", []byte(`
lans: [lan]
nodes:
  h1:
    docker: true
    interfaces: {eth0: {lan: lan, addresses: [10.0.0.1/24]}}
  h2:
    docker: true
    interfaces: {eth0: {lan: lan, addresses: [10.0.0.2/24]}}
  plain:
    interfaces: {eth0: {lan: lan, addresses: [10.0.0.3/24]}}
`))
	require.NoError(t, err)
	lab, err := netkit.NewLab(netkit.LabOptions{World: w})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, lab.Close()) })
	assert.Equal(t, "h1", lab.Host().Name, "the first Docker host")
	e1, err := lab.StartEngine(netkit.DaemonOptions{})
	require.NoError(t, err)
	e2, err := lab.StartEngine(netkit.DaemonOptions{Node: "h2", BIP: netip.MustParsePrefix("172.18.0.1/16")})
	require.NoError(t, err)
	assert.Equal(t, "h1", e1.Host().Name)
	assert.Equal(t, "h2", e2.Host().Name)
	assert.Same(t, e2, lab.EngineOn("h2"))
	assert.Same(t, e1, lab.Engine())
	assert.Equal(t, []*netkit.Engine{e1, e2}, lab.Engines())
	assert.Nil(t, lab.EngineOn("plain"))
	assert.Nil(t, lab.EngineOn("nosuch"))

	c1, err := e1.Run(netkit.RunOptions{Name: "c1"})
	require.NoError(t, err)
	c2, err := e2.Run(netkit.RunOptions{Name: "c2"})
	require.NoError(t, err)
	assert.Equal(t, "172.17.0.2", c1.Inspect().NetworkSettings.IPAddress)
	assert.Equal(t, "172.18.0.2", c2.Inspect().NetworkSettings.IPAddress)
	_, err = e1.Container("c2")
	assert.ErrorIs(t, err, netkit.ErrNotFound, "h1's engine knows no c2")
	for _, name := range []string{"c1", "c2"} {
		_, err := lab.Node(name)
		assert.NoError(t, err, "the lab finds %s", name)
	}

	_, err = lab.StartEngine(netkit.DaemonOptions{Node: "plain"})
	assert.ErrorIs(t, err, netkit.ErrNotFound)
	assert.ErrorContains(t, err, `no Docker engine on "plain": the world's Docker hosts are h1, h2`)
	_, err = lab.StartEngine(netkit.DaemonOptions{Node: "h3"})
	assert.ErrorContains(t, err, `did you mean "h1"?`)

	// Restarting h1's engine stops c1, not c2.
	e1b, err := lab.StartEngine(netkit.DaemonOptions{Node: "h1"})
	require.NoError(t, err)
	assert.Equal(t, "exited", e1b.Containers(true)[0].State())
	assert.Equal(t, "running", c2.State())
	require.NoError(t, lab.StopEngine("h2"))
	assert.Equal(t, []*netkit.Engine{e1b}, lab.Engines())
}
