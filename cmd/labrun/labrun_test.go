package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
)

// These tests run the labrun binary itself, built into the test's temporary
// directory, as a person runs it: killed half-way, and several labs at once.

// containers is how many containers the killed scenario builds.
const containers = 50

// binaries builds labrun and rootguard into a temporary directory, or skips
// the test on a machine that cannot make labs.
func binaries(t *testing.T) (labrun, rootguard string) {
	t.Helper()
	testkit.RequireNetAdmin(t)
	testkit.RequireBinary(t, "iptables")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	dir := t.TempDir()
	labrun, rootguard = filepath.Join(dir, "labrun"), filepath.Join(dir, "rootguard")
	for bin, pkg := range map[string]string{labrun: ".", rootguard: "../rootguard"} {
		cmd := exec.Command(goBin, "build", "-o", bin, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return labrun, rootguard
}

// rootSnapshot records the root namespace's state with rootguard, and
// returns the snapshot's path for rootCompare.
func rootSnapshot(t *testing.T, rootguard string) string {
	t.Helper()
	snap := filepath.Join(t.TempDir(), "root.snapshot")
	out, err := exec.Command(rootguard, "snapshot", snap).CombinedOutput()
	require.NoError(t, err, "rootguard snapshot:\n%s", out)
	return snap
}

// rootCompare reports any change of the root namespace since rootSnapshot
// (leaving out a real Docker Engine's own).
func rootCompare(t *testing.T, rootguard, snap string) {
	t.Helper()
	// A scenario run names no namespace; the classroom's tests (labrun up
	// -netns, in another package that go test runs beside this one) name
	// theirs test-*, and remove them: make test's own compare after the
	// whole suite would see one left.
	out, err := exec.Command(rootguard, "compare", "-ignore-docker", "-ignore-netns", "test-*", snap).CombinedOutput()
	assert.NoError(t, err, "rootguard compare:\n%s", out)
}

// fiftyScenario writes a scenario that starts 50 containers, each with a
// published port, then checks each port from the client (reach, then a page
// through the proxy), and ends with a check that runs a program in the lab
// until it is killed.
func fiftyScenario(t *testing.T) string {
	var b strings.Builder
	b.WriteString("# Set-up: 50 web servers, each published on a port of its own.\n")
	for i := 1; i <= containers; i++ {
		fmt.Fprintf(&b, "docker run -d --name web%d -p %d:80 httpd\n", i, 20000+i)
	}
	b.WriteString("\n# Checks: every published port answers through the host's address.\n")
	for i := 1; i <= containers; i++ {
		fmt.Fprintf(&b, "reach client 192.168.190.128:%d\n", 20000+i)
	}
	for i := 1; i <= containers; i++ {
		fmt.Fprintf(&b, "http client http://192.168.190.128:%d/\nstdout 'It works!'\n", 20000+i)
	}
	b.WriteString("\n# A long check: a program in the client, until the run is killed.\non client sleep 120\n")
	path := filepath.Join(t.TempDir(), "fifty.txt")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// killPoint is a moment to stop labrun at, seen from outside: ready
// reports it from what labrun's children are.
type killPoint struct {
	name  string
	ready func(w *watch) bool
}

var killPoints = []killPoint{
	{"set-up, first container", func(w *watch) bool { return w.inits >= 1 }},
	{"set-up, half the containers", func(w *watch) bool { return w.inits >= containers/2 }},
	{"checks, all containers up", func(w *watch) bool { return w.inits >= containers }},
	{"checks, a program running in the lab", func(w *watch) bool { return w.sleeping }},
}

// TestKilledRuns starts labrun on the 50-container scenario and stops it,
// with SIGKILL at each kill point, and with SIGINT and SIGTERM during set-up
// and during checks. The moment comes from labrun's children (how many
// container processes, re-executions of the labrun binary, it has; whether
// the check's program runs), never from a fixed sleep. Afterwards nothing of
// the lab is left anywhere on the machine: no process, no namespace (so none
// of its interfaces and rules), and the root namespace is as it was
// (rootguard). SIGINT and SIGTERM must end labrun promptly, with a message
// and status 128+signal.
func TestKilledRuns(t *testing.T) {
	labrun, rootguard := binaries(t)
	scenario := fiftyScenario(t)
	type run struct {
		sig   syscall.Signal
		point killPoint
	}
	var runs []run
	for _, p := range killPoints {
		runs = append(runs, run{syscall.SIGKILL, p})
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		runs = append(runs, run{sig, killPoints[1]}, run{sig, killPoints[3]})
	}
	for _, r := range runs {
		t.Run(fmt.Sprintf("%s/%s", signalName(r.sig), r.point.name), func(t *testing.T) {
			killRun(t, labrun, rootguard, scenario, r.sig, r.point)
		})
	}
}

func killRun(t *testing.T, labrun, rootguard, scenario string, sig syscall.Signal, point killPoint) {
	snap := rootSnapshot(t, rootguard)
	nsBefore := allNetns()

	var stdout, stderr bytes.Buffer
	tmp := t.TempDir() // labrun's TMPDIR: its work directories
	cmd := exec.Command(labrun, "-v", scenario)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	w := &watch{labrun: cmd.Process.Pid, exe: labrun, seen: map[procID]bool{}, ns: map[string]bool{}, cookies: map[uint64]string{}}

	// Wait for the kill point, watching labrun's children.
	deadline := time.Now().Add(2 * time.Minute)
	for !point.ready(w) {
		select {
		case err := <-exited:
			t.Fatalf("labrun ended (%v) before the kill point %q:\n%s%s", err, point.name, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no kill point %q after 2 minutes (%d container processes)", point.name, w.inits)
		}
		w.look()
		time.Sleep(2 * time.Millisecond)
	}
	w.look()
	// The check that follows the kill must see the lab while it runs.
	var procsSeen, nsSeen int
	for _, l := range w.leftovers() {
		switch {
		case strings.HasPrefix(l, "process "):
			procsSeen++
		case strings.HasPrefix(l, "namespace "):
			nsSeen++
		}
	}
	if procsSeen == 0 || nsSeen == 0 {
		t.Errorf("the leftover check sees %d processes and %d namespaces of the running lab", procsSeen, nsSeen)
	}
	sent := time.Now()
	require.NoError(t, cmd.Process.Signal(sig), "sending %s", signalName(sig))
	var err error
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("labrun still running 30s after %s", signalName(sig))
	}
	took := time.Since(sent)
	t.Logf("%s at %q: %d container processes, %d lab namespaces seen (%d cookies); labrun exited after %v (%v)",
		signalName(sig), point.name, w.inits, len(w.ns), len(w.cookies), took.Round(time.Millisecond), err)

	status := -1
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	}
	switch sig {
	case syscall.SIGKILL:
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("labrun did not die of SIGKILL: %v", err)
		}
	default:
		want := fmt.Sprintf("labrun: interrupted (%s); labs removed\n", signalName(sig))
		if !strings.HasSuffix(stderr.String(), want) {
			t.Errorf("labrun's stderr after %s:\n%s\nwant it to end with %q", signalName(sig), stderr.String(), want)
		}
		if status != 128+int(sig) {
			t.Errorf("labrun's exit status after %s: %d (%v), want %d", signalName(sig), status, err, 128+int(sig))
		}
		if took > 10*time.Second {
			t.Errorf("labrun took %v to exit after %s, want under 10s", took, signalName(sig))
		}
	}

	// Nothing of the lab is left: wait for the kernel to reap the lab's
	// processes and free its namespaces, with a deadline.
	var left []string
	for end := time.Now().Add(time.Minute); ; {
		left = w.leftovers()
		if len(left) == 0 || time.Now().After(end) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("the killed lab left:\n%s", strings.Join(left, "\n"))
	} else {
		t.Logf("nothing of the lab left %v after the signal", time.Since(sent).Round(time.Millisecond))
	}
	rootCompare(t, rootguard, snap)
	// Files: an interrupted labrun removes its work directories; a killed
	// one cannot (they are plain files in TMPDIR, no part of a lab).
	if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
		if sig == syscall.SIGKILL {
			t.Logf("left in TMPDIR, as any killed program leaves its temporary files: %s", ents[0].Name())
		} else {
			t.Errorf("labrun left its work directory %s in TMPDIR after %s", ents[0].Name(), signalName(sig))
		}
	}
	// Namespaces that exist now and did not before belong to something
	// else running on the machine (never to this lab: see leftovers).
	var others int
	for ino := range allNetns() {
		if !nsBefore[ino] {
			others++
		}
	}
	if others > 0 {
		t.Logf("%d network namespaces appeared meanwhile, none of them the lab's (other programs on this machine)", others)
	}
}

// procID names a process for good: PID and start time (PIDs are reused).
type procID struct {
	pid   int
	start uint64
}

// watch follows a running labrun from outside: its children, and the
// network namespaces it and they hold.
type watch struct {
	labrun int
	exe    string

	seen     map[procID]bool   // every child of labrun seen
	ns       map[string]bool   // "net:[N]" of every lab namespace seen
	cookies  map[uint64]string // the lab namespaces' cookies (see netnsCookie)
	inits    int               // containers' main processes (the labrun binary, named httpd)
	sleeping bool              // the scenario's sleep runs
}

// look records labrun's children and namespaces now.
func (w *watch) look() {
	w.inits, w.sleeping = 0, false
	root, _ := os.Readlink("/proc/self/ns/net")
	record := func(path string) {
		l, err := os.Readlink(path)
		if err != nil || !strings.HasPrefix(l, "net:") || l == root || w.ns[l] {
			return
		}
		w.ns[l] = true
		if c, err := netnsCookie(path); err == nil {
			w.cookies[c] = l
		}
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", w.labrun)); err == nil {
		for _, fd := range fds {
			record(fmt.Sprintf("/proc/%d/fd/%s", w.labrun, fd.Name()))
		}
	}
	for _, p := range testkit.Children(w.labrun) {
		w.seen[procID{p.PID, p.StartTime}] = true
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID))
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p.PID))
		switch {
		case exe == w.exe && strings.TrimSpace(string(comm)) == "httpd":
			// A container's main process: the labrun binary, named after
			// the image's program (other re-executions, such as labrun's
			// checks of the machine, are not).
			w.inits++
		case filepath.Base(exe) == "sleep":
			w.sleeping = true
		}
		record(fmt.Sprintf("/proc/%d/ns/net", p.PID))
	}
}

// leftovers lists what is left of the lab: its processes (children seen,
// or anything running the labrun binary) and its namespaces, held by any
// process, thread, descriptor or mount on the machine.
func (w *watch) leftovers() []string {
	var left []string
	for _, p := range testkit.Procs() {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID))
		if w.seen[procID{p.PID, p.StartTime}] || p.PID == w.labrun || strings.TrimSuffix(exe, " (deleted)") == w.exe {
			left = append(left, fmt.Sprintf("process %d (%s, parent %d)", p.PID, exe, p.PPID))
		}
	}
	// A namespace number the kernel frees is soon handed out again (the
	// lowest free one goes first), to whatever else on the machine makes a
	// namespace: the lab's is the one with the lab's cookie.
	holders := testkit.NetnsHolders()
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) > 4 && strings.HasPrefix(f[3], "net:[") {
				holders[f[3]] = append(holders[f[3]], f[4])
			}
		}
	}
	for ino, paths := range holders {
		if !w.ns[ino] {
			continue
		}
		for _, path := range paths {
			c, err := netnsCookie(path)
			if err != nil {
				continue // gone meanwhile
			}
			if _, ours := w.cookies[c]; ours || len(w.cookies) == 0 {
				left = append(left, fmt.Sprintf("namespace %s, held by %s", ino, strings.Join(paths, ", ")))
				break
			}
		}
	}
	return left
}

// soNetnsCookie is SO_NETNS_COOKIE (Linux 5.14), missing from x/sys/unix.
const soNetnsCookie = 71

// netnsCookie returns the cookie of the network namespace at path: a
// number the kernel gives each namespace and never gives again (unlike its
// inode number). It is read from a socket made inside the namespace, which
// sends nothing and is closed at once.
func netnsCookie(path string) (uint64, error) {
	ns, err := netns.Open(path)
	if err != nil {
		return 0, err
	}
	defer ns.Close()
	var cookie uint64
	err = ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		var buf [8]byte
		n := uint32(len(buf))
		if _, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, soNetnsCookie,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0); errno != 0 {
			return errno
		}
		cookie = binary.NativeEndian.Uint64(buf[:])
		return nil
	})
	return cookie, err
}

// allNetns is the set of network namespaces referred to now.
func allNetns() map[string]bool {
	set := map[string]bool{}
	for ino := range testkit.NetnsHolders() {
		set[ino] = true
	}
	return set
}

// TestParallelLabs runs eight copies of the same scenario at once: the same
// addresses, the same published ports, each in a lab of its own.
func TestParallelLabs(t *testing.T) {
	labrun, rootguard := binaries(t)
	src, err := os.ReadFile("../../scenarios/publish-ports.txt")
	require.NoError(t, err)
	dir := t.TempDir()
	for i := 1; i <= 8; i++ {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("publish-ports-%d.txt", i)), src, 0o644))
	}
	snap := rootSnapshot(t, rootguard)
	start := time.Now()
	tmp := t.TempDir()
	cmd := exec.Command(labrun, "-j", "8", dir)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	t.Logf("labrun -j 8 (8 copies of publish-ports.txt): %v, %v", time.Since(start).Round(time.Millisecond), err)
	if err != nil || !strings.HasSuffix(string(out), "8 passed, 0 failed\n") {
		t.Errorf("labrun -j 8 %s: %v\n%s", dir, err, out)
	}
	rootCompare(t, rootguard, snap)
	if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
		t.Errorf("labrun left %s in TMPDIR", ents[0].Name())
	}
}
