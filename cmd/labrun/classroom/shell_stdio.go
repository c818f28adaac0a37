package classroom

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// shellCommand is the argv that runs a `labrun shell NODE CMD...` command
// line through the node's shell, as `ssh host CMD` and `docker exec CTR sh
// -c CMD` do. One argument is a command line as the shell reads it
// (`labrun shell host 'ip -br a | grep eth0'`); several are words, each
// quoted, so that they reach the program as typed (`labrun shell host sh
// -c 'echo out; echo err >&2'` runs sh with those three arguments). No
// arguments: nil, the node's interactive shell.
func shellCommand(args []string) []string {
	switch len(args) {
	case 0:
		return nil
	case 1:
		return []string{"sh", "-c", args[0]}
	}
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = shellWord(a)
	}
	return []string{"sh", "-c", strings.Join(words, " ")}
}

// shellWord quotes s for sh unless it is made only of characters that
// need no quoting.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%") == "" {
		return s
	}
	return shellQuote(s)
}

// stdioSession asks the keeper of lab name to run argv (nil: a shell
// reading a script) in node on this process's own stdin, stdout and stderr,
// without a PTY, and returns its exit status. Output is byte for byte what
// the command writes, stdout and stderr apart. If this process ends first
// (Ctrl-C), the keeper kills the command.
func stdioSession(name, node string, argv, env []string, stderr io.Writer) int {
	c, err := dial(name)
	if err != nil {
		fmt.Fprintf(stderr, "labrun shell: %v\n", err)
		return 1
	}
	defer c.Close()
	req := request{Op: opShell, Node: node, Args: argv, Env: env, Stdio: true}
	for _, k := range []string{"LANG", "LC_ALL"} {
		if v, ok := os.LookupEnv(k); ok {
			req.Env = append(req.Env, k+"="+v)
		}
	}
	if err := c.sendFD(req, 0, 1, 2); err != nil {
		fmt.Fprintf(stderr, "labrun shell: talking to lab %q: %v\n", name, err)
		return 1
	}
	for {
		var r reply
		if err := c.recv(&r); err != nil {
			fmt.Fprintf(stderr, "labrun shell: lab %s went away\n", name)
			return 1
		}
		if r.Error != "" {
			fmt.Fprintf(stderr, "labrun shell: %s\n", r.Error)
			return 1
		}
		if r.Exit != nil {
			return *r.Exit
		}
	}
}

// runStdio starts cmd (made by shell) on the client's stdin, stdout and
// stderr, tells the client it runs, and reports its exit status when it
// ends. It is the first process of a PID namespace of its own, in a
// session of its own without a controlling terminal; if the client hangs
// up first, it is killed, and with it everything it left running.
func (k *keeper) runStdio(c *conn, node string, cmd *exec.Cmd, start func(*exec.Cmd) error, stdio []*os.File) error {
	if len(stdio) != 3 {
		return fmt.Errorf("starting a command in %s: the request carries %d descriptors, want stdin, stdout and stderr", node, len(stdio))
	}
	cmd.Dir = k.work
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio[0], stdio[1], stdio[2]
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Cloneflags: unix.CLONE_NEWPID}
	err := start(cmd)
	// The keeper keeps no copy: the client's reader sees the end of the
	// output when the command and its children have gone.
	closeFiles(stdio)
	if err != nil {
		return fmt.Errorf("starting a command in %s: %w", node, err)
	}
	defer k.track(cmd)()
	done := make(chan struct{})
	defer close(done)
	go func() {
		// The client sends nothing more: a read returns when it hangs up.
		var b [1]byte
		c.c.Read(b[:])
		select {
		case <-done:
		default:
			cmd.Process.Kill()
		}
	}()
	if err := c.send(reply{OK: true}); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil
	}
	c.send(exitReply(waitStatus(cmd.Wait())))
	return nil
}

// closeFiles closes files; closing one twice is harmless.
func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// track records a running shell or command, which the keeper kills when it
// stops, and returns what forgets it.
func (k *keeper) track(cmd *exec.Cmd) (untrack func()) {
	k.mu.Lock()
	k.shells[cmd] = true
	k.mu.Unlock()
	return func() {
		k.mu.Lock()
		delete(k.shells, cmd)
		k.mu.Unlock()
	}
}
