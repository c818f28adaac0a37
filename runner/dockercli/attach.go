package dockercli

import (
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/moby/term"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/release"
)

// How an attachment ended.
type attachEnd int

const (
	ended   attachEnd = iota // the process ended: its exit status is the result
	escaped                  // the caller typed the detach keys
	hungUp                   // the caller went away (the command's context ended)
)

// target is what a caller attaches to: a console, or a container whose
// image's program is its main process.
type target struct {
	out *fanout
	tty bool
	// input passes the caller's input on; nil ignores it.
	input func([]byte)
	// closeInput ends the process's input (StdinOnce); nil: nothing to end.
	closeInput func()
	resize     func(rows, cols uint16)
	done       <-chan struct{}
	code       func() int
}

// consoleTarget attaches to a console.
func consoleTarget(con *console) target {
	return target{out: con.out, tty: con.tty, input: con.writeInput, closeInput: con.closeInput, resize: con.resize,
		done: con.done, code: func() int { return con.code }}
}

// programTarget attaches to a container whose main process is its image's
// program (httpd, sshd): its output; on a terminal, ctrl-c stops it, as
// the interrupt the terminal sends it does.
func programTarget(c *netkit.Container, b *box) target {
	stopped := make(chan struct{})
	var code int
	go func() {
		code = c.Wait()
		close(stopped)
	}()
	t := target{out: b.out, tty: b.tty, done: stopped, code: func() int { return code }}
	if b.tty && b.stdin {
		t.input = func(p []byte) {
			if bytes.IndexByte(p, 3) >= 0 {
				go c.Stop(10 * time.Second)
			}
		}
	}
	return t
}

// attachTo connects the caller to t, whose output a (made before the
// process could write) already receives, until the process ends, the
// caller detaches with keys (on a terminal) or goes away. With stdin, the
// caller's input goes to the process, in raw mode on a terminal; at its end
// the process's input ends too if closeStdin.
func (d *dockerCtx) attachTo(t target, a *attachment, stdin bool, keys []byte, closeStdin bool) (int, attachEnd) {
	defer t.out.detach(a)
	quit := make(chan struct{})
	defer close(quit)
	detached := make(chan struct{})
	if in := d.o.Stdin; stdin && in == nil && closeStdin && t.closeInput != nil {
		t.closeInput() // an empty input
	} else if stdin && in != nil {
		var r io.Reader = in
		if t.tty && in.IsTerminal() {
			// The CLI's hijackedIOStreamer.setupInput (docker/cli
			// cli/command/container/hijack.go, v28.5.2).
			restore := in.SetRaw()
			defer restore()
			r = term.NewEscapeProxy(in, keys)
			if t.resize != nil {
				t.resize(in.Size())
				go func() {
					for {
						select {
						case <-in.Resized():
							t.resize(in.Size())
						case <-quit:
							return
						}
					}
				}()
			}
		}
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := r.Read(buf)
				select {
				case <-quit:
					return // a read that outlived the attachment
				default:
				}
				if n > 0 && t.input != nil {
					t.input(buf[:n])
				}
				if errors.As(err, &term.EscapeError{}) {
					close(detached)
					return
				}
				if err != nil {
					if closeStdin && t.closeInput != nil {
						t.closeInput()
					}
					return
				}
			}
		}()
	}
	select {
	case <-t.done:
		return t.code(), ended
	case <-detached:
		return 0, escaped
	case <-d.Context().Done():
		return 0, hungUp
	}
}

// outputOf is where an attached caller gets a process's stderr: its
// stdout, when the process has a terminal (which has one output).
func (d *dockerCtx) outputOf(tty bool) (stdout, stderr io.Writer) {
	if tty {
		return d.Stdout(), d.Stdout()
	}
	return d.Stdout(), d.Stderr()
}

// runConsole is the end of docker run -i or -t, once the container has
// started: its console started (unless the image's program is the main
// process), and unless -d, the caller attached until the process ends,
// which stops the container (and removes it with --rm), or the caller
// detaches, which leaves it running. Its exit status is docker run's.
func (d *dockerCtx) runConsole(c *netkit.Container, b *box, detach bool, keys string) error {
	var a *attachment
	if !detach {
		a = b.out.attach(d.outputOf(b.tty))
	}
	t := programTarget
	if b.argv != nil {
		con, err := d.startConsole(c, consoleSpec{argv: b.argv, env: b.env, tty: b.tty, stdin: b.stdin, out: b.out, main: true})
		if err != nil {
			if a != nil {
				b.out.detach(a)
			}
			c.Stop(10 * time.Second) // as for a COMMAND that cannot start
			return err
		}
		b.setConsole(con)
		t = func(*netkit.Container, *box) target { return consoleTarget(con) }
	}
	if detach {
		return nil
	}
	code, end := d.attachTo(t(c, b), a, b.stdin, detachKeys(keys), true)
	if end == ended && code != 0 {
		return &ExitError{Cmd: d.path, Code: code}
	}
	return nil // detached: docker run says nothing
}

// restartConsole starts a box's console again, as the daemon restarts a
// container's process at docker start and restart.
func (d *dockerCtx) restartConsole(c *netkit.Container) error {
	b := boxOf(c)
	if b == nil || b.argv == nil || c.State() != "running" {
		return nil
	}
	if con := b.console(); con != nil && con.mainPID == c.Pid() {
		return nil // it runs already: docker start of a running container
	}
	con, err := d.startConsole(c, consoleSpec{argv: b.argv, env: b.env, tty: b.tty, stdin: b.stdin, out: b.out, main: true})
	if err != nil {
		return err
	}
	b.setConsole(con)
	return nil
}

// targetOf is what docker attach and start -a attach to in c.
func targetOf(c *netkit.Container, b *box) target {
	if con := b.console(); con != nil {
		return consoleTarget(con)
	}
	return programTarget(c, b)
}

// stoppedAttach is the CLI's refusal to attach to a container that does
// not run (docker/cli cli/command/container/attach.go: "You cannot attach"
// until 28.5.2, without "You" from 29.0.0).
func stoppedAttach(cli release.Era) string {
	if cli >= release.Era29 {
		return "cannot attach to a stopped container, start it first"
	}
	return "You cannot attach to a stopped container, start it first"
}

// dockerAttach is docker attach: the caller's terminal attached to the
// container's process (its console, or its image's program's output) until
// it ends, with its exit status, or the caller detaches: "read escape
// sequence", the error the CLI prints then, and status 1.
func dockerAttach(d *dockerCtx, args []string) error {
	var noStdin bool
	sigProxy := true
	var keys string
	fs := &FlagSet{Interspersed: true}
	fs.Bool(&noStdin, "", "no-stdin")
	fs.Bool(&sigProxy, "", "sig-proxy")
	fs.String(&keys, "", "detach-keys")
	_, c, err := d.parseContainer(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if c.State() != "running" {
		return d.fail(1, "%s", stoppedAttach(d.cli()))
	}
	b := boxOf(c)
	if b == nil {
		b = &box{out: newFanout(nil)}
	}
	if err := d.checkTty(!noStdin, b.tty); err != nil {
		return err
	}
	t := targetOf(c, b)
	code, end := d.attachTo(t, t.out.attach(d.outputOf(b.tty)), !noStdin && b.stdin, detachKeys(keys), false)
	return d.consoleEnd(code, end)
}

// execConsole is docker exec -i or -t without -d: cmd's console, with the
// caller attached until it ends (its exit status is exec's) or the caller
// detaches ("read escape sequence", status 1), which leaves it running.
func (d *dockerCtx) execConsole(c *netkit.Container, argv, env []string, tty, stdin bool, keys string) error {
	if err := d.checkTty(stdin, tty); err != nil {
		return err
	}
	out := newFanout(nil)
	a := out.attach(d.outputOf(tty))
	con, err := d.startConsole(c, consoleSpec{argv: argv, env: env, tty: tty, stdin: stdin, out: out})
	if err != nil {
		return err
	}
	code, end := d.attachTo(consoleTarget(con), a, stdin, detachKeys(keys), true)
	return d.consoleEnd(code, end)
}

// startAttached is docker start -a (and -i): one container started with
// the caller attached to its process, as docker run attaches.
func (d *dockerCtx) startAttach(eng *netkit.Engine, refs []string, stdin bool) error {
	if len(refs) > 1 {
		return d.fail(1, "you cannot start and attach multiple containers at once")
	}
	c, err := eng.Container(refs[0])
	if err != nil {
		return d.daemonErr(err)
	}
	b := boxOf(c)
	if b == nil {
		b = &box{out: newFanout(nil)}
	}
	a := b.out.attach(d.outputOf(b.tty))
	if err := settle(c, c.Start()); err != nil {
		b.out.detach(a)
		return d.fail(1, "Error response from daemon: %s", DaemonMsg(err))
	}
	if err := d.restartConsole(c); err != nil {
		b.out.detach(a)
		return err
	}
	code, end := d.attachTo(targetOf(c, b), a, stdin && b.stdin, detachKeys(""), false)
	if end == ended && code != 0 {
		return &ExitError{Cmd: d.path, Code: code}
	}
	return nil
}

// consoleEnd is how docker attach and exec end: "read escape sequence"
// (status 1) when the caller detached, the process's status when it ended
// with one.
func (d *dockerCtx) consoleEnd(code int, end attachEnd) error {
	switch {
	case end == escaped:
		return d.fail(1, "%s", term.EscapeError{})
	case end == ended && code != 0:
		return &ExitError{Cmd: d.path, Code: code}
	}
	return nil
}
