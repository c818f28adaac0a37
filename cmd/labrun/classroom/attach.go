package classroom

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// A docker command typed in a lab's shell runs in the keeper
// (runner.Exec), and its client, `labrun docker`, is the docker CLI's
// terminal side: it prints what the command prints and, when the command
// attaches the caller's input (docker run -i/-t, exec -i/-t, attach),
// sends its input and its terminal's size, in raw mode while the command
// asks for it (proto.go). clientInput is that input as the command sees it.

// clientInput is the input of a client's exec request: the
// dockercli.Input of the command it runs. It asks the client for its input
// at the first read only, so that a command that reads nothing (docker ps)
// leaves the terminal's input to the shell.
type clientInput struct {
	c    *conn
	term bool
	ask  sync.Once
	data chan []byte
	rest []byte
	// end is closed at the end of the client's input, or when it hangs
	// up; done when the command has ended.
	end     chan struct{}
	endOnce sync.Once
	done    chan struct{}

	sizeMu     sync.Mutex
	rows, cols uint16
	resized    chan struct{}
}

func newClientInput(c *conn, req request) *clientInput {
	return &clientInput{c: c, term: req.TTY, rows: req.Rows, cols: req.Cols,
		data: make(chan []byte), end: make(chan struct{}), done: make(chan struct{}), resized: make(chan struct{}, 1)}
}

// receive reads the client's messages until it hangs up.
func (in *clientInput) receive() {
	defer in.endOnce.Do(func() { close(in.end) })
	for {
		var m inputMsg
		if err := in.c.recv(&m); err != nil {
			return
		}
		if len(m.Stdin) > 0 {
			select {
			case in.data <- m.Stdin:
			case <-in.done:
				return
			}
		}
		if m.EOF {
			in.endOnce.Do(func() { close(in.end) })
		}
		if m.Rows > 0 && m.Cols > 0 {
			in.sizeMu.Lock()
			in.rows, in.cols = m.Rows, m.Cols
			in.sizeMu.Unlock()
			select {
			case in.resized <- struct{}{}:
			default:
			}
		}
	}
}

func (in *clientInput) Read(p []byte) (int, error) {
	in.ask.Do(func() { in.c.send(reply{AskStdin: true}) })
	if len(in.rest) == 0 {
		select {
		case b := <-in.data:
			in.rest = b
		case <-in.end:
			return 0, io.EOF
		case <-in.done:
			return 0, io.EOF
		}
	}
	n := copy(p, in.rest)
	in.rest = in.rest[n:]
	return n, nil
}

func (in *clientInput) IsTerminal() bool { return in.term }

func (in *clientInput) SetRaw() func() {
	on, off := true, false
	in.c.send(reply{Raw: &on})
	return func() { in.c.send(reply{Raw: &off}) }
}

func (in *clientInput) Size() (uint16, uint16) {
	in.sizeMu.Lock()
	defer in.sizeMu.Unlock()
	return in.rows, in.cols
}

func (in *clientInput) Resized() <-chan struct{} { return in.resized }

// dockerClient runs a docker or dockerd command line (args, its first word
// the command) on lab name's keeper, as the docker CLI would here: output to
// stdout and stderr, the terminal's input and size when the command asks,
// raw mode while it is attached to a container's terminal. It returns the
// command's exit status.
func dockerClient(name string, args []string, stdout, stderr io.Writer) int {
	c, err := dial(name)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", args[0], err)
		return 1
	}
	defer c.Close()
	req := request{Op: opExec, Args: args, Env: os.Environ(), TTY: isTerminal(0)}
	if req.TTY {
		if ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ); err == nil {
			req.Rows, req.Cols = ws.Row, ws.Col
			defer onResize(func(ws *unix.Winsize) { c.send(inputMsg{Rows: ws.Row, Cols: ws.Col}) })()
		}
	}
	if err := c.send(req); err != nil {
		fmt.Fprintf(stderr, "%s: talking to lab %q: %v\n", args[0], name, err)
		return 1
	}
	var saved *unix.Termios
	defer func() {
		if saved != nil {
			unix.IoctlSetTermios(0, unix.TCSETS, saved)
		}
	}()
	for {
		var r reply
		if err := c.recv(&r); err != nil {
			fmt.Fprintf(stderr, "%s: lab %q: the keeper hung up: %v\n", args[0], name, err)
			return 1
		}
		stdout.Write(r.Stdout)
		stderr.Write(r.Stderr)
		switch {
		case r.Raw != nil && *r.Raw && saved == nil && req.TTY:
			saved, _ = makeRaw(0)
		case r.Raw != nil && !*r.Raw && saved != nil:
			unix.IoctlSetTermios(0, unix.TCSETS, saved)
			saved = nil
		}
		if r.AskStdin {
			go sendInput(c)
		}
		if r.Error != "" {
			fmt.Fprintf(stderr, "%s: %s\n", args[0], r.Error)
			return 1
		}
		if r.Exit != nil {
			return *r.Exit
		}
	}
}

// sendInput sends this process's input to the keeper until its end.
func sendInput(c *conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := os.Stdin.Read(buf)
		if n > 0 {
			if c.send(inputMsg{Stdin: append([]byte(nil), buf[:n]...)}) != nil {
				return
			}
		}
		if err != nil {
			c.send(inputMsg{EOF: true})
			return
		}
	}
}
