package classroom

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"github.com/rogpeppe/go-internal/txtar"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/cmd/labrun/topology"
	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/userns"
	"github.com/labrun/labrun/netkit/world"
	"github.com/labrun/labrun/runner"
)

// KeeperCmd is the hidden subcommand that `labrun up` re-executes labrun
// as: the process that owns a live lab. The labrun binary must run
// KeeperMain for it.
const KeeperCmd = "__keeper"

// upResult is what the keeper tells `labrun up` on its readiness pipe (fd
// 3), once: the lab is up, or why not.
type upResult struct {
	OK    bool     `json:"ok"`
	Error string   `json:"error,omitempty"`
	Log   string   `json:"log,omitempty"`
	Info  *LabInfo `json:"info,omitempty"`
}

// keeper owns a live lab. It holds the lab's namespaces by descriptor and is
// the parent of every process in the lab (containers, programs, shells),
// which die with it by their parent-death signal; so whatever way it ends,
// the lab ends with it. Only its directory under RunDir can outlive it
// (after kill -9), and holds nothing but files.
type keeper struct {
	name string
	dir  string
	work string
	file string
	// world is -world: a world file (an absolute path) or a shipped
	// world's name; "" for the file's own world (runner.ScriptWorld), or
	// the default.
	world string
	ex    *Exercise
	lab   *netkit.Lab
	info  LabInfo
	ln    *net.UnixListener

	mu      sync.Mutex
	shells  map[*exec.Cmd]bool
	checkMu sync.Mutex // one check run at a time
	stop    chan struct{}
	once    sync.Once
	// owns is set once the keeper listens on the lab's socket: the lab
	// directory is then its own, to remove when it ends. (Before, it may
	// be another keeper's; labrun up removes it when no keeper answers.)
	owns bool
}

// KeeperMain runs the keeper (labrun KeeperCmd -name LAB [-keep] [FILE]):
// it builds the lab, reports on fd 3 and serves until down, a signal, or its
// end.
func KeeperMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(KeeperCmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "")
	keepFailed := fs.Bool("keep", false, "")
	named := fs.Bool("netns", false, "")
	worldRef := fs.String("world", "", "")
	if err := fs.Parse(args); err != nil || *name == "" || fs.NArg() > 1 {
		fmt.Fprintln(stderr, "labrun __keeper: started by labrun up only")
		return 2
	}
	var st unix.Stat_t
	if err := unix.Fstat(3, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		fmt.Fprintln(stderr, "labrun __keeper: started by labrun up only")
		return 2
	}
	ready := os.NewFile(3, "ready")
	k := &keeper{name: *name, dir: labDir(*name), work: workDir(*name), world: *worldRef, shells: map[*exec.Cmd]bool{}, stop: make(chan struct{})}
	if fs.NArg() == 1 {
		k.file = fs.Arg(0)
	}
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		s := <-sigs
		fmt.Fprintf(stderr, "keeper: %v: shutting down\n", s)
		k.shutdown()
	}()
	res := k.start(*keepFailed)
	if res.OK && *named {
		if err := k.pinNodes(); err != nil {
			res.OK, res.Error = false, err.Error()
		}
	}
	b, _ := json.Marshal(res)
	_, werr := ready.Write(b)
	ready.Close()
	if !res.OK {
		k.shutdown()
		k.cleanup()
		return 1
	}
	if werr != nil {
		// labrun up is gone: nobody knows of this lab.
		fmt.Fprintf(stderr, "keeper: reporting readiness: %v: shutting down\n", werr)
		k.shutdown()
		k.cleanup()
		return 1
	}
	fmt.Fprintf(stdout, "keeper: lab %s up\n", k.name)
	go k.serve()
	<-k.stop
	k.cleanup()
	fmt.Fprintf(stdout, "keeper: lab %s down\n", k.name)
	return 0
}

// start builds the lab: the world, the socket, the shells' files, then the
// file's set-up (an exercise's set-up, or a scenario's whole script). With
// keepFailed a failed set-up leaves the lab up as it stopped.
func (k *keeper) start(keepFailed bool) upResult {
	fail := func(format string, args ...any) upResult {
		return upResult{Error: fmt.Sprintf(format, args...)}
	}
	var setup *fragment
	if k.file != "" {
		x, err := ParseExercise(k.file)
		switch {
		case err == nil:
			k.ex = x
			setup = &x.Setup
		case errors.Is(err, errNotExercise):
			b, rerr := os.ReadFile(k.file)
			if rerr != nil {
				return fail("%v", rerr)
			}
			a := txtar.Parse(b)
			setup = &fragment{Display: k.file, Line: 1, Text: string(a.Comment), Files: a.Files}
		default:
			return fail("%v", err)
		}
	}
	// The socket first: it fails if another keeper has it, and then
	// nothing here is this keeper's. Connections wait in its backlog
	// until the lab is up and served.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: socketPath(k.name), Net: "unix"})
	if err != nil {
		return fail("listening on %s: %v", socketPath(k.name), err)
	}
	os.Chmod(socketPath(k.name), 0o600)
	k.ln = ln
	k.owns = true
	for _, d := range []string{k.work, filepath.Join(k.dir, "bin")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fail("%v", err)
		}
	}
	if err := k.writeShellFiles(); err != nil {
		return fail("writing the shells' files: %v", err)
	}
	if err := k.addTools(); err != nil {
		return fail("adding the network tools: %v", err)
	}
	w, err := k.labWorld(setup)
	if err != nil {
		return fail("%v", err)
	}
	lab, err := netkit.NewLab(netkit.LabOptions{Name: k.name, World: w})
	if err != nil {
		return fail("making the lab: %v", err)
	}
	k.lab = lab
	k.info = LabInfo{Name: k.name, PID: os.Getpid(), File: k.file, Started: time.Now(), Work: k.work}
	if k.ex != nil {
		k.info.Exercise, k.info.Task = k.ex.Name, k.ex.Task
	}
	var log string
	if setup != nil {
		r := runFragment(lab, k.work, *setup, setupTimeout)
		if !r.Passed {
			if !keepFailed {
				return upResult{Error: "the set-up failed: " + r.Failure, Log: r.Log}
			}
			log = r.Log
		}
	}
	b, _ := json.MarshalIndent(k.info, "", "  ")
	if err := os.WriteFile(infoPath(k.name), b, 0o644); err != nil {
		return fail("%v", err)
	}
	info := k.liveInfo()
	return upResult{OK: true, Info: &info, Log: log}
}

// labWorld is the world of the lab: -world's, else the one the set-up
// script picks (its world command or world.yaml section), else nil (the
// default).
func (k *keeper) labWorld(setup *fragment) (*world.World, error) {
	if k.world != "" {
		return runner.LoadWorld(k.world)
	}
	if setup == nil {
		return nil, nil
	}
	return setup.world(filepath.Dir(k.file))
}

// bashrc is the lab shells' start-up file: the system's, then the lab's
// prompt and PATH. %[1]s is the lab, %[2]s its bin directory.
const bashrc = `# labrun: start-up file of the shells of lab %[1]s
[ -r /etc/bash.bashrc ] && . /etc/bash.bashrc
PATH=%[2]s:$PATH
PS1='[%[1]s ${LABRUN_NODE}]# '
alias ls='ls --color=auto'
`

// writeShellFiles writes what the shells use: docker and dockerd commands
// that forward to this keeper, labrun itself, and bashrc.
func (k *keeper) writeShellFiles() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bin := filepath.Join(k.dir, "bin")
	for _, c := range []string{"docker", "dockerd"} {
		script := fmt.Sprintf("#!/bin/sh\n# %s of lab %s: runs on the lab's engine, through its keeper.\nLABRUN_LAB=%s exec %s %s \"$@\"\n",
			c, k.name, k.name, shellQuote(self), c)
		if err := os.WriteFile(filepath.Join(bin, c), []byte(script), 0o755); err != nil {
			return err
		}
	}
	if err := os.Symlink(self, filepath.Join(bin, "labrun")); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return os.WriteFile(filepath.Join(k.dir, "bashrc"), []byte(fmt.Sprintf(bashrc, k.name, bin)), 0o644)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// liveInfo is the lab's info with its nodes as they are now.
func (k *keeper) liveInfo() LabInfo {
	info := k.info
	info.Nodes = nil
	add := func(name, kind string, n *netkit.Node) {
		ino, _ := n.NS().Inode()
		info.Nodes = append(info.Nodes, NodeInfo{Name: name, Kind: kind, NetNS: ino})
	}
	for _, name := range k.lab.Nodes() {
		if n, err := k.lab.Node(name); err == nil {
			add(name, "world", n)
		}
	}
	if eng := k.lab.Engine(); eng != nil {
		ctrs := eng.Containers(false)
		sort.Slice(ctrs, func(i, j int) bool { return ctrs[i].Name < ctrs[j].Name })
		for _, c := range ctrs {
			if n := c.Node(); n != nil {
				add(c.Name, "container", n)
			}
		}
	}
	return info
}

// shutdown ends serving; cleanup then removes the lab.
func (k *keeper) shutdown() {
	k.once.Do(func() { close(k.stop) })
}

// cleanup kills the shells, closes the lab and removes its directory.
func (k *keeper) cleanup() {
	if k.ln != nil {
		k.ln.Close()
	}
	k.mu.Lock()
	for cmd := range k.shells {
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	}
	k.mu.Unlock()
	unpinAll(k.dir)
	if k.lab != nil {
		k.lab.Close()
	}
	if k.owns {
		os.RemoveAll(k.dir)
	}
}

func (k *keeper) serve() {
	for {
		c, err := k.ln.AcceptUnix()
		if err != nil {
			select {
			case <-k.stop:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go k.handle(newConn(c))
	}
}

// handle serves one connection: one request, from the lab's owner only.
func (k *keeper) handle(c *conn) {
	defer c.Close()
	var req request
	files, err := c.recvFDs(&req)
	if err != nil {
		return
	}
	defer closeFiles(files)
	if err := userns.SameUser(c.c); err != nil {
		c.send(reply{Error: fmt.Sprintf("lab %s: %v", k.name, err)})
		return
	}
	switch req.Op {
	case opInfo:
		info := k.liveInfo()
		c.send(reply{Info: &info})
		c.send(exitReply(0))
	case opExec:
		k.exec(c, req)
	case opShell:
		if err := k.shell(c, req, files); err != nil {
			c.send(reply{Error: err.Error()})
		}
	case opTopology:
		top, err := topology.Collect(k.lab)
		if err != nil {
			c.send(reply{Error: err.Error()})
			return
		}
		top.Lab = k.name
		c.send(reply{Topology: top})
		c.send(exitReply(0))
	case opInspect:
		in, err := topology.Inspect(k.lab)
		if err != nil {
			c.send(reply{Error: err.Error()})
			return
		}
		in.Lab = k.name
		c.send(reply{Inspect: in})
		c.send(exitReply(0))
	case opCheck:
		k.check(c, req)
	case opDown:
		c.send(exitReply(0))
		k.shutdown()
	default:
		c.send(reply{Error: fmt.Sprintf("unknown request %q", req.Op)})
	}
}

// replyWriter sends what is written to it as stdout or stderr replies.
type replyWriter struct {
	mu     *sync.Mutex
	c      *conn
	stderr bool
}

func (w replyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	total := len(p)
	for len(p) > 0 {
		n := min(len(p), 32<<10)
		chunk := append([]byte(nil), p[:n]...)
		r := reply{Stdout: chunk}
		if w.stderr {
			r = reply{Stderr: chunk}
		}
		if err := w.c.send(r); err != nil {
			return 0, err
		}
		p = p[n:]
	}
	return total, nil
}

// exec runs a command line (docker ..., dockerd ...) on the lab, streaming
// its output, and its input when it asks (clientInput), until it ends or
// the client hangs up.
func (k *keeper) exec(c *conn, req request) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := newClientInput(c, req)
	defer close(in.done)
	go func() {
		in.receive() // until the client hangs up
		cancel()
	}()
	var mu sync.Mutex
	err := runner.Exec(ctx, k.lab, runner.ExecOptions{
		Dir: k.work, Env: req.Env,
		Stdout: replyWriter{mu: &mu, c: c},
		Stderr: replyWriter{mu: &mu, c: c, stderr: true},
		Stdin:  in,
	}, req.Args)
	c.send(exitReply(runner.ExitStatus(err)))
}

// shellEnv is the environment of a shell in node: the lab's variables, PATH
// with the lab's docker first, the prompt's node, and what the client sent
// (TERM, LANG, docker exec's -e).
func (k *keeper) shellEnv(node string, extra []string) []string {
	path := filepath.Join(k.dir, "bin") + ":" + os.Getenv("PATH")
	for _, d := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		if !strings.Contains(":"+path+":", ":"+d+":") {
			path += ":" + d
		}
	}
	home := os.Getenv("HOME")
	if home == "" {
		home = "/root"
	}
	env := []string{
		"PATH=" + path, "HOME=" + home, "SHELL=/bin/bash",
		"LABRUN_LAB=" + k.name, "LABRUN_NODE=" + node, "WORK=" + k.work,
		"HISTFILE=" + filepath.Join(k.dir, "history-"+node),
		"PS1=[" + k.name + " " + node + "]# ",
	}
	env = append(env, userns.Environ()...)
	vars := k.lab.World().Vars()
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, k+"="+vars[k])
	}
	return append(env, extra...)
}

// shell starts a shell (or req.Args) inside node req.Node on a new PTY,
// passes the PTY's master to the client and reports the exit status when
// the shell ends.
//
// The shell runs as labrun's ModeExec wrapper does for `on NODE`: in the
// node's network namespace, in a private mount namespace with /sys
// remounted for that network namespace (so ip, brctl and tcpdump see the
// node's interfaces), in a UTS namespace of its own (hostname says the
// node's name) or for a container in the container's. It is
// also the first process of a PID namespace of its own, so that whatever it
// leaves running in the background dies with it; and it dies with the
// keeper (parent-death signal).
func (k *keeper) shell(c *conn, req request, stdio []*os.File) error {
	node := req.Node
	argv := req.Args
	if len(argv) == 0 && req.Stdio {
		// A script on stdin, as `ssh host < script` runs it.
		argv = []string{"sh"}
		if _, err := exec.LookPath("bash"); err == nil {
			argv = []string{"bash"}
		}
	} else if len(argv) == 0 {
		if _, err := exec.LookPath("bash"); err == nil {
			argv = []string{"bash", "--rcfile", filepath.Join(k.dir, "bashrc"), "-i"}
		} else {
			argv = []string{"sh", "-i"}
		}
	}
	env := k.shellEnv(node, req.Env)
	var cmd *exec.Cmd
	var start func(*exec.Cmd) error
	if n, err := k.lab.Node(node); err != nil {
		return err
	} else if ctr := k.container(node); ctr != nil {
		if cmd, err = ctr.Exec(env, argv...); err != nil {
			return err
		}
		start = ctr.StartExec
	} else {
		// As n.Command, plus a UTS namespace named after the node, so
		// that hostname says where the shell is.
		if _, err := exec.LookPath(argv[0]); err != nil {
			return fmt.Errorf("running in node %s: %w", node, err)
		}
		if cmd, err = initproc.Command(initproc.Config{Mode: initproc.ModeExec, RemountSys: true, Hostname: node, Args: argv, Binds: n.Binds()}); err != nil {
			return err
		}
		cmd.Env = append(append([]string{}, env...), cmd.Env[len(cmd.Env)-1])
		start = func(cmd *exec.Cmd) error {
			return n.NS().Start(cmd, netns.StartOptions{NewUTS: true, NewMount: true})
		}
	}
	if req.Stdio {
		return k.runStdio(c, node, cmd, start, stdio)
	}
	master, tty, err := pty.Open()
	if err != nil {
		return fmt.Errorf("opening a pseudo-terminal: %w", err)
	}
	defer master.Close()
	if req.Rows > 0 && req.Cols > 0 {
		pty.Setsize(master, &pty.Winsize{Rows: req.Rows, Cols: req.Cols})
	}
	cmd.Dir = k.work
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Cloneflags: unix.CLONE_NEWPID}
	err = start(cmd)
	tty.Close()
	if err != nil {
		return fmt.Errorf("starting a shell in %s: %w", node, err)
	}
	defer k.track(cmd)()
	if err := c.sendFD(reply{OK: true}, int(master.Fd())); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil
	}
	master.Close()
	c.send(exitReply(waitStatus(cmd.Wait())))
	return nil
}

// waitStatus is the exit status a shell reports for cmd.Wait's error:
// 128+N for a signal, as sh does.
func waitStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 1
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// container returns the running container named name (on any of the
// lab's engines), or nil.
func (k *keeper) container(name string) *netkit.Container {
	for _, eng := range k.lab.Engines() {
		if ctr, err := eng.Container(name); err == nil && ctr.Node() != nil {
			return ctr
		}
	}
	return nil
}

// check runs the exercise's checks on the live lab, one reply per check.
func (k *keeper) check(c *conn, req request) {
	if k.ex == nil {
		c.send(reply{Error: fmt.Sprintf("lab %s was not started from an exercise (labrun exercise start FILE)", k.name)})
		return
	}
	k.checkMu.Lock()
	defer k.checkMu.Unlock()
	failed := 0
	for i, ch := range k.ex.Checks {
		r := runCheck(k.lab, k.work, ch, req.Diagram)
		if !r.Passed {
			failed++
			if r.Topology != nil {
				r.Topology.Lab = k.name
				p := filepath.Join(k.work, fmt.Sprintf("check-%d.svg", i+1))
				if os.WriteFile(p, []byte(topology.SVG(r.Topology)), 0o644) == nil {
					r.DiagramFile = p
				}
			}
		}
		if err := c.send(reply{Check: &r}); err != nil {
			return
		}
	}
	code := 0
	if failed > 0 {
		code = 1
	}
	c.send(exitReply(code))
}
