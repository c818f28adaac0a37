package proc

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseStat: the fields are read after the last ')', so that a command
// name with spaces and parentheses does not shift them.
func TestParseStat(t *testing.T) {
	line := "4242 (a (b) c) S 17 4242 4242 34817 4242 4194560 100 0 0 0 7 3 5 2 20 0 1 0 123456 2764800 216 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	got, err := ParseStat([]byte(line))
	require.NoError(t, err)
	want := Stat{PID: 4242, Comm: "a (b) c", State: 'S', PPID: 17, TTY: 34817, UTime: 7, STime: 3, CUTime: 5, CSTime: 2, StartTime: 123456}
	assert.Equal(t, want, got, "ParseStat")
	for _, bad := range []string{"", "12 sh S 1", "12 (sh) S 1 2 3", "x (sh)" + line[12:], "12 (sh) S x" + line[16:]} {
		s, err := ParseStat([]byte(bad))
		assert.Error(t, err, "ParseStat(%q) = %+v", bad, s)
	}
}

// TestReadStat: this process's own stat, and a process that is gone.
func TestReadStat(t *testing.T) {
	s, err := ReadStat(os.Getpid())
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), s.PID, "ReadStat(self): pid")
	assert.Equal(t, os.Getppid(), s.PPID, "ReadStat(self): ppid")
	assert.False(t, s.Zombie(), "ReadStat(self) = %+v: a zombie", s)
	assert.True(t, Alive(s.PID), "ReadStat(self) = %+v: not alive", s)
	exe, _ := os.Executable()
	assert.True(t, strings.HasPrefix(exe[strings.LastIndexByte(exe, '/')+1:], s.Comm), "comm %q is not the start of this test's name %q", s.Comm, exe)
	assert.False(t, BootTime().IsZero(), "no boot time in /proc/stat")
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("skipping: cannot run true: %v", err)
	}
	_, err = ReadStat(cmd.Process.Pid)
	assert.ErrorIs(t, err, os.ErrNotExist, "ReadStat of a reaped process")
	assert.False(t, Alive(cmd.Process.Pid), "a reaped process is alive")
}

// TestExitCode: the exit status, or 128+N for a process killed by signal N.
func TestExitCode(t *testing.T) {
	assert.Equal(t, 0, ExitCode(nil), "ExitCode(nil)")
	for _, tc := range []struct {
		script string
		want   int
	}{{"exit 3", 3}, {"kill -KILL $$", 137}, {"kill -TERM $$", 143}} {
		cmd := exec.Command("sh", "-c", tc.script)
		cmd.Run()
		assert.Equal(t, tc.want, ExitCode(cmd.ProcessState), "%s: exit code", tc.script)
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
		require.NoError(t, err)
		cmd := exec.Command("sh", "-c", tc.script)
		cmd.ExtraFiles = []*os.File{r.Child()}
		err = cmd.Start()
		r.Started()
		if err != nil {
			t.Skipf("skipping: cannot start sh: %v", err)
		}
		assert.ErrorIs(t, r.Wait(100*time.Millisecond), tc.want, "%s: Wait", tc.script)
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
		n, err := w.Write([]byte(s))
		assert.NoError(t, err, "Write(%q)", s)
		assert.Equal(t, len(s), n, "Write(%q)", s)
	}
	assert.Equal(t, "abcde", b.String(), "kept")
}
