package images

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"golang.org/x/crypto/ssh"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
)

// Kernel tests: every program runs as a real process in a fresh network
// namespace of its own, and is reached from sockets made inside it.

const (
	readyTimeout = 10 * time.Second
	opTimeout    = 20 * time.Second
)

// container is a program started as a container's main process.
type container struct {
	ns     *netns.NS
	cmd    *exec.Cmd
	output *testkit.Buffer
}

// startProgram starts program as the main process of a new network, UTS
// and mount namespace with lo up, and returns once it reported readiness.
func startProgram(t *testing.T, program, comm, hostname string, args ...string) *container {
	t.Helper()
	ns := testkit.NewNS(t, testkit.NSOptions{LoopbackUp: true})

	cmd, err := initproc.Command(initproc.Config{
		Mode:       initproc.ModeInit,
		Program:    program,
		Comm:       comm,
		Args:       args,
		RemountSys: true,
		Hostname:   hostname,
	})
	require.NoError(t, err)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	out := &testkit.Buffer{}
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	err = ns.Start(cmd, netns.StartOptions{NewUTS: true, NewMount: true})
	w.Close()
	require.NoError(t, err)
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	r.SetReadDeadline(time.Now().Add(readyTimeout))
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil || b[0] != 'R' {
		t.Fatalf("%s did not report readiness (%v); output:\n%s", program, err, out)
	}
	return &container{ns: ns, cmd: cmd, output: out}
}

// dial connects from a socket created inside the container's namespace.
func (c *container) dial(network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := c.ns.Do(func() error {
		var err error
		conn, err = net.DialTimeout(network, addr, opTimeout)
		return err
	})
	return conn, err
}

// httpClient is a client whose connections start inside the namespace. It
// accepts any server certificate; tests inspect it themselves.
func (c *container) httpClient() *http.Client {
	return &http.Client{
		Timeout: opTimeout,
		Transport: &http.Transport{
			DialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
				return c.dial(network, addr)
			},
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
			DisableKeepAlives: true,
		},
	}
}

func (c *container) get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.httpClient().Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v\ncontainer output:\n%s", url, err, c.output)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "GET %s: reading body", url)
	return resp, string(body)
}

// sshClient logs in to the container's sshd on 127.0.0.1:22.
func (c *container) sshClient(auth ssh.AuthMethod) (*ssh.Client, error) {
	const addr = "127.0.0.1:22"
	conn, err := c.dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{
		User: SSHUser,
		Auth: []ssh.AuthMethod{auth},
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if key.Type() != ssh.KeyAlgoED25519 {
				return fmt.Errorf("host key type %s, want %s", key.Type(), ssh.KeyAlgoED25519)
			}
			return nil
		},
	}
	conn.SetDeadline(time.Now().Add(opTimeout))
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

func (c *container) mustSSH(t *testing.T) *ssh.Client {
	t.Helper()
	client, err := c.sshClient(ssh.Password(SSHPassword))
	if err != nil {
		t.Fatalf("ssh login as %s: %v\ncontainer output:\n%s", SSHUser, err, c.output)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// within runs fn and fails the test if it does not return in time.
func within(t *testing.T, d time.Duration, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("%s: still running after %v", what, d)
		return nil
	}
}

// newSession opens an SSH session on client, closed when the test ends.
func newSession(t *testing.T, client *ssh.Client) *ssh.Session {
	t.Helper()
	s, err := client.NewSession()
	require.NoError(t, err, "opening an ssh session")
	t.Cleanup(func() { s.Close() })
	return s
}

// requestPty gives s a 40x80 xterm terminal.
func requestPty(t *testing.T, s *ssh.Session) {
	t.Helper()
	require.NoError(t, s.RequestPty("xterm", 40, 80, ssh.TerminalModes{}), "pty-req")
}

// sessionOutput runs cmd in s and returns its standard output, failing the
// test when it runs longer than opTimeout.
func sessionOutput(t *testing.T, s *ssh.Session, cmd string) (string, error) {
	t.Helper()
	var out []byte
	err := within(t, opTimeout, "ssh exec", func() error {
		var err error
		out, err = s.Output(cmd)
		return err
	})
	return string(out), err
}

// assertExitStatus asserts that err is an ssh.ExitError with status want.
func assertExitStatus(t *testing.T, err error, want int, msgAndArgs ...any) {
	t.Helper()
	var ee *ssh.ExitError
	if assert.ErrorAs(t, err, &ee, msgAndArgs...) {
		assert.Equal(t, want, ee.ExitStatus(), msgAndArgs...)
	}
}

// pgrep returns the PIDs that `pgrep ARGS` prints.
func pgrep(t *testing.T, args ...string) []int {
	t.Helper()
	testkit.RequireBinary(t, "pgrep")
	out, err := exec.Command("pgrep", args...).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return nil // no match
	}
	require.NoError(t, err, "pgrep %s", strings.Join(args, " "))
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		require.NoError(t, err, "pgrep printed %q", out)
		pids = append(pids, pid)
	}
	return pids
}

func TestHTTPD(t *testing.T) {
	t.Parallel()
	c := startProgram(t, ProgramHTTPD, "httpd", "web1")

	resp, body := c.get(t, "http://127.0.0.1/")
	want := "<html><body><h1>It works!</h1><p>container web1 at 127.0.0.1</p></body></html>\n"
	assert.Equal(t, http.StatusOK, resp.StatusCode, "GET /: status")
	assert.Equal(t, want, body, "GET /")
	resp, _ = c.get(t, "http://127.0.0.1/nope")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "GET /nope: status")

	// The address comes from the connection, so one added after start
	// shows up.
	err := c.ns.Do(func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		addr, err := netlink.ParseAddr("172.17.0.2/32")
		if err != nil {
			return err
		}
		return netlink.AddrAdd(lo, addr)
	})
	require.NoError(t, err, "adding 172.17.0.2 in the namespace")
	_, body = c.get(t, "http://172.17.0.2/")
	assert.Contains(t, body, "container web1 at 172.17.0.2<", "GET http://172.17.0.2/")

	assert.Contains(t, pgrep(t, "-x", "httpd"), c.cmd.Process.Pid, "pgrep -x httpd")
}

func TestHTTPDPort(t *testing.T) {
	t.Parallel()
	c := startProgram(t, ProgramHTTPD, "httpd", "web2", "-port", "8080")
	_, body := c.get(t, "http://127.0.0.1:8080/")
	assert.Contains(t, body, "It works!", "GET :8080")
	if conn, err := c.dial("tcp", "127.0.0.1:80"); err == nil {
		conn.Close()
		t.Errorf("port 80 accepts connections, want only 8080")
	}
}

func TestSSHD(t *testing.T) {
	t.Parallel()
	c := startProgram(t, ProgramSSHD, "sshd", "box1")
	client := c.mustSSH(t)

	t.Run("exec", func(t *testing.T) {
		out, err := sessionOutput(t, newSession(t, client), "echo hi; hostname")
		assert.NoError(t, err, "exec `echo hi; hostname`")
		assert.Equal(t, "hi\nbox1\n", out, "exec `echo hi; hostname`")
	})

	t.Run("stderr and exit status", func(t *testing.T) {
		s := newSession(t, client)
		var stdout, stderr bytes.Buffer
		s.Stdout, s.Stderr = &stdout, &stderr
		err := within(t, opTimeout, "ssh exec", func() error {
			return s.Run("echo out; echo err >&2; exit 3")
		})
		assertExitStatus(t, err, 3, "exit 3")
		assert.Equal(t, "out\n", stdout.String(), "stdout")
		assert.Equal(t, "err\n", stderr.String(), "stderr")
	})

	t.Run("stdin", func(t *testing.T) {
		s := newSession(t, client)
		s.Stdin = strings.NewReader("from stdin\n")
		out, err := sessionOutput(t, s, "cat")
		assert.NoError(t, err, "cat")
		assert.Equal(t, "from stdin\n", out, "cat")
	})

	t.Run("pty exec", func(t *testing.T) {
		s := newSession(t, client)
		requestPty(t, s)
		out, err := sessionOutput(t, s, `echo "term=$TERM tty=$(tty) size=$(stty size)"`)
		assert.NoError(t, err, "exec on a pty")
		assert.Regexp(t, `^term=xterm tty=/dev/pts/.* size=40 80\r\n$`, out, "exec on a pty")
	})

	t.Run("pty shell", func(t *testing.T) {
		s := newSession(t, client)
		requestPty(t, s)
		stdin, err := s.StdinPipe()
		require.NoError(t, err)
		var out testkit.Buffer
		s.Stdout = &out
		require.NoError(t, s.Shell(), "shell")
		// The loop ends once the window-change below has reached the
		// terminal, whenever that is: no timing assumptions.
		io.WriteString(stdin, `while [ "$(stty size)" = "40 80" ]; do :; done; echo "new=$(stty size)"; exit 7`+"\n")
		require.NoError(t, s.WindowChange(50, 100), "window-change")
		err = within(t, opTimeout, "ssh shell", s.Wait)
		assertExitStatus(t, err, 7, "shell; output:\n%s", &out)
		assert.Contains(t, out.String(), "new=50 100", "shell output")
	})

	t.Run("keyboard-interactive", func(t *testing.T) {
		ki := ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range answers {
				answers[i] = SSHPassword
			}
			return answers, nil
		})
		client, err := c.sshClient(ki)
		require.NoError(t, err, "keyboard-interactive login")
		client.Close()
	})

	t.Run("wrong password", func(t *testing.T) {
		if client, err := c.sshClient(ssh.Password("wrong")); err == nil {
			client.Close()
			t.Fatal("login with a wrong password succeeded")
		}
	})

	t.Run("pgrep", func(t *testing.T) {
		assert.Contains(t, pgrep(t, "-x", "sshd"), c.cmd.Process.Pid, "pgrep -x sshd")
	})
}

// TestSSHDOpenSSH logs in with the real OpenSSH client, run inside the
// namespace. The password comes from an SSH_ASKPASS script, so sshpass is
// not needed.
func TestSSHDOpenSSH(t *testing.T) {
	t.Parallel()
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("skipping: OpenSSH client (ssh) not installed")
	}
	c := startProgram(t, ProgramSSHD, "sshd", "box2")
	askpass := filepath.Join(t.TempDir(), "askpass")
	require.NoError(t, os.WriteFile(askpass, []byte("#!/bin/sh\necho "+SSHPassword+"\n"), 0o755))
	openssh := func(t *testing.T, method string, args ...string) (stdout, stderr string, err error) {
		return runOpenSSH(t, c, sshPath, askpass, method, args...)
	}
	for _, method := range []string{"password", "keyboard-interactive"} {
		t.Run(method, func(t *testing.T) {
			out, errOut, err := openssh(t, method, "root@127.0.0.1", "echo hi; hostname")
			if err != nil || out != "hi\nbox2\n" {
				t.Errorf("ssh root@127.0.0.1 'echo hi; hostname' = %q, %v; want \"hi\\nbox2\\n\"\nstderr: %s\ncontainer output:\n%s", out, err, errOut, c.output)
			}
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		// The same login with another password fails: the askpass
		// script is what logs in above.
		wrong := filepath.Join(t.TempDir(), "askpass")
		require.NoError(t, os.WriteFile(wrong, []byte("#!/bin/sh\necho wrong\n"), 0o755))
		_, errOut, err := runOpenSSH(t, c, sshPath, wrong, "password", "root@127.0.0.1", "true")
		if err == nil || !strings.Contains(errOut, "Permission denied") {
			t.Errorf("ssh with a wrong password: %v, stderr %q; want Permission denied", err, errOut)
		}
	})
	t.Run("exit status", func(t *testing.T) {
		_, errOut, err := openssh(t, "password", "root@127.0.0.1", "exit 5")
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 5 {
			t.Errorf("ssh 'exit 5' = %v, want exit status 5\nstderr: %s", err, errOut)
		}
	})
	t.Run("pty", func(t *testing.T) {
		out, errOut, err := openssh(t, "password", "-tt", "root@127.0.0.1", "tty")
		if err != nil || !strings.HasPrefix(out, "/dev/pts/") {
			t.Errorf("ssh -tt 'tty' = %q, %v; want /dev/pts/N\nstderr: %s", out, err, errOut)
		}
	})
	t.Run("interactive shell", func(t *testing.T) {
		out, errOut, err := runOpenSSHInput(t, c, sshPath, askpass, "password",
			"echo hello-$((1+2)); exit 4\n", "-tt", "root@127.0.0.1")
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 4 || !strings.Contains(out, "hello-3") {
			t.Errorf("ssh -tt with a script on stdin = %q, %v; want hello-3 and exit status 4\nstderr: %s", out, err, errOut)
		}
	})
}

// runOpenSSH runs the OpenSSH client inside the container's namespace,
// authenticating with method and the password that askpass prints.
func runOpenSSH(t *testing.T, c *container, sshPath, askpass, method string, args ...string) (stdout, stderr string, err error) {
	return runOpenSSHInput(t, c, sshPath, askpass, method, "", args...)
}

// runOpenSSHInput is runOpenSSH with stdin.
func runOpenSSHInput(t *testing.T, c *container, sshPath, askpass, method, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	argv := append([]string{
		"-F", "/dev/null",
		"-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR",
		"-o", "PubkeyAuthentication=no",
		"-o", "PreferredAuthentications=" + method,
		"-o", "NumberOfPasswordPrompts=1",
	}, args...)
	cmd := exec.CommandContext(ctx, sshPath, argv...)
	cmd.Env = append(os.Environ(), "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Stdin = strings.NewReader(stdin)
	require.NoError(t, c.ns.Start(cmd, netns.StartOptions{}))
	err = cmd.Wait()
	return out.String(), errOut.String(), err
}

func TestWebSSH(t *testing.T) {
	t.Parallel()
	c := startProgram(t, ProgramWebSSH, "sshd", "www1")

	_, body := c.get(t, "http://127.0.0.1/")
	assert.Contains(t, body, "It works!", "GET http://")
	assert.Contains(t, body, "container www1 at 127.0.0.1", "GET http://")

	resp, body := c.get(t, "https://127.0.0.1/")
	assert.Contains(t, body, "container www1 at 127.0.0.1", "GET https://")
	require.NotNil(t, resp.TLS, "GET https:// got no TLS connection")
	require.NotEmpty(t, resp.TLS.PeerCertificates, "GET https:// got no certificate")
	cert := resp.TLS.PeerCertificates[0]
	if key, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || key.Curve != elliptic.P256() {
		t.Errorf("certificate key is %T, want ECDSA P-256", cert.PublicKey)
	}
	assert.NoError(t, cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature), "certificate is not self-signed")
	assert.NoError(t, cert.VerifyHostname("www1"), "certificate")

	out, err := sessionOutput(t, newSession(t, c.mustSSH(t)), "hostname")
	assert.NoError(t, err, "ssh hostname")
	assert.Equal(t, "www1\n", out, "ssh hostname")

	pid := c.cmd.Process.Pid
	assert.Contains(t, pgrep(t, "-x", "sshd"), pid, "pgrep -x sshd: the main process")
	assert.Len(t, pgrep(t, "-x", "-P", strconv.Itoa(pid), "httpd"), 1, "pgrep -x -P %d httpd: one child named httpd", pid)
}

func TestProgramArgs(t *testing.T) {
	noReady := func() { t.Error("ready called for bad arguments") }
	for _, tc := range []struct {
		run  initproc.Program
		args []string
	}{
		{runHTTPD, []string{"-bogus"}},
		{runHTTPD, []string{"extra"}},
		{runHTTPD, []string{"-port", "0"}},
		{runSSHD, []string{"-port", "x"}},
		{runWebSSH, []string{"extra"}},
	} {
		assert.Error(t, tc.run(tc.args, noReady), "args %q accepted", tc.args)
	}
}

// TestShellEOF: busybox's sh with its input closed reports readiness and
// exits 0 by itself.
func TestShellEOF(t *testing.T) {
	c := startProgram(t, ProgramShellEOF, "sh", "box")
	require.NoError(t, c.cmd.Wait(), "sh on end of file exits 0; output:\n%s", c.output)
	assert.Equal(t, 0, c.cmd.ProcessState.ExitCode())
}
