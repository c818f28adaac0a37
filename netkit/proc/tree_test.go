package proc

import (
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
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
	if len(got) != 5 {
		t.Fatalf("found %v, want sh, two sleeps, a subshell and its sleep", got)
	}
	if want := descendantsByScan(roots); !slices.Equal(got, want) {
		t.Errorf("by children %v, by scan %v", got, want)
	}
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
	if len(tree) != 4 {
		cmd.Process.Kill()
		t.Fatalf("found %v, want sh, a sleep, a subshell and its sleep", tree)
	}
	if err := KillTree(cmd.Process); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	for _, pid := range tree[1:] {
		for deadline := time.Now().Add(5 * time.Second); Alive(pid) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		}
		if Alive(pid) {
			t.Errorf("process %d outlived KillTree", pid)
		}
	}
}
