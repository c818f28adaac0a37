package userns

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestBlocked: each setting that forbids an ordinary user's user
// namespace is named, with how to allow it; a kernel without the setting,
// or with it allowing, is no reason.
func TestBlocked(t *testing.T) {
	for _, s := range sysctls {
		root := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Dir(root+s.file), 0o755))
		require.NoError(t, os.WriteFile(root+s.file, []byte(s.blocking+"\n"), 0o644))
		err := Blocked(root)
		assert.True(t, errors.Is(err, ErrBlocked), s.name)
		assert.ErrorContains(t, err, s.name)
		assert.ErrorContains(t, err, "sysctl -w ")
		require.NoError(t, os.WriteFile(root+s.file, []byte("15000\n"), 0o644))
		if s.blocking == "0" {
			assert.NoError(t, Blocked(root), "%s allowing", s.name)
		}
	}
	assert.NoError(t, Blocked(t.TempDir()), "a kernel without these settings")
}

// TestSubIDs: /etc/subuid's ranges, by the user's name or ID.
func TestSubIDs(t *testing.T) {
	f := filepath.Join(t.TempDir(), "subuid")
	require.NoError(t, os.WriteFile(f, []byte("alice:100000:65536\n1001:165536:65536\nbad:line\n"), 0o644))
	r, ok := subIDs(f, "alice", 1000)
	assert.True(t, ok)
	assert.Equal(t, subRange{100000, 65536}, r)
	r, ok = subIDs(f, "bob", 1001)
	assert.True(t, ok)
	assert.Equal(t, subRange{165536, 65536}, r)
	_, ok = subIDs(f, "carol", 1002)
	assert.False(t, ok)
	_, ok = subIDs(filepath.Join(t.TempDir(), "none"), "alice", 1000)
	assert.False(t, ok)
}

// TestRootless: the variable Reexec sets is what tells the program run
// again who ran it.
func TestRootless(t *testing.T) {
	t.Setenv(envUID, "1001")
	uid, ok := Rootless()
	assert.True(t, ok)
	assert.Equal(t, 1001, uid)
	assert.False(t, Needed())
	assert.Contains(t, Environ(), envUID+"=1001")
	os.Unsetenv(envUID)
	_, ok = Rootless()
	assert.False(t, ok)
	assert.Nil(t, Environ())
}

// TestSameUser: a peer of this process's own user passes.
func TestSameUser(t *testing.T) {
	a, b, err := unixPair()
	require.NoError(t, err)
	defer a.Close()
	defer b.Close()
	assert.NoError(t, SameUser(a))
}

// unixPair is a connected pair of unix stream sockets.
func unixPair() (*net.UnixConn, *net.UnixConn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return nil, nil, err
	}
	conn := func(fd int) (*net.UnixConn, error) {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			return nil, err
		}
		return c.(*net.UnixConn), nil
	}
	a, err := conn(fds[0])
	if err != nil {
		return nil, nil, err
	}
	b, err := conn(fds[1])
	return a, b, err
}
