package dockercli

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/world"
)

// TestCheckWorld: a world's dockerd flags are checked as dockerd takes
// them, the error naming the file, the line and the field.
func TestCheckWorld(t *testing.T) {
	w, err := world.Parse("h.yaml", []byte("nodes:\n  h1:\n    dockerd: --bip 172.18.0.1/16\n  h2:\n    dockerd: --bop 1\n  h3:\n    dockerd: [-H, h1]\n"))
	require.NoError(t, err)
	err = CheckWorld(w)
	assert.ErrorContains(t, err, "h.yaml:5: nodes.h2.dockerd: not dockerd's flags: unknown flag: --bop")
	assert.ErrorContains(t, err, "h.yaml:7: nodes.h3.dockerd: not dockerd's flags: -H/--host: the flags are the node's own engine's")
	assert.NotContains(t, err.Error(), "h1.dockerd")
}
