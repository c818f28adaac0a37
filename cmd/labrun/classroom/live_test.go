package classroom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/labrun/labrun/cmd/labrun/topology"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/testkit"
)

// These tests drive the labrun binary as a person would: labrun up, a
// shell on a pseudo-terminal, labrun down; then they look for anything the
// lab left behind.

var (
	buildOnce sync.Once
	labrunBin string
	buildErr  error
)

// labrun builds the labrun binary once for the package's tests.
func labrun(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "labrun-classroom-test-")
		if err != nil {
			buildErr = err
			return
		}
		labrunBin = filepath.Join(dir, "labrun")
		out, err := exec.Command("go", "build", "-o", labrunBin, "..").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/labrun: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return labrunBin
}

// run runs labrun with args and returns its combined output and exit code.
func run(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(labrun(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = "../../.."
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("labrun %s: %v", strings.Join(args, " "), err)
	}
	return string(out), code
}

// mustRun runs labrun and fails the test unless it exits 0.
func mustRun(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, code := run(t, env, args...)
	if code != 0 {
		t.Fatalf("labrun %s: exit status %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// downIfUp takes the lab name down unless it is gone already: deferred, it
// leaves no lab behind a failed test.
func downIfUp(t *testing.T, name string) {
	if stateOf(name) != labMissing {
		run(t, nil, "down", name)
	}
}

func testLabName(t *testing.T, what string) string {
	return fmt.Sprintf("test-%s-%d", what, os.Getpid())
}

// labNetns lists the network namespace inodes of a live lab's nodes, from
// labrun ls -v.
func labNetns(t *testing.T, name string) []uint64 {
	out := mustRun(t, nil, "ls", "-v")
	var inos []uint64
	in := false
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "lab ") {
			in = strings.HasPrefix(l, "lab "+name+" ")
		}
		if m := regexp.MustCompile(`net:\[(\d+)\]`).FindStringSubmatch(l); in && m != nil {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			inos = append(inos, n)
		}
	}
	if len(inos) < 4 {
		t.Fatalf("labrun ls -v lists %d namespaces for lab %s:\n%s", len(inos), name, out)
	}
	return inos
}

// leftovers lists what of lab name is still there: its directory, its
// keeper, processes that belong to it (by their LABRUN_LAB), mounts under
// its directory, and anything that still holds one of its namespaces (a
// process or thread in it, or a descriptor: testkit.NetnsHolders).
func leftovers(name string, keeper int, inos []uint64) []string {
	var left []string
	if _, err := os.Stat(labDir(name)); err == nil {
		left = append(left, "directory "+labDir(name))
	}
	if keeper > 0 && processAlive(keeper) {
		left = append(left, fmt.Sprintf("keeper process %d", keeper))
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil && bytes.Contains(b, []byte(labDir(name))) {
		left = append(left, "a mount under "+labDir(name))
	}
	want := map[string]bool{}
	for _, ino := range inos {
		want[fmt.Sprintf("net:[%d]", ino)] = true
	}
	self := fmt.Sprintf("/proc/%d/", os.Getpid())
	holders := testkit.NetnsHolders()
	for _, ino := range slices.Sorted(maps.Keys(holders)) {
		for _, path := range holders[ino] {
			switch {
			case !want[ino] || strings.HasPrefix(path, self):
			case strings.Contains(path, "/fd/"):
				left = append(left, fmt.Sprintf("descriptor %s on %s", path, ino))
			default: // a process's or a thread's ns/net
				left = append(left, fmt.Sprintf("process %s in %s", strings.TrimSuffix(path, "/ns/net"), ino))
			}
		}
	}
	for _, p := range testkit.Procs() {
		if p.PID == os.Getpid() || !processAlive(p.PID) {
			continue
		}
		if env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p.PID)); err == nil && bytes.Contains(env, []byte("LABRUN_LAB="+name+"\x00")) {
			left = append(left, fmt.Sprintf("process %d of the lab (LABRUN_LAB)", p.PID))
		}
	}
	return left
}

// waitGone waits until nothing of the lab is left, or reports what is.
func waitGone(t *testing.T, name string, keeper int, inos []uint64) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if left = leftovers(name, keeper, inos); len(left) == 0 {
			return
		}
	}
	t.Errorf("lab %s left behind:\n  %s", name, strings.Join(left, "\n  "))
}

// term is a pseudo-terminal session with a program, read as expect does.
type term struct {
	t    *testing.T
	f    *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int
	done chan struct{}
}

func startTerm(t *testing.T, args ...string) *term {
	t.Helper()
	cmd := exec.Command(labrun(t), args...)
	cmd.Env = append(os.Environ(), "TERM=dumb")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	require.NoError(t, err)
	tm := &term{t: t, f: f, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(tm.done)
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			tm.mu.Lock()
			tm.buf.Write(b[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return tm
}

// expect waits until the output since the last match matches re, and
// returns the match.
func (tm *term) expect(re string, timeout time.Duration) string {
	tm.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for {
		tm.mu.Lock()
		out := tm.buf.String()[tm.seen:]
		loc := rx.FindStringIndex(out)
		if loc != nil {
			tm.seen += loc[1]
		}
		tm.mu.Unlock()
		if loc != nil {
			return out[loc[0]:loc[1]]
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("no %q in the terminal after %s; it shows:\n%s", re, timeout, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tm *term) send(line string) {
	if _, err := io.WriteString(tm.f, line+"\r"); err != nil {
		tm.t.Fatal(err)
	}
}

// wait waits for the program to end and returns its exit status.
func (tm *term) wait() int {
	tm.t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- tm.cmd.Wait() }()
	select {
	case err := <-errc:
		<-tm.done
		tm.f.Close()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return 0
	case <-time.After(15 * time.Second):
		tm.cmd.Process.Kill()
		tm.t.Fatalf("labrun did not end; the terminal shows:\n%s", tm.buf.String())
	}
	return -1
}

// TestLiveLab: labrun up; a scripted labrun shell session on the client,
// through a pseudo-terminal, that starts httpd with docker run -p 801:80
// and fetches its page with curl; labrun down; then nothing is left: no
// keeper, no process, no namespace, no directory, no mount.
func TestLiveLab(t *testing.T) {
	testkit.RequireLab(t)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("skipping: needs curl")
	}
	name := testLabName(t, "live")
	out := mustRun(t, nil, "up", "-name", name)
	require.Contains(t, out, "lab "+name+" is up", "labrun up said")
	keeper := keeperPID(name)
	defer downIfUp(t, name)

	sh := startTerm(t, "shell", "-lab", name, "client")
	prompt := regexp.QuoteMeta("[" + name + " client]# ")
	sh.expect(prompt, 10*time.Second)
	sh.send("hostname")
	sh.expect(`\nclient\r?\n`, 5*time.Second)
	sh.expect(prompt, 5*time.Second)
	sh.send("docker run -d -p 801:80 httpd")
	sh.expect(`\n[0-9a-f]{64}\r?\n`, 15*time.Second)
	sh.expect(prompt, 5*time.Second)
	sh.send("curl -s http://192.168.190.128:801/")
	sh.expect(`It works!`, 10*time.Second)
	sh.expect(prompt, 5*time.Second)
	sh.send("docker ps --format '{{.Image}} {{.Ports}}'")
	sh.expect(`httpd 0\.0\.0\.0:801->80/tcp, :::801->80/tcp`, 5*time.Second)
	sh.expect(prompt, 5*time.Second)
	// The real tools see the node's network.
	sh.send("ip -4 -br addr show eth0")
	sh.expect(`192\.168\.190\.1/24`, 5*time.Second)
	sh.expect(prompt, 5*time.Second)
	// A background job of the shell, which must not outlive it.
	sh.send("sleep 100000 &")
	sh.expect(prompt, 5*time.Second)
	inos := labNetns(t, name)
	// What the checks below must not find any more is there now.
	left := strings.Join(leftovers(name, keeper, inos), "\n")
	for _, want := range []string{"directory ", "keeper process", "of the lab (LABRUN_LAB)", "descriptor "} {
		assert.Contains(t, left, want, "leftovers of the live lab lack")
	}
	sh.send("exit")
	if code := sh.wait(); code != 0 {
		t.Errorf("labrun shell exited with %d; the terminal shows:\n%s", code, sh.buf.String())
	}

	// From the host's side, with the same engine.
	if out := mustRun(t, []string{"LABRUN_LAB=" + name}, "docker", "ps", "-q"); len(strings.Fields(out)) != 1 {
		t.Errorf("docker ps -q from outside the lab: %q", out)
	}
	out = mustRun(t, nil, "shell", "-lab", name, "host", "iptables", "-t", "nat", "-S", "DOCKER")
	assert.Contains(t, out, "--dport 801 -j DNAT --to-destination 172.17.0.2:80", "the host's DOCKER chain")

	// labrun inspect: every node's addresses, the container's image,
	// state and ports, as a table and as JSON.
	out = mustRun(t, nil, "inspect", name)
	assert.Regexp(t, `(?m)^client +world +running +- +eth0 +[0-9a-f:]{17} +192\.168\.190\.1/24 2001:db8:190::1/64 +-$`, out)
	assert.Regexp(t, `(?m)^[a-z]+_[a-z]+ +container +running +httpd +eth0 +02:42:ac:11:00:02 +172\.17\.0\.2/16 +0\.0\.0\.0:801->80/tcp, \[::\]:801->80/tcp$`, out)
	var in topology.LabInspect
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, nil, "inspect", "-format", "json", name)), &in))
	addrs := map[string][]string{}
	for _, n := range in.Nodes {
		for _, f := range n.Ifaces {
			addrs[n.Name] = append(addrs[n.Name], f.Addrs...)
		}
	}
	for node, want := range map[string]string{"client": "192.168.190.1/24", "host": "192.168.190.128/24", "gateway": "203.0.113.1/24", "internet": "2001:db8:113::10/64"} {
		assert.Contains(t, addrs[node], want, "labrun inspect -format json: %s's addresses", node)
	}

	// labrun reach: the pingall of the live lab.
	out = mustRun(t, nil, "reach", name)
	assert.Regexp(t, `(?m)^FROM \\ TO +client +gateway +host +internet +[a-z]+_[a-z]+$`, out)
	assert.Regexp(t, `(?m)^client +- +ok +ok +ok +no$`, out)

	// labrun trace: the walk of the client's connection to the
	// published port; labrun diagram -trace draws it.
	out = mustRun(t, nil, "trace", "-lab", name, "-reply", "client", "192.168.190.128:801")
	assert.Contains(t, out, "host: DNAT 192.168.190.128:801 -> 172.17.0.2:80\n")
	assert.Contains(t, out, "host: SNAT 172.17.0.2:80 -> 192.168.190.128:801 (conntrack)\n")
	assert.Regexp(t, `(?m)^delivered to [a-z]+_[a-z]+ \(172\.17\.0\.2:80, httpd listening\)$`, out)
	out = mustRun(t, nil, "diagram", "-lab", name, "-trace", "client 192.168.190.128:801")
	assert.Contains(t, out, `  n_client -->|"1: eth0"| n_host`)
	assert.Regexp(t, `n_host -->\|"2: veth[0-9a-f]+; DNAT 192\.168\.190\.128:801 -> 172\.17\.0\.2:80"\| n_[a-z]+_[a-z]+`, out)

	out = mustRun(t, nil, "down", name)
	assert.Contains(t, out, "lab "+name+" is down", "labrun down said")
	waitGone(t, name, keeper, inos)
}

// TestLiveLabKilled: a keeper killed with SIGKILL takes its lab with it
// (namespaces, containers, shells and their background jobs); labrun ls
// then reports it and removes its directory.
func TestLiveLabKilled(t *testing.T) {
	testkit.RequireLab(t)
	name := testLabName(t, "killed")
	mustRun(t, nil, "up", "-name", name)
	keeper := keeperPID(name)
	defer downIfUp(t, name)
	mustRun(t, []string{"LABRUN_LAB=" + name}, "docker", "run", "-d", "--name", "web", "-p", "801:80", "httpd")
	sh := startTerm(t, "shell", "-lab", name, "host")
	prompt := regexp.QuoteMeta("[" + name + " host]# ")
	sh.expect(prompt, 10*time.Second)
	sh.send("sleep 100000 &")
	sh.expect(prompt, 5*time.Second)
	inos := labNetns(t, name)
	if len(inos) != 5 {
		t.Errorf("%d namespaces, want 5 (4 nodes and web)", len(inos))
	}
	require.NoError(t, syscall.Kill(keeper, syscall.SIGKILL))
	// The shell goes with its keeper.
	sh.wait()
	for deadline := time.Now().Add(10 * time.Second); processAlive(keeper) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	out, _ := run(t, nil, "ls")
	assert.Contains(t, out, "lab "+name+": its keeper died", "labrun ls did not report the dead lab")
	waitGone(t, name, keeper, inos)
}

// TestLiveExercise: labrun exercise start, check (failing, with hints),
// the student's docker command from outside the shells, check (passing),
// a diagram of the live lab, down.
func TestLiveExercise(t *testing.T) {
	testkit.RequireLab(t)
	name := testLabName(t, "exercise")
	out := mustRun(t, nil, "exercise", "start", "-name", name, "exercises/publish_host_port.txt")
	if !strings.Contains(out, "Task (publish_host_port") || !strings.Contains(out, "-p hostPort:containerPort") {
		t.Errorf("exercise start said:\n%s", out)
	}
	defer downIfUp(t, name)
	env := []string{"LABRUN_LAB=" + name}
	out, code := run(t, env, "exercise", "check")
	if code != 1 || !strings.Contains(out, "FAIL  A running container named web runs the web-ssh image.") ||
		!strings.Contains(out, "hint: Start it with docker run -d --name web") || !strings.Contains(out, "0 of 4 checks pass") {
		t.Errorf("exercise check on the fresh lab: exit %d\n%s", code, out)
	}
	mustRun(t, env, "docker", "run", "-d", "--name", "web", "-p", "801:80", "web-ssh")
	out, code = run(t, env, "exercise", "check")
	if code != 1 || !strings.Contains(out, "PASS  The client reaches the web page") || !strings.Contains(out, "connection refused") {
		t.Errorf("exercise check, half done: exit %d\n%s", code, out)
	}
	mustRun(t, env, "docker", "rm", "-f", "web")
	mustRun(t, env, "docker", "run", "-d", "--name", "web", "-p", "10111:22", "-p", "801:80", "web-ssh")
	out = mustRun(t, env, "exercise", "check")
	assert.Contains(t, out, "4 of 4 checks pass", "exercise check, solved")
	out = mustRun(t, env, "diagram")
	assert.Contains(t, out, `n_host ==>|"DNAT 0.0.0.0:801->80/tcp, 0.0.0.0:10111->22/tcp"| n_web`, "labrun diagram of the live lab")
	assert.Contains(t, out, `n_host__docker0[["bridge (docker0)<br/>172.17.0.1/16<br/>MASQUERADE 172.17.0.0/16 on the way out"]]`, "the network named, its masquerade marked")
	svg := filepath.Join(t.TempDir(), "lab.svg")
	mustRun(t, env, "diagram", "-o", svg)
	if b, err := os.ReadFile(svg); err != nil || !bytes.Contains(b, []byte("container web")) {
		t.Errorf("labrun diagram -o lab.svg: %v", err)
	}
	mustRun(t, nil, "down", name)
}

// TestLiveLabNetns: labrun up -netns names the lab's nodes under
// /run/netns, `ip netns exec` works on them, and they go with the lab: at
// labrun down, and after the keeper was killed, at the next labrun ls.
func TestLiveLabNetns(t *testing.T) {
	testkit.RequireLab(t)
	testkit.RequireBinary(t, "ip")
	for _, kill := range []bool{false, true} {
		name := testLabName(t, "netns")
		mustRun(t, nil, "up", "-netns", "-name", name)
		keeper := keeperPID(name)
		defer downIfUp(t, name)
		out, err := exec.Command("ip", "netns", "exec", name+"-host", "ip", "-4", "-br", "addr", "show", "eth0").CombinedOutput()
		require.NoError(t, err, "ip netns exec %s-host: %s", name, out)
		assert.Contains(t, string(out), "192.168.190.128/24")
		if kill {
			require.NoError(t, syscall.Kill(keeper, syscall.SIGKILL))
			for deadline := time.Now().Add(10 * time.Second); processAlive(keeper) && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			run(t, nil, "ls")
		} else {
			mustRun(t, nil, "down", name)
		}
		left, _ := filepath.Glob("/run/netns/" + name + "-*")
		assert.Empty(t, left, "named namespaces left (keeper killed: %v)", kill)
	}
}

// TestLiveLabWorld: labrun up -world builds a live lab from a world file;
// its shells drive each Docker host's engine (the node's own by default,
// another with -H or DOCKER_HOST); labrun diagram draws both engines and
// the world's LAN. A scenario whose first command picks a world brings it
// up on its own; a bad world file is refused before anything is built.
func TestLiveLabWorld(t *testing.T) {
	testkit.RequireLab(t)
	name := testLabName(t, "world")
	out := mustRun(t, nil, "up", "-name", name, "-world", "two-hosts")
	require.Contains(t, out, "nodes: host1, host2", "labrun up said")
	defer downIfUp(t, name)
	mustRun(t, nil, "shell", "-lab", name, "host2", "docker", "run", "-d", "--name", "web2", "httpd")
	mustRun(t, nil, "shell", "-lab", name, "host2", "sh", "-c", "DOCKER_HOST=host1 docker run -d --name web1 httpd")
	assert.Equal(t, "web2\n", mustRun(t, nil, "shell", "-lab", name, "host1", "docker", "-H", "host2", "ps", "--format", "{{.Names}}"))
	assert.Equal(t, "web1\n", mustRun(t, nil, "shell", "-lab", name, "host1", "docker", "ps", "--format", "{{.Names}}"))
	out = mustRun(t, nil, "shell", "-lab", name, "host2", "ip", "-4", "-br", "addr", "show", "docker0")
	assert.Contains(t, out, "172.18.0.1/16", "host2's docker0, from the world's dockerd flags")
	out = mustRun(t, nil, "diagram", "-lab", name)
	for _, want := range []string{`network bridge (docker0) 172.17.0.0/16 on host1`, `network bridge (docker0) 172.18.0.0/16 on host2`,
		`n_host1__eth0 ---|veth| n_switch__p_host1`, `n_switch__p_host2 -.- n_switch__lan`} {
		assert.Contains(t, out, want, "labrun diagram")
	}
	mustRun(t, nil, "down", name)

	out = mustRun(t, nil, "up", "-name", name, "scenarios/line-50.txt")
	assert.Contains(t, out, "nodes: r1, r10, r11", "labrun up of a scenario whose world is line-50")
	mustRun(t, nil, "down", name)
	out = mustRun(t, nil, "diagram", "scenarios/two-hosts-vxlan.txt")
	assert.Contains(t, out, `network stretched (br-`, "labrun diagram of a scenario whose world is two-hosts")
	assert.Contains(t, out, `n_host2__vxlan42`, "labrun diagram of a scenario whose world is two-hosts")

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("nodes:\n  a:\n    rooter: true\n"), 0o644))
	out, code := run(t, nil, "up", "-name", name, "-world", bad)
	assert.Equal(t, 2, code, "labrun up -world with a bad file:\n%s", out)
	assert.Contains(t, out, bad+`:3: nodes.a.rooter: unknown field "rooter"`)
	assert.Equal(t, labMissing, stateOf(name), "the lab after a bad world file")
}
