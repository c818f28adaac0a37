package classroom

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/testkit"
)

func TestShellCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, nil},
		{[]string{"ip -br a | grep eth0"}, []string{"sh", "-c", "ip -br a | grep eth0"}},
		{[]string{"sh", "-c", "echo out; echo err >&2"}, []string{"sh", "-c", `sh -c 'echo out; echo err >&2'`}},
		{[]string{"ping", "-c", "1", "192.168.190.128"}, []string{"sh", "-c", "ping -c 1 192.168.190.128"}},
		{[]string{"echo", "", "it's"}, []string{"sh", "-c", `echo '' 'it'\''s'`}},
	} {
		assert.Equal(t, tc.want, shellCommand(tc.args), "shellCommand(%q)", tc.args)
	}
}

// The words of shellCommand reach the program as typed.
func TestShellCommandWords(t *testing.T) {
	words := []string{"printf", `%s|`, "a b", "it's", `$HOME`, "`x`", "", `\n`, "*"}
	out, err := exec.Command(shellCommand(words)[0], shellCommand(words)[1:]...).Output()
	require.NoError(t, err)
	assert.Equal(t, "a b|it's|$HOME|`x`||\\n|*|", string(out))
}

func TestLinkTools(t *testing.T) {
	have := map[string]string{"busybox": "/opt/bb/busybox", "ping": "/usr/bin/ping"}
	look := func(name string) (string, error) {
		if p, ok := have[name]; ok {
			return p, nil
		}
		return "", exec.ErrNotFound
	}
	dir := t.TempDir()
	linked, err := linkTools(dir, look)
	require.NoError(t, err)
	assert.Equal(t, []string{"ping6", "nslookup", "wget"}, linked, "the machine's ping comes first")
	for _, name := range linked {
		target, err := os.Readlink(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, "/opt/bb/busybox", target, name)
	}
	_, err = os.Lstat(filepath.Join(dir, "ping"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "no busybox ping where the machine has one")

	// A second keeper of the same directory finds the links there.
	linked, err = linkTools(dir, look)
	require.NoError(t, err)
	assert.Len(t, linked, 3)

	delete(have, "busybox")
	linked, err = linkTools(t.TempDir(), look)
	require.NoError(t, err)
	assert.Empty(t, linked, "without busybox there is nothing to link")
}

// shellRun runs labrun shell with stdin, and returns its stdout and stderr
// apart, and its exit status.
func shellRun(t *testing.T, stdin []byte, args ...string) (stdout, stderr []byte, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, labrun(t), append([]string{"shell"}, args...)...)
	cmd.WaitDelay = time.Second
	cmd.Stdin = bytes.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "labrun shell %s: still running after 30 s; stdout %q, stderr %q", strings.Join(args, " "), o.String(), e.String())
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err, "labrun shell %s", strings.Join(args, " "))
	}
	return o.Bytes(), e.Bytes(), code
}

// TestLiveShellStdio: labrun shell NODE CMD with pipes runs CMD through
// the node's shell without a terminal: stdout and stderr apart, bytes as
// they are, the exit status, stdin; and ping -c 1 works from every node
// and from containers (labrun shell CTR, docker exec).
func TestLiveShellStdio(t *testing.T) {
	testkit.RequireLab(t)
	name := testLabName(t, "stdio")
	mustRun(t, nil, "up", "-name", name)
	keeper := keeperPID(name)
	defer downIfUp(t, name)
	inos := labNetns(t, name)

	t.Run("apart", func(t *testing.T) {
		o, e, code := shellRun(t, nil, "-lab", name, "host", "sh", "-c", "echo out; echo err >&2")
		assert.Equal(t, "out\n", string(o), "stdout")
		assert.Equal(t, "err\n", string(e), "stderr")
		assert.Equal(t, 0, code)
	})
	t.Run("status", func(t *testing.T) {
		o, _, code := shellRun(t, nil, "-lab", name, "client", "hostname; exit 3")
		assert.Equal(t, "client\n", string(o))
		assert.Equal(t, 3, code)
	})
	t.Run("binary", func(t *testing.T) {
		data := make([]byte, 256<<10)
		_, err := rand.Read(data)
		require.NoError(t, err)
		data = append(data, "\n\r\n\x04\x03\x00"...)
		o, e, code := shellRun(t, data, "-lab", name, "client", "cat")
		assert.Equal(t, 0, code, "stderr: %s", e)
		assert.True(t, bytes.Equal(data, o), "cat through labrun shell: %d bytes in, %d out", len(data), len(o))
	})
	t.Run("script", func(t *testing.T) {
		o, _, code := shellRun(t, []byte("echo $LABRUN_NODE\nhostname\n"), "-lab", name, "gateway")
		assert.Equal(t, "gateway\ngateway\n", string(o))
		assert.Equal(t, 0, code)
	})
	t.Run("ping", func(t *testing.T) {
		for node, addr := range map[string]string{
			"host": "192.168.190.1", "client": "192.168.190.128",
			"gateway": "192.168.190.1", "internet": "203.0.113.1",
		} {
			o, e, code := shellRun(t, nil, "-lab", name, node, "ping", "-c", "1", "-W", "5", addr)
			assert.Equal(t, 0, code, "ping -c 1 %s in %s: %s%s", addr, node, o, e)
			assert.Contains(t, string(o), "1 received", "ping in %s", node)
		}
		env := []string{"LABRUN_LAB=" + name}
		mustRun(t, env, "docker", "run", "-d", "--name", "pinger", "busybox", "sleep", "1000")
		out := mustRun(t, env, "docker", "exec", "pinger", "ping", "-c", "1", "-W", "5", "172.17.0.1")
		assert.Contains(t, out, "1 received", "docker exec pinger ping")
		o, e, code := shellRun(t, nil, "-lab", name, "pinger", "ping -c 1 -W 5 192.168.190.128")
		assert.Equal(t, 0, code, "ping in a container: %s%s", o, e)
		assert.Contains(t, string(o), "1 received", "ping in a container")
	})

	mustRun(t, nil, "down", name)
	waitGone(t, name, keeper, inos)
}
