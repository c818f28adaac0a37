package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rootlessEnv gates the rootless tests: they add ordinary users to the
// machine (make test-rootless, which CI runs).
const rootlessEnv = "LABRUN_ROOTLESS_TEST"

// rootlessUsers are the ordinary users the tests make: A builds labs, B
// tries to use them.
var rootlessUsers = []string{"labrun-a", "labrun-b"}

// asUser runs labrun (at bin) with args as user name, in dir; it returns
// the combined output and the exit status.
func asUser(t *testing.T, name, dir string, bin string, args ...string) (string, int) {
	t.Helper()
	u, err := user.Lookup(name)
	require.NoError(t, err)
	cmd := exec.Command("runuser", append([]string{"-u", name, "--", bin}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin", "HOME=" + u.HomeDir, "USER=" + name}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running labrun as %s: %v", name, err)
	}
	return string(out), code
}

// rootlessSetup makes the users (with subordinate IDs, as useradd gives
// them) and a directory they can read with labrun and the scenarios.
func rootlessSetup(t *testing.T) (bin, dir string) {
	t.Helper()
	if os.Getenv(rootlessEnv) == "" {
		t.Skipf("skipping: adds ordinary users to the machine; make test-rootless sets %s=1", rootlessEnv)
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: making users needs root")
	}
	for i, name := range rootlessUsers {
		if _, err := user.Lookup(name); err != nil {
			out, err := exec.Command("useradd", "-m", "-s", "/bin/sh", name).CombinedOutput()
			require.NoError(t, err, "useradd %s: %s", name, out)
		}
		// Subordinate IDs, as Debian's useradd grants them, where this
		// one did not (programs in the lab that change user need them).
		if b, _ := os.ReadFile("/etc/subuid"); !strings.Contains("\n"+string(b), "\n"+name+":") {
			first := 300000 + i*65536
			r := fmt.Sprintf("%d-%d", first, first+65535)
			out, err := exec.Command("usermod", "--add-subuids", r, "--add-subgids", r, name).CombinedOutput()
			require.NoError(t, err, "usermod --add-subuids %s: %s", name, out)
		}
	}
	labrun, _ := binaries(t)
	dir, err := os.MkdirTemp("", "labrun-rootless-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	bin = filepath.Join(dir, "labrun")
	b, err := os.ReadFile(labrun)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, b, 0o755))
	require.NoError(t, os.CopyFS(filepath.Join(dir, "scenarios"), os.DirFS("../../scenarios")))
	require.NoError(t, filepath.Walk(filepath.Join(dir, "scenarios"), func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			err = os.Chmod(p, map[bool]os.FileMode{true: 0o755, false: 0o644}[fi.IsDir()])
		}
		return err
	}))
	return bin, dir
}

// TestRootlessScenarios: as a freshly made ordinary user, every scenario
// passes (or skips where it says it needs root), and the root namespace is
// unchanged after.
func TestRootlessScenarios(t *testing.T) {
	bin, dir := rootlessSetup(t)
	_, rootguard := binaries(t)
	snap := rootSnapshot(t, rootguard)
	out, code := asUser(t, rootlessUsers[0], dir, bin, "-j", "2", "scenarios/")
	assert.Equal(t, 0, code, "labrun scenarios/ as an ordinary user:\n%s", out)
	assert.Regexp(t, `(?m)^\d+ passed, 0 failed`, out)
	rootCompare(t, rootguard, snap)
}

// TestRootlessLab: an ordinary user's live lab, from labrun up to down,
// with a published port reached from the client; another user can neither
// enter it nor remove it, nor reach its keeper's socket.
func TestRootlessLab(t *testing.T) {
	bin, dir := rootlessSetup(t)
	a, b := rootlessUsers[0], rootlessUsers[1]
	out, code := asUser(t, a, dir, bin, "up", "-name", "rl")
	require.Equal(t, 0, code, "labrun up as %s:\n%s", a, out)
	t.Cleanup(func() { asUser(t, a, dir, bin, "down", "rl") })
	out, code = asUser(t, a, dir, bin, "shell", "-lab", "rl", "host", "docker", "run", "-d", "-p", "801:80", "httpd")
	require.Equal(t, 0, code, "docker run in the lab:\n%s", out)
	out, code = asUser(t, a, dir, bin, "shell", "-lab", "rl", "client", "curl", "-s", "http://192.168.190.128:801/")
	require.Equal(t, 0, code, "curl from the client:\n%s", out)
	assert.Contains(t, out, "It works!")

	for _, args := range [][]string{
		{"shell", "-lab", "rl", "host", "id"}, {"down", "rl"}, {"exercise", "check", "-lab", "rl"}, {"inspect", "rl"},
	} {
		out, code := asUser(t, b, dir, bin, args...)
		assert.NotEqual(t, 0, code, "%s's labrun %s on %s's lab:\n%s", b, strings.Join(args, " "), a, out)
		assert.Contains(t, out, `lab "rl" of yours`, "labrun %s", strings.Join(args, " "))
	}
	ua, err := user.Lookup(a)
	require.NoError(t, err)
	sock := filepath.Join(os.TempDir(), "labrun-"+ua.Uid, "rl", "sock")
	out, code = asUserCmd(t, b, "sh", "-c", "exec 3<>/dev/null; cat "+sock)
	assert.NotEqual(t, 0, code)
	assert.Contains(t, out, "Permission denied", "%s reading %s", b, sock)

	out, code = asUser(t, a, dir, bin, "ls")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "rl ")
	out, code = asUser(t, b, dir, bin, "ls")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "no live lab")
	out, code = asUser(t, a, dir, bin, "down", "rl")
	require.Equal(t, 0, code, "labrun down as %s:\n%s", a, out)
}

// asUserCmd runs a command as user name.
func asUserCmd(t *testing.T, name string, argv ...string) (string, int) {
	t.Helper()
	out, err := exec.Command("runuser", append([]string{"-u", name, "--"}, argv...)...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	require.NoError(t, err)
	return string(out), 0
}

// TestRootlessBlocked: where the machine forbids ordinary users user
// namespaces (user.max_user_namespaces=0, restored after), labrun names
// the setting, exits 2 and builds nothing. Some machines do not let even
// root change it (a VM's sandbox); the test skips there, and
// netkit/userns's TestBlocked covers each setting's message.
func TestRootlessBlocked(t *testing.T) {
	bin, dir := rootlessSetup(t)
	const key = "/proc/sys/user/max_user_namespaces"
	old, err := os.ReadFile(key)
	require.NoError(t, err)
	if err := os.WriteFile(key, []byte("0"), 0o644); err != nil {
		t.Skipf("skipping: this machine does not let root set user.max_user_namespaces (%v)", err)
	}
	t.Cleanup(func() { require.NoError(t, os.WriteFile(key, old, 0o644)) })
	out, code := asUser(t, rootlessUsers[0], dir, bin, "scenarios/host-mode.txt")
	assert.Equal(t, 2, code, "labrun with user namespaces forbidden:\n%s", out)
	assert.Contains(t, out, "user.max_user_namespaces=0")
	assert.Contains(t, out, "sysctl -w user.max_user_namespaces=")
	assert.NotContains(t, out, "PASS")
}

// TestRootlessKilled: kill -9 of an ordinary user's labrun leaves none of
// its processes, and the root namespace unchanged.
func TestRootlessKilled(t *testing.T) {
	bin, dir := rootlessSetup(t)
	_, rootguard := binaries(t)
	snap := rootSnapshot(t, rootguard)
	a := rootlessUsers[0]
	require.NoError(t, os.WriteFile(filepath.Join(dir, "long.txt"), []byte("docker run -d --name web -p 801:80 httpd\non client sleep 120\n"), 0o644))
	ua, err := user.Lookup(a)
	require.NoError(t, err)
	cmd := exec.Command("runuser", "-u", a, "--", bin, "long.txt")
	cmd.Dir = dir
	require.NoError(t, cmd.Start())
	// Wait for the lab's sleep, then kill labrun's outer process.
	var outer int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out, _ := exec.Command("pgrep", "-u", ua.Uid, "-x", "sleep").Output()
		pids, _ := exec.Command("pgrep", "-u", ua.Uid, "-o", "-f", bin+" long.txt").Output()
		if len(out) > 0 && len(pids) > 0 {
			outer = atoi(strings.TrimSpace(string(pids)))
			break
		}
	}
	require.NotZero(t, outer, "the lab never started")
	require.NoError(t, syscall.Kill(outer, syscall.SIGKILL))
	cmd.Wait()
	var left []byte
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if left, _ = exec.Command("pgrep", "-u", ua.Uid, "-a").Output(); len(left) == 0 {
			break
		}
	}
	assert.Empty(t, string(left), "%s's processes after kill -9 of labrun", a)
	rootCompare(t, rootguard, snap)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
