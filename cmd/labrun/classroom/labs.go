package classroom

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labrun/labrun/netkit/proc"
	"github.com/labrun/labrun/netkit/userns"
)

// RunDir holds one directory per live lab:
//
//	/run/labrun/LAB/
//	  sock          the keeper's control socket
//	  keeper.pid    the keeper's PID, written by labrun up
//	  lab.json      LabInfo, written once the lab is up
//	  keeper.log    the keeper's stdout and stderr
//	  bin/          docker, dockerd and labrun for the lab's shells
//	  bashrc        the shells' start-up file (prompt, PATH)
//	  history-NODE  the shells' command history, per node
//	  work/         the shells' directory: the lab's files, the student's
//
// Nothing else of a lab is on disk: its namespaces are held by the keeper's
// descriptors and its processes die with the keeper. A lab's directory is
// its maker's alone (mode 0700).
//
// RunDir is /run/labrun for root. For an ordinary user (labrun in a user
// namespace of its own, netkit/userns) it is $XDG_RUNTIME_DIR/labrun, or
// /tmp/labrun-UID where there is no such directory: each user's labs apart.
var RunDir = runDir()

// runDirMode is RunDir's mode: /run/labrun is root's, an ordinary user's
// directory is theirs alone.
func runDirMode() os.FileMode {
	if _, rootless := userns.Rootless(); rootless {
		return 0o700
	}
	return 0o755
}

func runDir() string {
	uid, rootless := userns.Rootless()
	switch {
	case !rootless:
		return "/run/labrun"
	case os.Getenv("XDG_RUNTIME_DIR") != "":
		return filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "labrun")
	}
	return filepath.Join(os.TempDir(), "labrun-"+strconv.Itoa(uid))
}

func labDir(name string) string     { return filepath.Join(RunDir, name) }
func socketPath(name string) string { return filepath.Join(labDir(name), "sock") }
func workDir(name string) string    { return filepath.Join(labDir(name), "work") }
func infoPath(name string) string   { return filepath.Join(labDir(name), "lab.json") }
func logPath(name string) string    { return filepath.Join(labDir(name), "keeper.log") }

// LabInfo describes a live lab.
type LabInfo struct {
	Name string `json:"name"`
	// PID is the keeper's process ID.
	PID int `json:"pid"`
	// File is the scenario or exercise the lab was built from ("" for the
	// bare classroom world).
	File string `json:"file,omitempty"`
	// Exercise is the exercise's name, when File is one.
	Exercise string `json:"exercise,omitempty"`
	// Task is the exercise's task text.
	Task    string    `json:"task,omitempty"`
	Started time.Time `json:"started"`
	// Work is the shells' directory.
	Work string `json:"work"`
	// Nodes are the lab's nodes now: the world's and the running
	// containers', with their network namespaces.
	Nodes []NodeInfo `json:"nodes,omitempty"`
}

// NodeInfo is one node of a live lab.
type NodeInfo struct {
	Name string `json:"name"`
	// Kind is "world" (host, client, gateway, internet) or "container".
	Kind string `json:"kind"`
	// NetNS is the inode of the node's network namespace: nodes that
	// share a namespace (host mode, container: mode) have the same.
	NetNS uint64 `json:"netns"`
}

var labName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$`)

// checkName validates a lab name: it is a directory name and a prompt.
func checkName(name string) error {
	if !labName.MatchString(name) {
		return fmt.Errorf("bad lab name %q: use up to 40 letters, digits, '.', '_' or '-'", name)
	}
	return nil
}

// defaultName derives a lab name from a file: its base name without
// extension, or "lab".
func defaultName(file string) string {
	if file == "" {
		return "lab"
	}
	n := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), ".txt"), ".txtar")
	n = regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(n, "_")
	n = strings.TrimLeft(n, "._-")
	if len(n) > 40 {
		n = n[:40]
	}
	if n == "" {
		return "lab"
	}
	return n
}

// labState says whether a lab directory has a keeper behind it.
type labState int

const (
	labMissing  labState = iota // no directory
	labAlive                    // the keeper answers on its socket
	labDead                     // a directory whose keeper is gone
	labStarting                 // a directory whose keeper is starting
)

// stateOf looks at lab name: alive when its socket accepts a connection;
// starting while its keeper runs but does not listen yet; dead otherwise.
func stateOf(name string) labState {
	if _, err := os.Stat(labDir(name)); err != nil {
		return labMissing
	}
	if c, err := net.DialTimeout("unix", socketPath(name), time.Second); err == nil {
		c.Close()
		return labAlive
	}
	if pid := keeperPID(name); pid > 0 && isKeeper(pid) {
		return labStarting
	}
	return labDead
}

// isKeeper reports whether pid is alive and a keeper (not a process that
// reused a dead keeper's PID).
func isKeeper(pid int) bool {
	if !processAlive(pid) {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && strings.Contains(string(b), "\x00"+KeeperCmd+"\x00")
}

// keeperPID reads the keeper's PID from keeper.pid (written by up when it
// starts the keeper).
func keeperPID(name string) int {
	b, err := os.ReadFile(filepath.Join(labDir(name), "keeper.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// processAlive reports whether pid exists and has not exited (a zombie
// counts as gone).
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return proc.Alive(pid)
}

// labNames lists the directories under RunDir, sorted.
func labNames() []string {
	ents, err := os.ReadDir(RunDir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && labName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// removeStale removes the directory of a lab whose keeper died. The keeper's
// death took the lab itself (namespaces, processes) with it; only its files
// remain.
func removeStale(name string) error {
	if stateOf(name) != labDead {
		return nil
	}
	unpinAll(labDir(name))
	return os.RemoveAll(labDir(name))
}

// liveLabs lists the labs whose keeper answers, removing the directories of
// dead ones and reporting them in dead.
func liveLabs() (live, dead []string) {
	for _, n := range labNames() {
		switch stateOf(n) {
		case labAlive:
			live = append(live, n)
		case labDead:
			if removeStale(n) == nil {
				dead = append(dead, n)
			}
		}
	}
	return live, dead
}

// resolveLab picks the lab a command works on: name if given, else
// $LABRUN_LAB (set in a lab's shells), else the only live lab.
func resolveLab(name string) (string, error) {
	if name == "" {
		name = os.Getenv("LABRUN_LAB")
	}
	if name != "" {
		if err := checkName(name); err != nil {
			return "", err
		}
		switch stateOf(name) {
		case labAlive:
			return name, nil
		case labDead:
			removeStale(name)
			return "", fmt.Errorf("lab %q is gone: its keeper died (its directory is now removed)", name)
		case labStarting:
			return "", fmt.Errorf("lab %q is still starting", name)
		}
		return "", fmt.Errorf("no live lab %q of yours (labrun ls lists them; a lab is its maker's alone)", name)
	}
	live, _ := liveLabs()
	switch len(live) {
	case 0:
		return "", errors.New("no live lab: start one with labrun up [FILE]")
	case 1:
		return live[0], nil
	}
	return "", fmt.Errorf("several live labs (%s): name one with -lab NAME", strings.Join(live, ", "))
}

// readInfo reads a lab's lab.json.
func readInfo(name string) (LabInfo, error) {
	var li LabInfo
	b, err := os.ReadFile(infoPath(name))
	if err != nil {
		return li, err
	}
	err = json.Unmarshal(b, &li)
	return li, err
}
