package classroom

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/testkit"
)

// TestLiveDockerTerminal: in a lab's shell, docker run -it attaches the
// shell's terminal to a container's shell; ctrl-p ctrl-q detaches and gives
// the terminal back as it was; docker attach attaches again; exit ends the
// container; docker logs has what its terminal showed. Without a terminal,
// -i pipes.
func TestLiveDockerTerminal(t *testing.T) {
	testkit.RequireLab(t)
	name := testLabName(t, "attach")
	mustRun(t, nil, "up", "-name", name)
	defer downIfUp(t, name)

	sh := startTerm(t, "shell", "-lab", name, "host")
	prompt := regexp.QuoteMeta("[" + name + " host]# ")
	sh.expect(prompt, 10*time.Second)
	sh.send("docker run -it --name kept busybox")
	sh.expect(`\n# $`, 15*time.Second)
	sh.send("hostname")
	id := strings.TrimSpace(sh.expect(`\n[0-9a-f]{12}\r\n`, 5*time.Second))
	sh.expect(`^# $`, 5*time.Second)
	if _, err := sh.f.Write([]byte{16, 17}); err != nil {
		t.Fatal(err)
	}
	sh.expect(prompt, 5*time.Second)
	// The terminal is the shell's again: canonical mode, echo.
	sh.send("stty -a | grep -o -w -- '-\\?icanon' ; echo rc=$?")
	sh.expect(`\nicanon\r\nrc=0\r\n`, 5*time.Second)
	sh.expect(prompt, 5*time.Second)
	sh.send("docker ps --format '{{.ID}} {{.Names}} {{.Status}}'")
	sh.expect(id+` kept Up `, 5*time.Second)
	sh.expect(prompt, 5*time.Second)
	sh.send("docker attach kept")
	sh.send("echo again")
	sh.expect(`\nagain\r\n`, 10*time.Second)
	sh.send("exit 7")
	sh.expect(prompt, 10*time.Second)
	sh.send("echo status=$?")
	sh.expect(`\nstatus=7\r\n`, 5*time.Second)
	sh.expect(prompt, 5*time.Second)
	sh.send("docker logs kept | grep -c -e again -e hostname")
	sh.expect(`\n3\r\n`, 5*time.Second) // the echoed commands and again's output
	sh.expect(prompt, 5*time.Second)
	sh.send("exit")
	sh.wait()

	// Without a terminal: the input is piped in, the output out.
	out := mustRun(t, nil, "shell", "-lab", name, "host", "echo 'hostname; echo err >&2' | docker run -i --rm busybox sh 2>/dev/null")
	assert.Regexp(t, `^[0-9a-f]{12}\n$`, out, "docker run -i, piped")
	out, code := run(t, []string{"LABRUN_LAB=" + name}, "docker", "run", "-it", "--rm", "busybox")
	assert.Equal(t, 1, code, "docker run -it without a terminal: status")
	assert.Equal(t, "the input device is not a TTY\n", out, "docker run -it without a terminal")
	mustRun(t, nil, "down", name)
}

// tmuxSession is a tmux server of the test's own (tmux -L), with one
// session running a program in a window of 160x40.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func startTmux(t *testing.T, args ...string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{t: t, socket: fmt.Sprintf("labrun-test-%d", os.Getpid())}
	cmd := append([]string{"new-session", "-d", "-s", "lab", "-x", "160", "-y", "40", "--"}, args...)
	s.tmux(cmd...)
	t.Cleanup(func() { exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// pane is what the session's window shows, its history included.
func (s *tmuxSession) pane() string {
	return s.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "lab")
}

// keys types keys (tmux send-keys: "Enter" is the key).
func (s *tmuxSession) keys(keys ...string) {
	s.tmux(append([]string{"send-keys", "-t", "lab"}, keys...)...)
}

// waitFor polls the pane until re matches it, and returns the match's
// groups; it fails the test after timeout.
func (s *tmuxSession) waitFor(re string, timeout time.Duration) []string {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		p := s.pane()
		if m := rx.FindStringSubmatch(p); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("tmux: no %q in the window after %s; it shows:\n%s", re, timeout, p)
		}
	}
}

// TestLiveTmux is issue 19's check, typed as a person would in tmux: in a
// lab's shell, docker run -it --rm busybox sh gives the container's shell,
// whose hostname is the container's short ID; exit returns to the host's
// prompt, and the container is gone (docker ps -a).
func TestLiveTmux(t *testing.T) {
	testkit.RequireLab(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("skipping: needs tmux (make deps installs it)")
	}
	name := testLabName(t, "tmux")
	mustRun(t, nil, "up", "-name", name)
	defer downIfUp(t, name)
	s := startTmux(t, labrun(t), "shell", "-lab", name, "host")
	prompt := regexp.QuoteMeta("[" + name + " host]# ")
	s.waitFor(`(?m)^`+prompt+`$`, 10*time.Second)
	s.keys("docker run -it --rm busybox sh", "Enter")
	s.waitFor(`(?m)^`+prompt+`docker run -it --rm busybox sh\n# $`, 15*time.Second)
	s.keys("hostname", "Enter")
	id := s.waitFor(`(?m)^# hostname\n([0-9a-f]{12})\n# $`, 10*time.Second)[1]
	ps := mustRun(t, []string{"LABRUN_LAB=" + name}, "docker", "ps", "-q")
	assert.Equal(t, id+"\n", ps, "hostname in the container is its short ID, as docker ps shows it")
	s.keys("exit", "Enter")
	s.waitFor(`(?m)^# exit\n`+prompt+`$`, 10*time.Second)
	s.keys("docker ps -a", "Enter")
	m := s.waitFor(`(?m)^`+prompt+`docker ps -a\n(CONTAINER ID +IMAGE .*\n(?:.*\n)*?)`+prompt+`$`, 10*time.Second)
	assert.Equal(t, 1, strings.Count(m[1], "\n"), "docker ps -a lists no container:\n%s", m[1])
	assert.NotContains(t, m[1], id, "docker ps -a")
	out := mustRun(t, []string{"LABRUN_LAB=" + name}, "docker", "ps", "-aq")
	require.Empty(t, strings.TrimSpace(out), "docker ps -aq from the machine")
	mustRun(t, nil, "down", name)
}
