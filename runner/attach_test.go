package runner

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/testkit"
)

// fakeTerm is a caller's terminal as a live lab's keeper passes it to a
// docker command (dockercli.Input): what the test types, and a record of
// raw mode.
type fakeTerm struct {
	r       *io.PipeReader
	w       *io.PipeWriter
	mu      sync.Mutex
	raw     int // SetRaw calls not yet restored
	resized chan struct{}
}

func newFakeTerm() *fakeTerm {
	r, w := io.Pipe()
	return &fakeTerm{r: r, w: w, resized: make(chan struct{})}
}

func (f *fakeTerm) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *fakeTerm) IsTerminal() bool           { return true }
func (f *fakeTerm) Size() (uint16, uint16)     { return 24, 80 }
func (f *fakeTerm) Resized() <-chan struct{}   { return f.resized }
func (f *fakeTerm) typ(t *testing.T, s string) {
	_, err := io.WriteString(f.w, s)
	require.NoError(t, err)
}
func (f *fakeTerm) SetRaw() func() {
	f.mu.Lock()
	f.raw++
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.raw--
		f.mu.Unlock()
	}
}

// waitFor polls s until re matches, for up to 10s.
func waitFor(t *testing.T, s *testkit.Buffer, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := rx.FindString(s.String()); m != "" {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output after 10s:\n%s", re, s.String())
		}
	}
}

// TestExecTerminal drives docker run -it, docker attach and docker exec -it
// with a terminal, as a live lab's shell does: the shell's prompt and
// hostname, detaching with ctrl-p ctrl-q, attaching again, exit ending the
// container (and --rm removing it), and exec's "read escape sequence".
func TestExecTerminal(t *testing.T) {
	testkit.RequireLab(t)
	lab, err := netkit.NewLab(netkit.LabOptions{Name: "attach"})
	require.NoError(t, err)
	defer lab.Close()
	dir := t.TempDir()
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	run := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := Exec(context.Background(), lab, ExecOptions{Dir: dir, Env: env, Stdout: &out, Stderr: &errb}, args)
		return out.String(), errb.String(), err
	}
	// attached runs a command line on term in the background.
	attached := func(term *fakeTerm, args ...string) (*testkit.Buffer, *testkit.Buffer, <-chan error) {
		out, errb := &testkit.Buffer{}, &testkit.Buffer{}
		done := make(chan error, 1)
		go func() {
			done <- Exec(context.Background(), lab, ExecOptions{Dir: dir, Env: env, Stdout: out, Stderr: errb, Stdin: term}, args)
		}()
		return out, errb, done
	}
	wait := func(done <-chan error) error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			t.Fatal("the docker command did not return")
		}
		return nil
	}

	// docker run -it --rm: the shell on the caller's terminal; exit ends
	// it, and the container with it.
	term := newFakeTerm()
	out, _, done := attached(term, "docker", "run", "-it", "--rm", "--name", "rm1", "busybox", "sh")
	waitFor(t, out, `# $`)
	term.typ(t, "hostname\r")
	id := strings.TrimSpace(waitFor(t, out, `\n[0-9a-f]{12}\r\n`))
	term.typ(t, "exit 3\r")
	assert.Equal(t, 3, ExitStatus(wait(done)), "docker run -it: the shell's status")
	assert.Zero(t, term.raw, "the terminal is back from raw mode")
	ps, _, err := run("docker", "ps", "-aq")
	require.NoError(t, err)
	assert.NotContains(t, ps, id, "docker ps -a after exit: --rm removed it")

	// ctrl-p ctrl-q detaches: docker run returns 0, the shell runs on.
	term = newFakeTerm()
	out, _, done = attached(term, "docker", "run", "-it", "--name", "kept", "busybox")
	waitFor(t, out, `# $`)
	term.typ(t, "echo one\r")
	waitFor(t, out, `\none\r\n`)
	term.typ(t, "\x10\x11")
	assert.NoError(t, wait(done), "docker run -it, detached")
	ps, _, _ = run("docker", "ps", "--format", "{{.Names}} {{.Status}}")
	assert.Regexp(t, `(?m)^kept Up `, ps, "the detached container runs")

	// docker attach: the same shell; ctrl-p ctrl-q again is the CLI's
	// "read escape sequence", status 1.
	term = newFakeTerm()
	out, errb, done := attached(term, "docker", "attach", "kept")
	term.typ(t, "echo two\r")
	waitFor(t, out, `\ntwo\r\n`)
	term.typ(t, "\x10\x11")
	err = wait(done)
	assert.Equal(t, 1, ExitStatus(err), "docker attach, detached: status")
	assert.Equal(t, "read escape sequence\n", errb.String(), "docker attach, detached")

	// docker exec -it: a second shell; detached, it is exec's error too.
	term = newFakeTerm()
	out, errb, done = attached(term, "docker", "exec", "-it", "kept", "sh")
	waitFor(t, out, `# $`)
	term.typ(t, "\x10x\x10\x11")
	assert.Equal(t, 1, ExitStatus(wait(done)), "docker exec -it, detached: status")
	assert.Equal(t, "read escape sequence\n", errb.String(), "docker exec -it, detached")

	// Attached again, exit ends the container, with the shell's status.
	term = newFakeTerm()
	out, _, done = attached(term, "docker", "attach", "kept")
	term.typ(t, "exit 5\r")
	assert.Equal(t, 5, ExitStatus(wait(done)), "docker attach: the shell's status")
	ps, _, _ = run("docker", "ps", "-a", "--format", "{{.Names}} {{.Status}}")
	assert.Regexp(t, `(?m)^kept Exited \(5\) `, ps, "the container ended with its shell")
	logs, _, err := run("docker", "logs", "kept")
	require.NoError(t, err)
	assert.Contains(t, logs, "# echo one\r\none\r\n# echo two\r\ntwo\r\n", "docker logs: the terminal's output")

	// docker start -ai: the shell again, from the start.
	term = newFakeTerm()
	out, _, done = attached(term, "docker", "start", "-ai", "kept")
	waitFor(t, out, `# $`)
	term.typ(t, "echo three; exit\r")
	waitFor(t, out, `\nthree\r\n`)
	assert.NoError(t, wait(done), "docker start -ai")

	// -i without -t: the input is piped, the output too, stderr apart.
	term = newFakeTerm()
	out, errb, done = attached(term, "docker", "run", "-i", "--rm", "busybox", "sh")
	term.typ(t, "echo out; echo err >&2\n")
	term.w.Close()
	assert.NoError(t, wait(done), "docker run -i")
	assert.Equal(t, "out\n", out.String(), "docker run -i: stdout")
	assert.Equal(t, "err\n", errb.String(), "docker run -i: stderr")
}

// TestExecLogs: httpd's logs, as docker logs shows them: Apache's start on
// stderr, a line per request on stdout, -f following until the container
// stops.
func TestExecLogs(t *testing.T) {
	testkit.RequireLab(t)
	lab, err := netkit.NewLab(netkit.LabOptions{Name: "logs"})
	require.NoError(t, err)
	defer lab.Close()
	run := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := Exec(context.Background(), lab, ExecOptions{Dir: t.TempDir(), Stdout: &out, Stderr: &errb}, args)
		return out.String(), errb.String(), err
	}
	_, _, err = run("docker", "run", "-d", "--name", "web", "-p", "801:80", "httpd")
	require.NoError(t, err)
	follow := &testkit.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- Exec(context.Background(), lab, ExecOptions{Stdout: follow, Stderr: io.Discard}, []string{"docker", "logs", "-f", "web"})
	}()
	_, _, err = run("http", "client", "http://192.168.190.128:801/")
	require.NoError(t, err)
	access := `192\.168\.190\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET / HTTP/1\.1" 200 \d+\n`
	waitFor(t, follow, access)
	// The log line is written as the response goes out: poll for it.
	var stdout, stderr string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if stdout, stderr, err = run("docker", "logs", "web"); regexp.MustCompile(access).MatchString(stdout) {
			break
		}
	}
	assert.Regexp(t, "^"+access+"$", stdout, "docker logs: stdout")
	assert.Regexp(t, `^(AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using 172\.17\.0\.2\. Set the 'ServerName' directive globally to suppress this message\n){2}`+
		`\[\w{3} \w{3} \d\d \d\d:\d\d:\d\d\.\d{6} \d{4}\] \[mpm_event:notice\] \[pid 1:tid 1\] AH00489: Apache/2\.4\.62 \(Unix\) configured -- resuming normal operations\n`, stderr, "docker logs: stderr")
	_, _, err = run("docker", "stop", "web")
	require.NoError(t, err)
	select {
	case err := <-done:
		assert.NoError(t, err, "docker logs -f")
	case <-time.After(15 * time.Second):
		t.Fatal("docker logs -f did not end with the container")
	}
}
