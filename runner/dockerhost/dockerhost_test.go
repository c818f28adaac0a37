package dockerhost

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNode: -H and DOCKER_HOST values name a node as the docker CLI
// reads a daemon address; unix:// is the local daemon.
func TestNode(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "unix:///var/run/docker.sock": "", "host2": "host2", "host2:2375": "host2",
		"tcp://host2:2375": "host2", "tcp://host2": "host2", "ssh://root@host2": "host2", "ssh://host2:22": "host2",
	} {
		got, err := Node(in)
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := Node("fd://host2")
	assert.EqualError(t, err, "invalid bind address (fd://host2): unsupported proto 'fd'")
}

// TestGlobalFlags: -H before the subcommand, in its forms, wins over
// DOCKER_HOST.
func TestGlobalFlags(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "DOCKER_HOST" {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		args      []string
		env, node string
		rest      []string
	}{
		{[]string{"ps"}, "", "", []string{"ps"}},
		{[]string{"ps"}, "host2", "host2", []string{"ps"}},
		{[]string{"-H", "host1", "ps", "-a"}, "host2", "host1", []string{"ps", "-a"}},
		{[]string{"--host=tcp://host1:2375", "ps"}, "", "host1", []string{"ps"}},
		{[]string{"-Hhost1", "ps"}, "", "host1", []string{"ps"}},
		{[]string{"run", "-H", "x"}, "", "", []string{"run", "-H", "x"}},
	} {
		node, _, rest, err := GlobalFlags(tc.args, env(tc.env))
		require.NoError(t, err, "%q", tc.args)
		assert.Equal(t, tc.node, node, "%q", tc.args)
		assert.Equal(t, tc.rest, rest, "%q", tc.args)
	}
	_, _, _, err := GlobalFlags([]string{"-H"}, env(""))
	assert.EqualError(t, err, "flag needs an argument: -H")
}
