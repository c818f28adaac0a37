package dockercli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
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
		if !errors.As(err, &ee) || ee.Code != tc.code {
			t.Errorf("docker %q: error %v, want exit status %d", tc.args, err, tc.code)
		}
		if !strings.HasPrefix(stderr.String(), tc.want) {
			t.Errorf("docker %q: stderr\n%s\nwant\n%s", tc.args, stderr.String(), tc.want)
		}
	}
	for _, args := range [][]string{nil, {"build", "."}, {"network"}} {
		if err := new(Session).Docker(context.Background(), args, IO{}); !errors.Is(err, ErrNotImplemented) {
			t.Errorf("docker %q: error %v, want ErrNotImplemented", args, err)
		}
	}
}

func TestSubcommandTable(t *testing.T) {
	for _, s := range dockerSubs {
		if s.run == nil || s.Use == "" || s.Short == "" {
			t.Errorf("docker %s: incomplete subcommand", s.Name)
		}
	}
}
