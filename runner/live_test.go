package runner

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

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
	if err != nil || len(strings.TrimSpace(out)) != 64 {
		t.Fatalf("docker run: %q, %v", out, err)
	}
	if out, _, err := run("docker", "port", "web", "80"); err != nil || !strings.HasPrefix(out, "0.0.0.0:801\n") {
		t.Errorf("docker port: %q, %v", out, err)
	}
	// docker exec sees the PATH of ExecOptions.Env.
	if out, _, err := run("docker", "exec", "web", "ip", "-4", "-br", "addr", "show", "eth0"); err != nil || !strings.Contains(out, "172.17.0.2/16") {
		t.Errorf("docker exec: %q, %v", out, err)
	}
	_, stderr, err := run("docker", "run", "--bogus", "httpd")
	if ExitStatus(err) != 125 || !strings.Contains(stderr, "unknown flag: --bogus") {
		t.Errorf("docker run --bogus: status %d, %q", ExitStatus(err), stderr)
	}
	_, stderr, err = run("reach", "client", "192.168.190.128:802")
	if ExitStatus(err) != 1 || !strings.Contains(stderr, "connection refused") {
		t.Errorf("reach: status %d, %q", ExitStatus(err), stderr)
	}
	_, stderr, err = run("capture", "start", "x", "host", "eth0")
	if !errors.Is(err, ErrUsage) || ExitStatus(err) != 2 || !strings.Contains(stderr, "not a command a live lab runs") {
		t.Errorf("capture: status %d, %q, %v", ExitStatus(err), stderr, err)
	}
	if ExitStatus(nil) != 0 {
		t.Error("ExitStatus(nil) != 0")
	}
}
