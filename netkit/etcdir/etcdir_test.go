package etcdir

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDir: files are written in place (a bind mount keeps seeing them),
// and Close removes the directory.
func TestDir(t *testing.T) {
	d, err := New()
	require.NoError(t, err)
	p, err := d.Write("c1", "hosts", []byte("one\n"))
	require.NoError(t, err)
	st1, err := os.Stat(p)
	require.NoError(t, err)
	_, err = d.Write("c1", "hosts", []byte("two\n"))
	require.NoError(t, err)
	st2, err := os.Stat(p)
	require.NoError(t, err)
	require.True(t, os.SameFile(st1, st2), "rewritten in place")
	got, err := d.Read("c1", "hosts")
	require.NoError(t, err)
	require.Equal(t, "two\n", string(got))
	require.NoError(t, d.Remove("c1"))
	require.NoFileExists(t, p)
	require.NoError(t, d.Close())
	require.NoDirExists(t, d.Path())
}

// TestSweep: the directory of a process that is gone is removed, that of
// a live one is kept.
func TestSweep(t *testing.T) {
	tmp := t.TempDir()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	dead := filepath.Join(tmp, prefix+strconv.Itoa(cmd.Process.Pid)+"-x")
	live := filepath.Join(tmp, prefix+strconv.Itoa(os.Getpid())+"-y")
	other := filepath.Join(tmp, "unrelated")
	for _, p := range []string{dead, live, other} {
		require.NoError(t, os.MkdirAll(p, 0o755))
	}
	sweep(tmp)
	require.NoDirExists(t, dead)
	require.DirExists(t, live)
	require.DirExists(t, other)
}
