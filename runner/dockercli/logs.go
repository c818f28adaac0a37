package dockercli

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"sync"
	"time"
)

// A container's log is what its main process wrote, line by line, as
// Docker's json-file driver keeps it and docker logs prints it: each line
// with the time it was written and its stream (stdout or stderr; a
// terminal's output is all stdout). labrun keeps only the last logCap
// bytes of it, in memory, with the container.

const (
	// logCap bounds a container's log: its oldest lines go first.
	logCap = 256 << 10
	// logLineMax is the longest line kept whole; longer output is cut
	// into lines of this size, as Docker's log copier cuts partial
	// messages (moby/moby daemon/logger/copier.go, v28.5.2: 16K).
	logLineMax = 16 << 10
)

// logLine is one line of a log, its newline included (but for a last line
// its process ended without one).
type logLine struct {
	t      time.Time
	stderr bool
	b      []byte
}

// ctrLog is a container's log.
type ctrLog struct {
	mu    sync.Mutex
	lines []logLine
	first int // the number of lines[0] since the log began
	size  int // bytes in lines
	// partial holds each stream's output since its last newline.
	partial [2][]byte
	// wake is closed, and replaced, when a line is added.
	wake chan struct{}
	now  func() time.Time
}

func newLog() *ctrLog { return &ctrLog{wake: make(chan struct{}), now: time.Now} }

// write adds a stream's output: its complete lines, and keeps the rest
// until its newline comes.
func (l *ctrLog) write(stderr bool, p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := 0
	if stderr {
		i = 1
	}
	buf := append(l.partial[i], p...)
	for {
		n := bytes.IndexByte(buf, '\n')
		if n < 0 && len(buf) < logLineMax {
			break
		}
		if n < 0 || n >= logLineMax {
			n = logLineMax - 1
		}
		l.add(stderr, buf[:n+1])
		buf = buf[n+1:]
	}
	l.partial[i] = append([]byte(nil), buf...)
}

// flush ends the streams' partial lines, as the end of a process's output
// does.
func (l *ctrLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, p := range l.partial {
		if len(p) > 0 {
			l.add(i == 1, p)
		}
		l.partial[i] = nil
	}
}

// add appends a line, dropping the oldest beyond logCap, and wakes the
// followers. l.mu is held.
func (l *ctrLog) add(stderr bool, b []byte) {
	l.lines = append(l.lines, logLine{t: l.now(), stderr: stderr, b: append([]byte(nil), b...)})
	l.size += len(b)
	drop := 0
	for l.size > logCap && drop < len(l.lines)-1 {
		l.size -= len(l.lines[drop].b)
		drop++
	}
	if drop > 0 {
		l.lines = append([]logLine(nil), l.lines[drop:]...)
		l.first += drop
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

// since returns the lines from number next on (all that are kept, if some
// of those have gone), the number after them, and a channel that is
// closed when there are more.
func (l *ctrLog) since(next int) ([]logLine, int, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	next = max(next, l.first)
	out := append([]logLine(nil), l.lines[next-l.first:]...)
	return out, l.first + len(l.lines), l.wake
}

// tail returns the number of the first of the last n lines (n < 0: all).
func (l *ctrLog) tail(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 0 || n > len(l.lines) {
		return l.first
	}
	return l.first + len(l.lines) - n
}

// logsOptions are docker logs' flags.
type logsOptions struct {
	follow, timestamps bool
	tail               int // lines from the end; < 0 for all
	// tty: the container has a terminal, whose output is all stdout.
	tty bool
}

// printLogs prints l as docker logs does: stdout lines on stdout and
// stderr lines on stderr (a terminal's all on stdout), each after its time
// with -t; with -f it then prints each new line until stopped is closed
// (the container has stopped) or ctx ends.
func printLogs(ctx context.Context, l *ctrLog, o logsOptions, stdout, stderr io.Writer, stopped <-chan struct{}) {
	next := l.tail(o.tail)
	for {
		lines, after, wake := l.since(next)
		next = after
		for _, ln := range lines {
			w := stdout
			if ln.stderr && !o.tty {
				w = stderr
			}
			if o.timestamps {
				// The daemon's format, jsonmessage.RFC3339NanoFixed in UTC.
				io.WriteString(w, ln.t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")+" ")
			}
			w.Write(ln.b)
		}
		if !o.follow {
			return
		}
		select {
		case <-wake:
		case <-stopped:
			// What the process wrote before it ended is in; print it.
			lines, _, _ := l.since(next)
			if len(lines) > 0 {
				o.follow = false
				continue
			}
			return
		case <-ctx.Done():
			return
		}
	}
}

// dockerLogs is docker logs: the container's log, as its main process (or
// the command docker run ran in its place) wrote it.
func dockerLogs(d *dockerCtx, args []string) error {
	var follow, timestamps, details bool
	tail := "all"
	fs := &FlagSet{Interspersed: true}
	fs.Bool(&follow, "f", "follow")
	fs.Bool(&timestamps, "t", "timestamps")
	fs.Bool(&details, "", "details")
	fs.String(&tail, "n", "tail")
	_, c, err := d.parseContainer(fs, args, 1, 1)
	if err != nil {
		return err
	}
	b := boxOf(c)
	if b == nil {
		return nil // not started by docker run: nothing was kept
	}
	// The daemon reads any tail that is not a number as "all" (moby/moby
	// daemon/logs.go, v28.5.2).
	n, err := strconv.Atoi(tail)
	if err != nil {
		n = -1
	}
	stopped := make(chan struct{})
	if follow {
		if c.State() != "running" {
			close(stopped)
		} else {
			go func() {
				c.Wait()
				close(stopped)
			}()
		}
	}
	printLogs(d.Context(), b.out.log, logsOptions{follow: follow, timestamps: timestamps, tail: n, tty: b.tty}, d.Stdout(), d.Stderr(), stopped)
	return nil
}
