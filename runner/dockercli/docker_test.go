package dockercli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDockerUsage checks Docker's messages for wrong arguments, which need
// no engine.
func TestDockerUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"run"}, `"docker run" requires at least 1 argument.
See 'docker run --help'.

Usage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]

Create and run a new container from an image
`, 1},
		{[]string{"container", "run", "-d"}, `"docker container run" requires at least 1 argument.`, 1},
		{[]string{"run", "--bogus", "httpd"}, "unknown flag: --bogus\nSee 'docker run --help'.\n", 125},
		{[]string{"port", "a", "b", "c"}, `"docker port" requires at least 1 and at most 2 arguments.`, 1},
		{[]string{"network", "connect", "lan"}, `"docker network connect" requires exactly 2 arguments.`, 1},
		{[]string{"ps", "x"}, `"docker ps" accepts no arguments.`, 1},
		{[]string{"images", "a", "b"}, `"docker images" requires at most 1 argument.`, 1},
		{[]string{"network", "ls", "-z"}, "unknown shorthand flag: 'z' in -z\nSee 'docker network ls --help'.\n", 125},
	} {
		var stdout, stderr bytes.Buffer
		err := new(Session).Docker(context.Background(), tc.args, IO{Stdout: &stdout, Stderr: &stderr})
		var ee *ExitError
		if assert.ErrorAs(t, err, &ee, "docker %q", tc.args) {
			assert.Equal(t, tc.code, ee.Code, "docker %q: exit status", tc.args)
		}
		assert.True(t, strings.HasPrefix(stderr.String(), tc.want), "docker %q: stderr\n%s\nwant\n%s", tc.args, stderr.String(), tc.want)
	}
	for _, args := range [][]string{nil, {"build", "."}, {"network"}} {
		assert.ErrorIs(t, new(Session).Docker(context.Background(), args, IO{}), ErrNotImplemented, "docker %q", args)
	}
}

func TestSubcommandTable(t *testing.T) {
	for _, s := range dockerSubs {
		if s.run == nil || s.Use == "" || s.Short == "" {
			t.Errorf("docker %s: incomplete subcommand", s.Name)
		}
	}
}
