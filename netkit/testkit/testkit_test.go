package testkit_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
)

func TestDiff(t *testing.T) {
	before := testkit.Snapshot{"link eth0", "link lo", "sysctl net/ipv4/ip_forward 1"}
	after := testkit.Snapshot{"link eth0", "link lab0", "link lo", "sysctl net/ipv4/ip_forward 0"}
	assert.Empty(t, testkit.Diff(before, before))
	assert.Empty(t, testkit.Diff(nil, nil))
	assert.Equal(t, `diff before after
--- before
+++ after
@@ -1,3 +1,4 @@
 link eth0
+link lab0
 link lo
-sysctl net/ipv4/ip_forward 1
+sysctl net/ipv4/ip_forward 0
`, testkit.Diff(before, after))
	assert.Equal(t, []string{"+ link lab0", "- sysctl net/ipv4/ip_forward 1", "+ sysctl net/ipv4/ip_forward 0"},
		testkit.Changes(before, after))
	assert.Nil(t, testkit.Changes(after, after))
	// A line that itself starts with - or + is still one change.
	assert.Equal(t, []string{"- -A FORWARD -j DROP", "+ ++"}, testkit.Changes(testkit.Snapshot{"-A FORWARD -j DROP"}, testkit.Snapshot{"++"}))
	assert.Empty(t, testkit.TextDiff("want", "a\nb\n", "got", "a\nb\n"))
	assert.Equal(t, "diff want got\n--- want\n+++ got\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n", testkit.TextDiff("want", "a\nb\n", "got", "a\nc\n"))
}

func TestSnapshot(t *testing.T) {
	var s testkit.Snapshot
	s.Addf("process %d %s", 12, "httpd")
	s.Addf("link %s", "br0")
	assert.Equal(t, testkit.Snapshot{"link br0", "process 12 httpd"}, s.Sorted())
	assert.Equal(t, testkit.Snapshot{"process 12 httpd", "link br0"}, s, "Sorted leaves s as it was")
	assert.Equal(t, "process 12 httpd\nlink br0\n", s.String())
	assert.Empty(t, testkit.Snapshot(nil).String())

	// The same state gathered in another order is no change; a changed
	// line is, and AssertUnchanged says so with the diff.
	assert.True(t, testkit.AssertUnchanged(t, s.Sorted(), testkit.Snapshot{"process 12 httpd", "link br0"}.Sorted(), "the lab"))
	rec := &recorder{TB: t}
	assert.False(t, testkit.AssertUnchanged(rec, s.Sorted(), testkit.Snapshot{"link br0"}, "the lab"))
	assert.Equal(t, "the lab changed:\ndiff before after\n--- before\n+++ after\n@@ -1,2 +1,1 @@\n link br0\n-process 12 httpd\n", rec.errors.String())
}

// recorder is a testing.TB whose Errorf records instead of failing.
type recorder struct {
	testing.TB
	errors strings.Builder
}

func (r *recorder) Helper()                           {}
func (r *recorder) Errorf(format string, args ...any) { fmt.Fprintf(&r.errors, format, args...) }

func TestProcs(t *testing.T) {
	procs := testkit.Procs()
	var self testkit.Proc
	for _, p := range procs {
		if p.PID == os.Getpid() {
			self = p
		}
	}
	require.Equal(t, os.Getpid(), self.PID, "Procs lists this process")
	assert.Equal(t, os.Getppid(), self.PPID)
	assert.NotZero(t, self.StartTime)

	// A child, and its child, descend from this process; only the first
	// is a child of it.
	cmd := exec.Command("sh", "-c", "sleep 60 & echo $!; wait")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var grandchild int
	_, err = fmt.Fscan(out, &grandchild)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Kill(grandchild, syscall.SIGKILL) })
	// $! is printed after the fork, maybe before the grandchild's exec.
	require.Eventually(t, func() bool {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", grandchild))
		return err == nil && strings.TrimSpace(string(comm)) == "sleep"
	}, 10*time.Second, time.Millisecond, "the grandchild execs sleep")

	children := testkit.Children(os.Getpid())
	assert.Contains(t, pids(children), cmd.Process.Pid)
	assert.NotContains(t, pids(children), grandchild)
	desc := testkit.Descendants(os.Getpid())
	assert.Contains(t, pids(desc), cmd.Process.Pid)
	assert.Contains(t, pids(desc), grandchild)
	for _, p := range desc {
		if p.PID == grandchild {
			assert.Equal(t, p.String(), strings.TrimSpace(fmt.Sprintf("%d sleep", grandchild)))
		}
	}
}

func pids(ps []testkit.Proc) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.PID)
	}
	return out
}

// TestNSState: a fresh namespace with lo up, then a listener and an address
// more, is described line by line, and what the kit holds open shows.
func TestNSState(t *testing.T) {
	ns := testkit.NewNS(t, testkit.NSOptions{LoopbackUp: true, NoIPv6: true})
	opts := testkit.StateOptions{Sysctls: []string{"net/ipv6/conf/all/disable_ipv6", "net/nope"}}
	before, err := testkit.NSState(ns, opts)
	require.NoError(t, err)
	assert.Equal(t, testkit.Snapshot{
		"addr lo 127.0.0.1/8",
		"link lo device master= up=true",
		"sysctl net/ipv6/conf/all/disable_ipv6 1",
		"sysctl net/nope unreadable",
	}, before)
	assert.Contains(t, testkit.HeldNamespaces(), "netns "+nsName(t, ns))
	fd, ok := testkit.NamespaceFDs()[nsName(t, ns)]
	require.True(t, ok, "NamespaceFDs has the namespace")
	l, err := os.Readlink(fd)
	require.NoError(t, err)
	assert.Equal(t, nsName(t, ns), l)

	var ln net.Listener
	require.NoError(t, ns.Do(func() error {
		var err error
		ln, err = net.Listen("tcp4", "127.0.0.1:8080")
		return err
	}))
	defer ln.Close()
	after, err := testkit.NSState(ns, opts)
	require.NoError(t, err)
	assert.Equal(t, []string{"+ socket tcp 0100007F:1F90"}, testkit.Changes(before, after))
	ln.Close()
	after, err = testkit.NSState(ns, opts)
	require.NoError(t, err)
	testkit.AssertUnchanged(t, before, after, "the namespace")

	// With the rules: iptables-save's, as "TABLE RULE" lines.
	testkit.RequireBinary(t, "iptables", "iptables-save")
	var out strings.Builder
	cmd := exec.Command("iptables", "-w", "-t", "nat", "-N", "LAB")
	cmd.Stderr = &out
	require.NoError(t, ns.Start(cmd, netns.StartOptions{}))
	require.NoError(t, cmd.Wait(), out.String())
	after, err = testkit.NSState(ns, testkit.StateOptions{IPTables: true})
	require.NoError(t, err)
	assert.Contains(t, after, "iptables nat :LAB - []")
	assert.NotContains(t, after, "iptables nat :PREROUTING ACCEPT []", "a built-in chain that accepts everything")
}

// nsName is ns as /proc shows a descriptor of it: "net:[INODE]".
func nsName(t *testing.T, ns *netns.NS) string {
	ino, err := ns.Inode()
	require.NoError(t, err)
	return fmt.Sprintf("net:[%d]", ino)
}
