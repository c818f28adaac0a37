package classroom

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ShellMain runs `labrun shell [-lab LAB] NODE [COMMAND [ARG...]]`.
func ShellMain(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("shell", "shell [-lab LAB] NODE [COMMAND [ARG...]]\n\nOpen an interactive shell inside NODE of a live lab: host, client, gateway, internet,\nor a running container. The prompt names the lab and the node; docker and dockerd\nrun on the lab's engine; ip, iptables, brctl, curl, ssh and tcpdump see the node's\nnetwork. With COMMAND, run it there through sh -c instead of a shell (one argument is a\ncommand line, several are words passed as typed); unless stdin and stdout are a terminal,\nit runs without one: its stdout and stderr reach labrun's, apart and byte for byte.\nThe shell ends with the lab.", stderr)
	lab := labFlag(fs, "the live `lab`")
	if code, ok := parseArgs(fs, args, 1, -1); !ok {
		return code
	}
	name, err := resolveLab(*lab)
	if err != nil {
		fmt.Fprintf(stderr, "labrun shell: %v\n", err)
		return 1
	}
	argv := shellCommand(fs.Args()[1:])
	if !isTerminal(0) || !isTerminal(1) {
		// Pipes or files: the command's bytes as they are, stderr
		// apart; a PTY only for a person at a terminal.
		return stdioSession(name, fs.Arg(0), argv, nil, stderr)
	}
	return shellSession(name, fs.Arg(0), argv, nil, stderr)
}

// shellSession asks the keeper of lab name for a shell (or argv) in node on
// a PTY, and connects this process's terminal to it until it ends. It
// returns the shell's exit status.
func shellSession(name, node string, argv, env []string, stderr io.Writer) int {
	c, err := dial(name)
	if err != nil {
		fmt.Fprintf(stderr, "labrun shell: %v\n", err)
		return 1
	}
	defer c.Close()
	req := request{Op: opShell, Node: node, Args: argv, Env: env}
	for _, k := range []string{"TERM", "LANG", "LC_ALL"} {
		if v, ok := os.LookupEnv(k); ok {
			req.Env = append(req.Env, k+"="+v)
		}
	}
	term := isTerminal(0)
	if term {
		if ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ); err == nil {
			req.Rows, req.Cols = ws.Row, ws.Col
		}
	}
	if err := c.send(req); err != nil {
		fmt.Fprintf(stderr, "labrun shell: %v\n", err)
		return 1
	}
	var r reply
	master, err := c.recvFD(&r)
	if err != nil {
		fmt.Fprintf(stderr, "labrun shell: %v\n", err)
		return 1
	}
	if r.Error != "" || master == nil {
		if master != nil {
			master.Close()
		}
		msg := r.Error
		if msg == "" {
			msg = "the keeper sent no terminal"
		}
		fmt.Fprintf(stderr, "labrun shell: %s\n", msg)
		return 1
	}
	defer master.Close()
	if !term {
		// Not a person at a terminal: no echo of the input, and output
		// lines as programs print them (no CR added).
		if t, err := unix.IoctlGetTermios(int(master.Fd()), unix.TCGETS); err == nil {
			t.Lflag &^= unix.ECHO
			t.Oflag &^= unix.OPOST
			unix.IoctlSetTermios(int(master.Fd()), unix.TCSETS, t)
		}
	}
	if term {
		old, err := makeRaw(0)
		if err == nil {
			defer unix.IoctlSetTermios(0, unix.TCSETS, old)
		}
		defer onResize(func(ws *unix.Winsize) { unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws) })()
	}
	go func() {
		io.Copy(master, os.Stdin)
		if !term {
			// End of a piped script: end the shell as ^D would.
			master.Write([]byte{4})
		}
	}()
	// The copy ends when the shell and everything on its terminal have
	// gone (EIO on the master).
	io.Copy(os.Stdout, master)
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r reply
		for {
			if err := c.recv(&r); err != nil {
				done <- result{1, fmt.Errorf("lab %s went away", name)}
				return
			}
			if r.final() {
				if r.Error != "" {
					done <- result{1, fmt.Errorf("%s", r.Error)}
					return
				}
				done <- result{*r.Exit, nil}
				return
			}
		}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			restoreNewline(term)
			fmt.Fprintf(stderr, "labrun shell: %v\n", res.err)
		}
		return res.code
	case <-time.After(10 * time.Second):
		return 1
	}
}

// restoreNewline starts a fresh line after a raw-mode session.
func restoreNewline(term bool) {
	if term {
		os.Stdout.WriteString("\r\n")
	}
}

// isTerminal reports whether fd is a terminal.
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// makeRaw puts terminal fd in raw mode (as cfmakeraw does) and returns the
// previous state.
func makeRaw(fd int) (*unix.Termios, error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	return old, nil
}

// onResize calls apply with the terminal's new size (on descriptor 0) each
// time it changes, until the returned stop is called.
//
// Equivalent to: trap 'stty size' WINCH
func onResize(apply func(*unix.Winsize)) (stop func()) {
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	go func() {
		for range winch {
			if ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ); err == nil {
				apply(ws)
			}
		}
	}()
	return func() { signal.Stop(winch); close(winch) }
}
