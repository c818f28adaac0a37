package dockercli

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/proc"
)

// What Docker's daemon keeps of a container's process for docker attach
// and docker logs, labrun keeps in the keeper (or the scenario) that ran
// docker run, with the container: its box. The box holds the container's
// output (its log, and the callers attached to it) and, for a container
// run with -i or -t, its console: the process docker run started in place
// of the image's shell, on a pseudo-terminal inside the container's
// namespaces (-t) or on pipes (-i), with the container's log as its output.
// netkit carries the box as the container's RunOptions.Stdout, where the
// image's own program writes (boxOf).

// box is what dockercli keeps with a container that docker run created.
type box struct {
	out *fanout
	// tty and stdin are docker run's -t and -i (Config.Tty and
	// Config.OpenStdin): whether the console has a terminal, and
	// whether attached callers type into it.
	tty, stdin bool
	// argv and env are the console's command (COMMAND, or the image's
	// shell); argv is nil when the image's program is the main process.
	argv, env []string

	mu  sync.Mutex
	con *console // the console while it runs
}

// console returns the box's running console, or nil.
func (b *box) console() *console {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.con
}

func (b *box) setConsole(con *console) {
	b.mu.Lock()
	b.con = con
	b.mu.Unlock()
}

// logWriter is one stream of a box's output: the image's program writes to
// it, as the RunOptions.Stdout and Stderr of its container.
type logWriter struct {
	b      *box
	stderr bool
}

func (w logWriter) Write(p []byte) (int, error) {
	w.b.out.write(w.stderr, p)
	return len(p), nil
}

// boxOf returns the box of a container docker run created, or nil.
func boxOf(c *netkit.Container) *box {
	if w, ok := c.Options().Stdout.(logWriter); ok {
		return w.b
	}
	return nil
}

// fanout sends a process's output to its log (if it has one) and to every
// caller attached to it.
type fanout struct {
	mu   sync.Mutex
	log  *ctrLog
	atts map[*attachment]bool
}

func newFanout(log *ctrLog) *fanout { return &fanout{log: log, atts: map[*attachment]bool{}} }

// attachment is one caller's output, attached to a fanout.
type attachment struct{ stdout, stderr io.Writer }

func (f *fanout) write(stderr bool, p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.log != nil {
		f.log.write(stderr, p)
	}
	for a := range f.atts {
		if stderr {
			a.stderr.Write(p)
		} else {
			a.stdout.Write(p)
		}
	}
}

// attach adds a caller's output; detach removes it.
func (f *fanout) attach(stdout, stderr io.Writer) *attachment {
	a := &attachment{stdout: stdout, stderr: stderr}
	f.mu.Lock()
	f.atts[a] = true
	f.mu.Unlock()
	return a
}

func (f *fanout) detach(a *attachment) {
	f.mu.Lock()
	delete(f.atts, a)
	f.mu.Unlock()
}

// streamWriter is one stream of a fanout, as a process's stdout or stderr.
type streamWriter struct {
	f      *fanout
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.f.write(w.stderr, p)
	return len(p), nil
}

// console is a process that docker run -i/-t or exec -i/-t started in a
// container, with its input and output.
type console struct {
	tty    bool
	master *os.File // -t: the pseudo-terminal's master side
	out    *fanout
	inMu   sync.Mutex
	input  io.WriteCloser // where the attached callers' input goes; nil if none
	done   chan struct{}  // closed once the process has ended and its output is out
	code   int            // its exit status, once done
	// mainPID is the PID of the container's main process when the
	// console started: the run of the container it belongs to.
	mainPID int
}

// consoleSpec says what startConsole starts.
type consoleSpec struct {
	argv, env  []string
	tty, stdin bool
	out        *fanout
	// main: the process stands for the container's main process: the
	// container stops when it ends, with its exit status.
	main bool
}

// startConsole starts s.argv in c, on a new pseudo-terminal (s.tty) or on
// pipes, its output to s.out, its input open to attached callers with
// s.stdin. It is the first process of a PID namespace of its own, so that
// what it leaves running ends with it, and its terminal with them; the
// keeper then reads the end of its output.
func (d *dockerCtx) startConsole(c *netkit.Container, s consoleSpec) (*console, error) {
	cmd, err := d.execIn(c, s.argv, s.env, s.tty)
	if err != nil {
		return nil, err
	}
	con := &console{tty: s.tty, out: s.out, done: make(chan struct{}), mainPID: c.Pid()}
	var child *os.File // the process's side, which this process closes once it runs
	attr := &syscall.SysProcAttr{Setsid: true, Cloneflags: unix.CLONE_NEWPID}
	if s.tty {
		master, tty, err := pty.Open()
		if err != nil {
			return nil, d.daemonErr(err)
		}
		if in := d.o.Stdin; in != nil && in.IsTerminal() {
			if rows, cols := in.Size(); rows > 0 && cols > 0 {
				pty.Setsize(master, &pty.Winsize{Rows: rows, Cols: cols})
			}
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		attr.Setctty, attr.Ctty = true, 0
		con.master, child = master, tty
		if s.stdin {
			con.input = nopCloser{master}
		}
	} else {
		if s.stdin {
			r, w, err := os.Pipe()
			if err != nil {
				return nil, d.daemonErr(err)
			}
			cmd.Stdin, child, con.input = r, r, w
		}
		cmd.Stdout, cmd.Stderr = streamWriter{s.out, false}, streamWriter{s.out, true}
		cmd.WaitDelay = time.Second
	}
	cmd.SysProcAttr = attr
	err = c.StartExec(cmd)
	if child != nil {
		child.Close()
	}
	if err != nil {
		con.closeInput()
		if con.master != nil {
			con.master.Close()
		}
		return nil, d.daemonErr(err)
	}
	output := make(chan struct{})
	if s.tty {
		go func() {
			defer close(output)
			// Until EIO: the process and all of its namespace have gone.
			io.Copy(streamWriter{s.out, false}, con.master)
		}()
	} else {
		close(output) // cmd.Wait copies the pipes
	}
	go func() {
		err := cmd.Wait()
		<-output
		con.code = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			con.code = proc.ExitCode(ee.ProcessState)
		}
		if s.out.log != nil {
			s.out.log.flush()
		}
		con.closeInput()
		if con.master != nil {
			con.master.Close()
		}
		// A stop or a removal kills the console as it tears the
		// container down (its PID already 0, or a new run's by now);
		// else the console's end is the container's.
		if s.main && c.Pid() == con.mainPID {
			c.StopAs(con.code)
		}
		close(con.done)
	}()
	return con, nil
}

// nopCloser is a terminal's master side as the console's input: the
// input's end does not close the terminal.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// writeInput passes an attached caller's input to the process.
func (con *console) writeInput(p []byte) {
	con.inMu.Lock()
	defer con.inMu.Unlock()
	if con.input != nil {
		con.input.Write(p)
	}
}

// closeInput ends the process's input (its stdin pipe), as the end of
// docker run -i's or exec -i's input does (StdinOnce).
func (con *console) closeInput() {
	con.inMu.Lock()
	defer con.inMu.Unlock()
	if con.input != nil {
		con.input.Close()
		con.input = nil
	}
}

// resize sets the console's terminal size.
func (con *console) resize(rows, cols uint16) {
	if con.master != nil && rows > 0 && cols > 0 {
		pty.Setsize(con.master, &pty.Winsize{Rows: rows, Cols: cols})
	}
}
