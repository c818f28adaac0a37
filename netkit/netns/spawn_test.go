package netns_test

import (
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/netns"
)

// spawnReport starts sh through Spawn in ns; sh writes its namespaces and
// the descriptors it holds on descriptor 3, then exits with 7.
func spawnReport(t *testing.T, ns *netns.NS, opts netns.StartOptions) (out string, code int) {
	t.Helper()
	sh, err := os.Open("/bin/sh")
	require.NoError(t, err)
	defer sh.Close()
	rd, wr, err := os.Pipe()
	require.NoError(t, err)
	defer rd.Close()
	script := `readlink /proc/$$/ns/net /proc/$$/ns/uts >&3; ls /proc/$$/fd | tr '\n' ' ' >&3; exit 7`
	p, err := ns.Spawn(netns.Spawn{Exe: sh, Args: []string{"sh", "-c", script}, Extra: []*os.File{wr}}, opts)
	wr.Close()
	require.NoError(t, err)
	b, err := io.ReadAll(rd)
	require.NoError(t, err)
	st, err := p.Wait()
	require.NoError(t, err)
	return string(b), st.ExitCode()
}

// TestSpawnInNamespaceWithOwnDescriptors: a spawned process is in the
// namespace (and a UTS namespace of its own when asked), exits with its
// own status through Wait, and holds only its standard streams and its
// extra files: not even a descriptor labrun forgot to mark close-on-exec,
// which a process started by fork from labrun's table inherits.
func TestSpawnInNamespaceWithOwnDescriptors(t *testing.T) {
	skipUnlessNetns(t)
	ns, err := netns.New()
	require.NoError(t, err)
	defer ns.Close()
	ino, err := ns.Inode()
	require.NoError(t, err)
	ownUTS, err := os.Readlink("/proc/self/ns/uts")
	require.NoError(t, err)

	// A descriptor without close-on-exec in labrun's table.
	leak, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0)
	require.NoError(t, err)
	defer syscall.Close(leak)

	out, code := spawnReport(t, ns, netns.StartOptions{NewUTS: true})
	require.Equal(t, 7, code)
	lines := strings.SplitN(out, "\n", 3)
	require.Len(t, lines, 3, out)
	require.Equal(t, "net:["+strconv.FormatUint(ino, 10)+"]", lines[0])
	require.NotEqual(t, ownUTS, lines[1], "no UTS namespace of its own")
	require.Equal(t, "0 1 2 3 ", lines[2], "descriptors of the spawned shell")

	// Without NewUTS it shares ours; many spawns reuse one spawner.
	for i := 0; i < 20; i++ {
		out, code = spawnReport(t, ns, netns.StartOptions{})
		require.Equal(t, 7, code)
		require.Equal(t, ownUTS, strings.SplitN(out, "\n", 3)[1])
	}

	// The test can fail: an ordinary start from labrun's table hands the
	// forgotten descriptor down.
	cmd := exec.Command("/bin/sh", "-c", "ls /proc/$$/fd | tr '\\n' ' '")
	var b strings.Builder
	cmd.Stdout = &b
	require.NoError(t, ns.Start(cmd, netns.StartOptions{}))
	require.NoError(t, cmd.Wait())
	require.Contains(t, " "+b.String(), " "+strconv.Itoa(leak)+" ")
}

// TestSpawnClosedNamespace: a closed namespace starts nothing.
func TestSpawnClosedNamespace(t *testing.T) {
	skipUnlessNetns(t)
	ns, err := netns.New()
	require.NoError(t, err)
	require.NoError(t, ns.Close())
	sh, err := os.Open("/bin/sh")
	require.NoError(t, err)
	defer sh.Close()
	_, err = ns.Spawn(netns.Spawn{Exe: sh, Args: []string{"sh", "-c", "true"}}, netns.StartOptions{})
	require.ErrorIs(t, err, netns.ErrClosed)
}

// TestSpawnSurvivesGC: the spawner threads allocate, so a garbage
// collection may start on one of them, and the runtime then polls its
// network poller from that thread: the thread's own descriptor table must
// still hold the poller's descriptors (it crashed the process when it did
// not).
func TestSpawnSurvivesGC(t *testing.T) {
	skipUnlessNetns(t)
	defer debug.SetGCPercent(debug.SetGCPercent(1))
	ns, err := netns.New()
	require.NoError(t, err)
	defer ns.Close()
	exe, err := os.Open("/bin/true")
	require.NoError(t, err)
	defer exe.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // garbage, so that collections start often
		var keep [][]byte
		for {
			select {
			case <-stop:
				return
			default:
			}
			keep = append(keep, make([]byte, 64<<10))
			if len(keep) > 64 {
				keep = nil
			}
		}
	}()
	for range 300 {
		p, err := ns.Spawn(netns.Spawn{Exe: exe, Args: []string{"true"}}, netns.StartOptions{})
		require.NoError(t, err)
		st, err := p.Wait()
		require.NoError(t, err)
		require.True(t, st.Success())
	}
}
