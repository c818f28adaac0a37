package images

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// The one account sshd accepts, by password or keyboard-interactive.
const (
	SSHUser     = "root"
	SSHPassword = "labrun"
)

// Session environment: what a login on a Debian image would see.
const (
	sessionShell = "/bin/sh"
	sessionHome  = "/root"
	sessionPath  = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// runSSHD is the sshd program.
func runSSHD(args []string, ready func()) error {
	fs := flag.NewFlagSet(ProgramSSHD, flag.ContinueOnError)
	port := fs.Int("port", 22, "SSH `port`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	srv, ln, err := listenSSH(*port)
	if err != nil {
		return err
	}
	ready()
	return srv.serve(ln)
}

// listenSSH makes an SSH server (with a fresh host key) and its listener on
// port, on every address of the container.
func listenSSH(port int) (*sshServer, net.Listener, error) {
	srv, err := newSSHServer()
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return nil, nil, fmt.Errorf("listening for ssh: %w", err)
	}
	return srv, ln, nil
}

// sshServer is an SSH server with a host key made at start. It serves
// "session" channels only: exec and shell requests, with or without a PTY.
type sshServer struct {
	config *ssh.ServerConfig
}

func newSSHServer() (*sshServer, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating host key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return nil, fmt.Errorf("loading host key: %w", err)
	}
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
			return nil, checkLogin(c.User(), string(password))
		},
		KeyboardInteractiveCallback: func(c ssh.ConnMetadata, challenge ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := challenge("", "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if len(answers) != 1 {
				return nil, errors.New("permission denied")
			}
			return nil, checkLogin(c.User(), answers[0])
		},
	}
	cfg.AddHostKey(signer)
	return &sshServer{config: cfg}, nil
}

func checkLogin(user, password string) error {
	okUser := subtle.ConstantTimeCompare([]byte(user), []byte(SSHUser))
	okPass := subtle.ConstantTimeCompare([]byte(password), []byte(SSHPassword))
	if okUser&okPass != 1 {
		return errors.New("permission denied")
	}
	return nil
}

// serve accepts connections on ln until it fails.
func (s *sshServer) serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("accepting ssh connection: %w", err)
		}
		go s.handleConn(c)
	}
}

// handshakeTimeout bounds the key exchange and authentication, as
// OpenSSH's LoginGraceTime does.
const handshakeTimeout = 2 * time.Minute

func (s *sshServer) handleConn(c net.Conn) {
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	conn, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		c.Close()
		return
	}
	c.SetDeadline(time.Time{})
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only session channels are supported")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		sess := &session{conn: conn, ch: ch}
		go sess.serve(creqs)
	}
	conn.Close()
}

// session is one "session" channel: at most one command, optionally on a
// PTY.
type session struct {
	conn *ssh.ServerConn
	ch   ssh.Channel

	mu      sync.Mutex
	term    string       // TERM from pty-req
	size    *pty.Winsize // non-nil once a PTY was requested
	ptmx    *os.File     // PTY master while the command runs
	cmd     *exec.Cmd    // the command, once started
	started bool
}

// Payloads of the channel requests (RFC 4254 section 6).
type (
	ptyRequest struct {
		Term              string
		Cols, Rows        uint32
		WidthPx, HeightPx uint32
		Modes             string
	}
	windowChange struct {
		Cols, Rows        uint32
		WidthPx, HeightPx uint32
	}
	execRequest   struct{ Command string }
	signalRequest struct{ Signal string }
	exitStatus    struct{ Status uint32 }
	exitSignal    struct {
		Signal     string
		CoreDumped bool
		Message    string
		Lang       string
	}
)

// serve handles the channel's requests until the client closes it. A
// command still running then gets SIGHUP, as on a hung-up terminal.
func (s *session) serve(reqs <-chan *ssh.Request) {
	for req := range reqs {
		switch req.Type {
		case "env":
			// Accepted and ignored, like an sshd without AcceptEnv.
			req.Reply(true, nil)
		case "pty-req":
			if p, ok := payload[ptyRequest](req); ok {
				req.Reply(s.setPTY(p), nil)
			}
		case "window-change":
			if w, ok := payload[windowChange](req); ok {
				req.Reply(s.resize(w), nil)
			}
		case "exec":
			if e, ok := payload[execRequest](req); ok {
				s.startOrFail(req, e.Command, false)
			}
		case "shell":
			s.startOrFail(req, "", true)
		case "signal":
			if sig, ok := payload[signalRequest](req); ok {
				req.Reply(s.signal(sig.Signal), nil)
			}
		default:
			// subsystem (sftp), x11-req, auth-agent-req@openssh.com, ...
			req.Reply(false, nil)
		}
	}
	s.signal("HUP")
}

// payload decodes req's payload; when it cannot, it refuses req.
func payload[T any](req *ssh.Request) (T, bool) {
	var v T
	if err := ssh.Unmarshal(req.Payload, &v); err != nil {
		req.Reply(false, nil)
		return v, false
	}
	return v, true
}

func (s *session) setPTY(p ptyRequest) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return false
	}
	s.term = p.Term
	s.size = &pty.Winsize{Rows: uint16(p.Rows), Cols: uint16(p.Cols), X: uint16(p.WidthPx), Y: uint16(p.HeightPx)}
	return true
}

func (s *session) resize(w windowChange) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size == nil {
		return false
	}
	s.size = &pty.Winsize{Rows: uint16(w.Rows), Cols: uint16(w.Cols), X: uint16(w.WidthPx), Y: uint16(w.HeightPx)}
	if s.ptmx != nil {
		// The kernel sends SIGWINCH to the terminal's foreground
		// process group.
		return pty.Setsize(s.ptmx, s.size) == nil
	}
	return true
}

// signal delivers a signal named as in RFC 4254 ("TERM", "HUP") to the
// command, if it runs.
func (s *session) signal(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return false
	}
	sig := unix.SignalNum("SIG" + name)
	if sig == 0 {
		return false
	}
	// After Wait, Signal fails with os.ErrProcessDone and never reaches
	// a recycled PID.
	return s.cmd.Process.Signal(sig) == nil
}

// startOrFail starts the session's command and answers req; on failure the
// channel is closed, as OpenSSH does. The answer goes before the exit
// status and the channel's close: a command as quick as `true` may end
// before req is answered, and a client whose channel closes before the
// answer to its exec request sees EOF, not the command's status.
func (s *session) startOrFail(req *ssh.Request, command string, shell bool) {
	replied := make(chan struct{})
	if err := s.start(command, shell, replied); err != nil {
		req.Reply(false, nil)
		fmt.Fprintf(s.ch.Stderr(), "sshd: %v\r\n", err)
		s.ch.Close()
		return
	}
	req.Reply(true, nil)
	close(replied)
}

// start runs the command (`sh -c COMMAND`, or a login shell) in the
// background, wires it to the channel and, when it ends, sends its exit
// status and closes the channel.
//
// The exit status and the close wait for replied to be closed.
func (s *session) start(command string, shell bool, replied <-chan struct{}) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("session already runs a command")
	}
	s.started = true

	var cmd *exec.Cmd
	if shell {
		// A leading dash makes it a login shell, as sshd starts it.
		cmd = &exec.Cmd{Path: sessionShell, Args: []string{"-sh"}}
	} else {
		cmd = exec.Command(sessionShell, "-c", command)
	}
	cmd.Env = s.env()
	// A home it may not enter (root's, for labrun as an ordinary user)
	// leaves the command in /, as sshd does ("Could not chdir to home
	// directory").
	if st, err := os.Stat(sessionHome); err == nil && st.IsDir() && unix.Access(sessionHome, unix.X_OK) == nil {
		cmd.Dir = sessionHome
	} else {
		cmd.Dir = "/"
	}
	// The command must not outlive the container's main process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}

	var output sync.WaitGroup
	if s.size != nil {
		cmd.SysProcAttr.Setsid = true
		cmd.SysProcAttr.Setctty = true
		ptmx, err := pty.StartWithAttrs(cmd, s.size, cmd.SysProcAttr)
		if err != nil {
			return fmt.Errorf("starting %s on a pty: %w", sessionShell, err)
		}
		s.ptmx = ptmx
		go func() {
			io.Copy(ptmx, s.ch)
		}()
		// The copy ends with EIO once every holder of the terminal
		// has closed it, after the last output was read.
		output.Go(func() {
			io.Copy(s.ch, ptmx)
		})
	} else {
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return fmt.Errorf("making stdin pipe: %w", err)
		}
		cmd.Stdout = s.ch
		cmd.Stderr = s.ch.Stderr()
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting %s: %w", sessionShell, err)
		}
		// Not waited for: a client that never sends EOF must not keep
		// the session open after the command exits.
		go func() {
			io.Copy(stdin, s.ch)
			stdin.Close()
		}()
	}
	s.cmd = cmd

	go func() {
		// For a pipe session Wait also drains stdout and stderr.
		cmd.Wait()
		output.Wait()
		s.mu.Lock()
		if s.ptmx != nil {
			s.ptmx.Close()
			s.ptmx = nil
		}
		s.mu.Unlock()
		<-replied
		s.ch.CloseWrite()
		sendExit(s.ch, cmd.ProcessState)
		s.ch.Close()
	}()
	return nil
}

// sendExit reports how the command ended: exit-status, or exit-signal when
// a signal killed it.
func sendExit(ch ssh.Channel, ps *os.ProcessState) {
	if ps == nil {
		ch.SendRequest("exit-status", false, ssh.Marshal(exitStatus{Status: 255}))
		return
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		name := unix.SignalName(ws.Signal())
		if len(name) > 3 {
			name = name[3:] // strip "SIG"
		}
		ch.SendRequest("exit-signal", false, ssh.Marshal(exitSignal{
			Signal:     name,
			CoreDumped: ws.CoreDump(),
		}))
		return
	}
	ch.SendRequest("exit-status", false, ssh.Marshal(exitStatus{Status: uint32(ps.ExitCode())}))
}

// env is the command's environment: a clean login environment, not the
// container's main process's.
func (s *session) env() []string {
	env := []string{
		"PATH=" + sessionPath,
		"HOME=" + sessionHome,
		"USER=" + SSHUser,
		"LOGNAME=" + SSHUser,
		"SHELL=" + sessionShell,
	}
	if remote, ok := s.conn.RemoteAddr().(*net.TCPAddr); ok {
		if local, ok := s.conn.LocalAddr().(*net.TCPAddr); ok {
			ra, la := remote.AddrPort(), local.AddrPort()
			env = append(env,
				fmt.Sprintf("SSH_CLIENT=%s %d %d", ra.Addr().Unmap(), ra.Port(), la.Port()),
				fmt.Sprintf("SSH_CONNECTION=%s %d %s %d", ra.Addr().Unmap(), ra.Port(), la.Addr().Unmap(), la.Port()))
		}
	}
	if s.size != nil {
		term := s.term
		if term == "" {
			term = "dumb"
		}
		env = append(env, "TERM="+term)
	}
	return env
}
