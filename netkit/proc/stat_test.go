package proc

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestParseStat: the fields are read after the last ')', so that a command
// name with spaces and parentheses does not shift them.
func TestParseStat(t *testing.T) {
	line := "4242 (a (b) c) S 17 4242 4242 34817 4242 4194560 100 0 0 0 7 3 0 0 20 0 1 0 123456 2764800 216 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	got, err := ParseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := Stat{PID: 4242, Comm: "a (b) c", State: 'S', PPID: 17, TTY: 34817, UTime: 7, STime: 3, StartTime: 123456}
	if got != want {
		t.Errorf("ParseStat = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "12 sh S 1", "12 (sh) S 1 2 3", "x (sh)" + line[12:], "12 (sh) S x" + line[16:]} {
		if s, err := ParseStat([]byte(bad)); err == nil {
			t.Errorf("ParseStat(%q) = %+v, want an error", bad, s)
		}
	}
}

// TestReadStat: this process's own stat, and a process that is gone.
func TestReadStat(t *testing.T) {
	s, err := ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.PID != os.Getpid() || s.PPID != os.Getppid() || s.Zombie() || !Alive(s.PID) {
		t.Errorf("ReadStat(self) = %+v: want pid %d, ppid %d, alive", s, os.Getpid(), os.Getppid())
	}
	if exe, _ := os.Executable(); !strings.HasPrefix(exe[strings.LastIndexByte(exe, '/')+1:], s.Comm) {
		t.Errorf("comm %q is not the start of this test's name %q", s.Comm, exe)
	}
	if BootTime().IsZero() {
		t.Error("no boot time in /proc/stat")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("skipping: cannot run true: %v", err)
	}
	if _, err := ReadStat(cmd.Process.Pid); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadStat of a reaped process: %v, want os.ErrNotExist", err)
	}
	if Alive(cmd.Process.Pid) {
		t.Error("a reaped process is alive")
	}
}

// TestExitCode: the exit status, or 128+N for a process killed by signal N.
func TestExitCode(t *testing.T) {
	if ExitCode(nil) != 0 {
		t.Error("ExitCode(nil) != 0")
	}
	for _, tc := range []struct {
		script string
		want   int
	}{{"exit 3", 3}, {"kill -KILL $$", 137}, {"kill -TERM $$", 143}} {
		cmd := exec.Command("sh", "-c", tc.script)
		cmd.Run()
		if got := ExitCode(cmd.ProcessState); got != tc.want {
			t.Errorf("%s: exit code %d, want %d", tc.script, got, tc.want)
		}
	}
}

// TestReadiness: a byte on the pipe is readiness; a closed pipe, an exit;
// nothing, a timeout.
func TestReadiness(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   error
	}{{"echo >&3", nil}, {"exit 0", ErrExited}, {"sleep 5", ErrNotReady}} {
		r, err := NewReadiness()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", "-c", tc.script)
		cmd.ExtraFiles = []*os.File{r.Child()}
		err = cmd.Start()
		r.Started()
		if err != nil {
			t.Skipf("skipping: cannot start sh: %v", err)
		}
		if got := r.Wait(100 * time.Millisecond); !errors.Is(got, tc.want) {
			t.Errorf("%s: Wait = %v, want %v", tc.script, got, tc.want)
		}
		cmd.Process.Kill()
		cmd.Wait()
		r.Close()
	}
}

// TestHeadWriter: the first N bytes are kept, every write succeeds.
func TestHeadWriter(t *testing.T) {
	var b strings.Builder
	w := &HeadWriter{W: &b, N: 5}
	for _, s := range []string{"abc", "defg", "hij"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Errorf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if b.String() != "abcde" {
		t.Errorf("kept %q, want abcde", b.String())
	}
}
