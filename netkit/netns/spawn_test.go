package netns_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
)

// spawned is what a spawned process held, read from /proc while it ran.
type spawned struct {
	net, uts string
	fds      string // its descriptors, "0 1 2 3"
}

// spawnReport starts sleep through Spawn in ns with one extra descriptor,
// reads its namespaces and descriptors from /proc, then kills it. (A shell
// listing its own descriptors would see those it holds for a pipeline or
// a redirection of its own.)
func spawnReport(t *testing.T, ns *netns.NS, opts netns.StartOptions) spawned {
	t.Helper()
	exe, err := exec.LookPath("sleep")
	require.NoError(t, err)
	f, err := os.Open(exe)
	require.NoError(t, err)
	defer f.Close()
	rd, wr, err := os.Pipe()
	require.NoError(t, err)
	defer rd.Close()
	p, err := ns.Spawn(netns.Spawn{Exe: f, Args: []string{"sleep", "60"}, Extra: []*os.File{wr}}, opts)
	wr.Close()
	require.NoError(t, err)
	defer p.Wait()
	defer p.Kill()
	dir := "/proc/" + strconv.Itoa(p.Pid)
	waitSleeping(t, dir)
	var s spawned
	s.net, err = os.Readlink(dir + "/ns/net")
	require.NoError(t, err)
	s.uts, err = os.Readlink(dir + "/ns/uts")
	require.NoError(t, err)
	ents, err := os.ReadDir(dir + "/fd")
	require.NoError(t, err)
	var fds []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		require.NoError(t, err)
		fds = append(fds, n)
	}
	slices.Sort(fds)
	s.fds = strings.Trim(fmt.Sprint(fds), "[]")
	return s
}

// waitSleeping waits until the process of /proc directory dir sleeps in
// clock_nanosleep: its exec is over, and with it the closing of its
// close-on-exec descriptors (Spawn returns once the exec has begun).
func waitSleeping(t *testing.T, dir string) {
	t.Helper()
	want := []string{strconv.Itoa(unix.SYS_CLOCK_NANOSLEEP), strconv.Itoa(unix.SYS_NANOSLEEP)}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(dir + "/syscall")
		require.NoError(t, err)
		if f := strings.Fields(string(b)); len(f) > 0 && slices.Contains(want, f[0]) {
			return
		}
		require.True(t, time.Now().Before(deadline), "%s never slept: %s", dir, b)
		time.Sleep(time.Millisecond)
	}
}

// TestSpawnInNamespaceWithOwnDescriptors: a spawned process is in the
// namespace (and a UTS namespace of its own when asked), exits with its
// own status through Wait, and holds only its standard streams and its
// extra files: not even a descriptor labrun forgot to mark close-on-exec,
// which a process started by fork from labrun's table inherits.
func TestSpawnInNamespaceWithOwnDescriptors(t *testing.T) {
	ns := testkit.NewNS(t, testkit.NSOptions{})
	ino, err := ns.Inode()
	require.NoError(t, err)
	ownUTS, err := os.Readlink("/proc/self/ns/uts")
	require.NoError(t, err)

	// A descriptor without close-on-exec in labrun's table.
	leak, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0)
	require.NoError(t, err)
	defer syscall.Close(leak)

	got := spawnReport(t, ns, netns.StartOptions{NewUTS: true})
	require.Equal(t, "net:["+strconv.FormatUint(ino, 10)+"]", got.net)
	require.NotEqual(t, ownUTS, got.uts, "no UTS namespace of its own")
	require.Equal(t, "0 1 2 3", got.fds, "descriptors of the spawned process")

	// Without NewUTS it shares ours; many spawns reuse one spawner.
	for i := 0; i < 20; i++ {
		require.Equal(t, ownUTS, spawnReport(t, ns, netns.StartOptions{}).uts)
	}

	// Its exit status comes back through Wait.
	sh, err := os.Open("/bin/sh")
	require.NoError(t, err)
	defer sh.Close()
	p, err := ns.Spawn(netns.Spawn{Exe: sh, Args: []string{"sh", "-c", "exit 7"}}, netns.StartOptions{})
	require.NoError(t, err)
	st, err := p.Wait()
	require.NoError(t, err)
	require.Equal(t, 7, st.ExitCode())

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
	testkit.RequireNetAdmin(t)
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
	testkit.RequireNetAdmin(t)
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
