package runner

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/testkit"
)

// TestExec runs command lines against a lab outside any script, as a live
// lab's keeper does: output and exit statuses are the scenario commands'.
func TestExec(t *testing.T) {
	testkit.RequireLab(t)
	lab, err := netkit.NewLab(netkit.LabOptions{Name: "exec"})
	require.NoError(t, err)
	defer lab.Close()
	run := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := Exec(context.Background(), lab, ExecOptions{Dir: t.TempDir(), Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, Stdout: &out, Stderr: &errb}, args)
		return out.String(), errb.String(), err
	}
	out, _, err := run("docker", "run", "-d", "--name", "web", "-p", "801:80", "httpd")
	require.NoError(t, err, "docker run")
	require.Len(t, strings.TrimSpace(out), 64, "docker run: the container's ID")
	out, _, err = run("docker", "port", "web", "80")
	assert.NoError(t, err, "docker port")
	assert.True(t, strings.HasPrefix(out, "0.0.0.0:801\n"), "docker port: %q", out)
	// docker exec sees the PATH of ExecOptions.Env.
	out, _, err = run("docker", "exec", "web", "ip", "-4", "-br", "addr", "show", "eth0")
	assert.NoError(t, err, "docker exec")
	assert.Contains(t, out, "172.17.0.2/16", "docker exec")
	_, stderr, err := run("docker", "run", "--bogus", "httpd")
	assert.Equal(t, 125, ExitStatus(err), "docker run --bogus: status")
	assert.Contains(t, stderr, "unknown flag: --bogus", "docker run --bogus")
	_, stderr, err = run("reach", "client", "192.168.190.128:802")
	assert.Equal(t, 1, ExitStatus(err), "reach: status")
	assert.Contains(t, stderr, "connection refused", "reach")
	_, stderr, err = run("capture", "start", "x", "host", "eth0")
	assert.ErrorIs(t, err, ErrUsage, "capture")
	assert.Equal(t, 2, ExitStatus(err), "capture: status")
	assert.Contains(t, stderr, "not a command a live lab runs", "capture")
	assert.Equal(t, 0, ExitStatus(nil), "ExitStatus(nil)")
}
