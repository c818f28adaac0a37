package netns

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSysctlsFollowTheThread: a file opened through Sysctls is the calling
// thread's namespace's, whichever instance it came through, and instances
// rotate every opensPerInstance opens.
func TestSysctlsFollowTheThread(t *testing.T) {
	if err := Available(); err != nil {
		t.Skipf("skipping: cannot make network namespaces here: %v", err)
	}
	a, err := New()
	require.NoError(t, err)
	defer a.Close()
	b, err := New()
	require.NoError(t, err)
	defer b.Close()

	var s Sysctls
	const key = "net/ipv4/ip_default_ttl" // 64 in a new namespace
	write := func(ns *NS, v string) {
		t.Helper()
		require.NoError(t, ns.Do(func() error {
			f, err := s.Open(key, os.O_RDWR)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte(v), 0)
			return err
		}))
	}
	before, err := b.ReadSysctl(key)
	require.NoError(t, err)
	write(a, "33")
	got, err := a.ReadSysctl(key)
	require.NoError(t, err)
	require.Equal(t, "33", got)
	got, err = b.ReadSysctl(key)
	require.NoError(t, err)
	require.Equal(t, before, got, "a write in one namespace showed in another")

	// Past two rotations, the value read is still namespace b's own.
	write(b, "44")
	for i := 0; i < 2*opensPerInstance; i++ {
		require.NoError(t, b.Do(func() error {
			f, err := s.Open(key, os.O_RDONLY)
			if err != nil {
				return err
			}
			defer f.Close()
			v, err := io.ReadAll(f)
			require.Equal(t, "44", strings.TrimSpace(string(v)))
			return err
		}))
	}
	s.mu.Lock()
	mounts, fallback := len(s.mounts), s.fallback
	s.mu.Unlock()
	if !fallback {
		require.Equal(t, 3, mounts, "instances after %d opens", 2*opensPerInstance+2)
	}

	_, err = s.Open("net/ipv4/nonexistent", os.O_RDONLY)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, s.Close())
	_, err = s.Open(key, os.O_RDONLY)
	require.True(t, errors.Is(err, os.ErrClosed), "open after Close: %v", err)
}
