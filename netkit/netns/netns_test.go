package netns_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
)

func selfInode(t *testing.T) uint64 {
	t.Helper()
	var st unix.Stat_t
	require.NoError(t, unix.Stat("/proc/self/task/"+strconv.Itoa(unix.Gettid())+"/ns/net", &st))
	return st.Ino
}

// TestNewIsEmptyAndSeparate: a new namespace has only lo, is not the
// caller's, and Do leaves every thread where it was.
func TestNewIsEmptyAndSeparate(t *testing.T) {
	testkit.RequireNetAdmin(t)
	rootIno, err := (func() (uint64, error) {
		ns, err := netns.Open("/proc/self/ns/net")
		if err != nil {
			return 0, err
		}
		defer ns.Close()
		return ns.Inode()
	})()
	require.NoError(t, err)
	ns, err := netns.New()
	require.NoError(t, err)
	defer ns.Close()
	ino, err := ns.Inode()
	require.NoError(t, err)
	require.NotEqual(t, rootIno, ino)
	var ifaces []net.Interface
	var inside uint64
	require.NoError(t, ns.Do(func() error {
		var err error
		ifaces, err = net.Interfaces()
		inside = selfInode(t)
		return err
	}))
	require.Equal(t, ino, inside)
	require.Len(t, ifaces, 1)
	require.Equal(t, "lo", ifaces[0].Name)

	// Many concurrent Do calls never leak a thread into the namespace.
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); ns.Do(func() error { return nil }) }()
		go func() {
			defer wg.Done()
			ext, _ := netns.Open("/proc/self/task/" + strconv.Itoa(unix.Gettid()) + "/ns/net")
			if ext != nil {
				i, _ := ext.Inode()
				ext.Close()
				if i == ino {
					t.Errorf("a goroutine outside Do ran in the lab namespace")
				}
			}
		}()
	}
	wg.Wait()
}

// TestClosedNS: a closed namespace refuses work.
func TestClosedNS(t *testing.T) {
	testkit.RequireNetAdmin(t)
	ns, err := netns.New()
	require.NoError(t, err)
	require.NoError(t, ns.Close())
	require.ErrorIs(t, ns.Do(func() error { return nil }), netns.ErrClosed)
	require.NoError(t, ns.Close(), "closing twice is fine")
}

// TestStartRunsInside: a started process lives in the namespace.
func TestStartRunsInside(t *testing.T) {
	ns := testkit.NewNS(t, testkit.NSOptions{})
	ino, _ := ns.Inode()
	cmd := exec.Command("readlink", "/proc/self/ns/net")
	var out strings.Builder
	cmd.Stdout = &out
	require.NoError(t, ns.Start(cmd, netns.StartOptions{}))
	require.NoError(t, cmd.Wait())
	require.Equal(t, "net:["+strconv.FormatUint(ino, 10)+"]", strings.TrimSpace(out.String()))
}

// TestSysctl: sysctls are per namespace.
func TestSysctl(t *testing.T) {
	ns := testkit.NewNS(t, testkit.NSOptions{})
	require.NoError(t, ns.WriteSysctl("net/ipv4/ip_forward", "0"))
	v, err := ns.ReadSysctl("net/ipv4/ip_forward")
	require.NoError(t, err)
	require.Equal(t, "0", v)
	require.NoError(t, ns.WriteSysctl("net/ipv4/ip_forward", "1"))
	v, err = ns.ReadSysctl("net/ipv4/ip_forward")
	require.NoError(t, err)
	require.Equal(t, "1", v)
}

// TestPin: a pinned namespace can be opened by path until unpinned.
func TestPin(t *testing.T) {
	testkit.RequireNetAdmin(t)
	ns, err := netns.New()
	require.NoError(t, err)
	ino, _ := ns.Inode()
	dir := t.TempDir()
	p := filepath.Join(dir, "pin")
	require.NoError(t, ns.Pin(p))
	require.NoError(t, ns.Close())
	again, err := netns.Open(p)
	require.NoError(t, err)
	i2, _ := again.Inode()
	again.Close()
	require.Equal(t, ino, i2)
	require.NoError(t, netns.Unpin(p))
	_, err = os.Stat(p)
	require.True(t, os.IsNotExist(err))
}
