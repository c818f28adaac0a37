package proc

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDescendantsByChildren: following the children files finds the same
// processes, in the same order, as scanning /proc.
func TestDescendantsByChildren(t *testing.T) {
	if !procChildren() {
		t.Skip("skipping: no /proc/PID/task/TID/children here")
	}
	cmd := exec.Command("sh", "-c", "sleep 30 & sleep 30 & (sleep 30 & wait) & wait")
	if err := cmd.Start(); err != nil {
		t.Skipf("skipping: cannot start sh: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	roots := []int{cmd.Process.Pid}
	var got []int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got = descendantsByChildren(roots); len(got) == 5 {
			break
		}
	}
	require.Len(t, got, 5, "want sh, two sleeps, a subshell and its sleep")
	assert.Equal(t, descendantsByScan(roots), got, "by children (actual), by scan (expected)")
	for _, p := range got {
		syscallKill(p)
	}
}

func syscallKill(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// BenchmarkDescendants: finding a container's processes, as stop and
// docker top do, by following children and by scanning /proc.
func BenchmarkDescendants(b *testing.B) {
	roots := []int{os.Getpid()}
	b.Run("children", func(b *testing.B) {
		if !procChildren() {
			b.Skip("no children files")
		}
		for b.Loop() {
			descendantsByChildren(roots)
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			descendantsByScan(roots)
		}
	})
}

// TestKillTree: the root and every descendant die.
func TestKillTree(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 30 & (sleep 30 & wait) & wait")
	if err := cmd.Start(); err != nil {
		t.Skipf("skipping: cannot start sh: %v", err)
	}
	var tree []int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if tree = Descendants([]int{cmd.Process.Pid}); len(tree) == 4 {
			break
		}
	}
	if !assert.Len(t, tree, 4, "want sh, a sleep, a subshell and its sleep") {
		cmd.Process.Kill()
		t.FailNow()
	}
	require.NoError(t, KillTree(cmd.Process))
	cmd.Wait()
	for _, pid := range tree[1:] {
		for deadline := time.Now().Add(5 * time.Second); Alive(pid) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		}
		assert.False(t, Alive(pid), "process %d outlived KillTree", pid)
	}
}
