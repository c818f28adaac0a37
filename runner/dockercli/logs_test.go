package dockercli

import (
	"bytes"
	"context"
	"github.com/labrun/labrun/netkit/testkit"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/release"
)

// testLog is a log whose clock ticks a second per line.
func testLog() *ctrLog {
	l := newLog()
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	n := 0
	l.now = func() time.Time {
		n++
		return t0.Add(time.Duration(n) * time.Second)
	}
	return l
}

func logsOf(l *ctrLog, o logsOptions) (string, string) {
	var out, errb bytes.Buffer
	printLogs(context.Background(), l, o, &out, &errb, nil)
	return out.String(), errb.String()
}

func TestLogLines(t *testing.T) {
	l := testLog()
	l.write(false, []byte("one\ntw"))
	l.write(true, []byte("err\n"))
	l.write(false, []byte("o\n/ # "))
	out, errb := logsOf(l, logsOptions{tail: -1})
	assert.Equal(t, "one\ntwo\n", out, "stdout: lines as they end; the prompt waits for its newline")
	assert.Equal(t, "err\n", errb, "stderr apart")
	out, errb = logsOf(l, logsOptions{tail: -1, tty: true})
	assert.Equal(t, "one\nerr\ntwo\n", out, "a terminal's log is all stdout, in order")
	assert.Empty(t, errb)
	out, _ = logsOf(l, logsOptions{tail: 1, tty: true})
	assert.Equal(t, "two\n", out, "--tail 1")
	out, _ = logsOf(l, logsOptions{tail: 0, tty: true})
	assert.Empty(t, out, "--tail 0")
	out, _ = logsOf(l, logsOptions{tail: 1, tty: true, timestamps: true})
	assert.Equal(t, "2026-12-07T10:00:03.000000000Z two\n", out, "-t: the daemon's fixed-width RFC 3339")
	l.flush()
	out, _ = logsOf(l, logsOptions{tail: 1})
	assert.Equal(t, "/ # ", out, "the end of the output ends the partial line")
}

func TestLogCap(t *testing.T) {
	l := testLog()
	line := strings.Repeat("x", 1023) + "\n"
	for range 2 * logCap / len(line) {
		l.write(false, []byte(line))
	}
	out, _ := logsOf(l, logsOptions{tail: -1})
	assert.Equal(t, logCap, len(out), "the log keeps its last logCap bytes")
	assert.Equal(t, logCap/len(line), l.first, "the oldest lines went first")

	// A line longer than logLineMax is cut, as Docker's copier does.
	l = testLog()
	l.write(false, []byte(strings.Repeat("y", logLineMax+10)+"\n"))
	lines, _, _ := l.since(0)
	require.Len(t, lines, 2)
	assert.Len(t, lines[0].b, logLineMax)
	assert.Len(t, lines[1].b, 11)
}

// docker logs -f prints the lines that come, and what came before the
// container stopped, then ends.
func TestLogFollow(t *testing.T) {
	l := testLog()
	l.write(false, []byte("older\nold\n"))
	stopped := make(chan struct{})
	var out testkit.Buffer
	done := make(chan struct{})
	go func() {
		printLogs(context.Background(), l, logsOptions{follow: true, tail: 1}, &out, &out, stopped)
		close(done)
	}()
	waitOutput := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); out.String() != want && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		}
		assert.Equal(t, want, out.String())
	}
	waitOutput("old\n")
	l.write(false, []byte("new\n"))
	waitOutput("old\nnew\n")
	l.write(false, []byte("last\n"))
	close(stopped)
	<-done
	assert.Equal(t, "old\nnew\nlast\n", out.String(), "what came before the stop")
}

func TestDetachKeys(t *testing.T) {
	assert.Equal(t, []byte{16, 17}, detachKeys(""), "Docker's default: ctrl-p ctrl-q")
	assert.Equal(t, []byte{1, 'x'}, detachKeys("ctrl-a,x"), "--detach-keys")
	assert.Equal(t, []byte{16, 17}, detachKeys("ctrl-"), "an invalid sequence: the default")
}

func TestStoppedAttach(t *testing.T) {
	assert.Equal(t, "You cannot attach to a stopped container, start it first", stoppedAttach(release.Era28))
	assert.Equal(t, "cannot attach to a stopped container, start it first", stoppedAttach(release.Era29))
}

func TestNewBox(t *testing.T) {
	b := newBox(runFlags{image: "busybox", interactive: true, tty: true})
	assert.Equal(t, []string{"sh"}, b.argv, "busybox -it: its shell")
	b = newBox(runFlags{image: "busybox", tty: true, command: []string{"top", "-b"}})
	assert.Equal(t, []string{"top", "-b"}, b.argv, "COMMAND")
	assert.True(t, b.tty)
	assert.False(t, b.stdin)
	b = newBox(runFlags{image: "httpd", interactive: true, tty: true})
	assert.Nil(t, b.argv, "httpd -it: its program is the main process")
	b = newBox(runFlags{image: "busybox", command: []string{"echo"}})
	assert.Nil(t, b.argv, "no -i or -t: no console")
}
