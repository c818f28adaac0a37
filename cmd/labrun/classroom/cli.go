package classroom

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/labrun/labrun/netkit/prereq"
	"github.com/labrun/labrun/netkit/userns"
	"github.com/labrun/labrun/runner"
)

// flagSet makes a subcommand's flag set with labrun's conventions: errors
// on stderr, exit status 2 for bad usage.
func flagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: labrun %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// labFlag defines -lab, the live lab that what (its usage) names.
func labFlag(fs *flag.FlagSet, what string) *string {
	return fs.String("lab", "", what+" (default $LABRUN_LAB, or the only live lab)")
}

// parse parses args; it returns the exit status to return at once (0 for
// -h, 2 for bad usage) and ok false when parsing stopped.
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

// errCannotBuildLabs is prereq.Err as labrun says it: why this machine
// cannot build labs, one reason an indented line; nil when it can.
func errCannotBuildLabs() error {
	if err := prereq.Err(); err != nil {
		return fmt.Errorf("this machine cannot build labs:\n%s", indent(err.Error(), "  "))
	}
	return nil
}

// CannotBuildLabs prints "labrun: this machine cannot build labs:" and the
// reasons to stderr, and reports true, when this machine cannot build labs
// (prereq.Err); the caller then exits with status 1.
func CannotBuildLabs(stderr io.Writer) bool {
	if err := errCannotBuildLabs(); err != nil {
		fmt.Fprintf(stderr, "labrun: %v\n", err)
		return true
	}
	return false
}

// parseArgs is parse, then a check that at least least and at most most
// arguments (any number when most < 0) follow the flags: with fewer or
// more, it prints the usage and returns 2.
func parseArgs(fs *flag.FlagSet, args []string, least, most int) (int, bool) {
	if code, ok := parse(fs, args); !ok {
		return code, false
	}
	if fs.NArg() < least || most >= 0 && fs.NArg() > most {
		fs.Usage()
		return 2, false
	}
	return 0, true
}

// UpMain runs `labrun up [-name LAB] [-keep] [-netns] [FILE]` (args after "up") and
// returns its exit status, as every XxxMain of the package does: 0, 1 when
// it failed, 2 for bad usage.
func UpMain(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("up", "up [-name LAB] [-keep] [-netns] [-world FILE|NAME] [FILE]\n\nBuild a lab (its world, plus what FILE sets up) and keep it running in the\nbackground until labrun down. FILE is a scenario (its whole script runs) or an exercise\n(its set-up runs, and its task is printed). The world is -world's (a world file, or\nthe name of one labrun ships: labrun world ls), else the one FILE picks (its first\ncommand, world, or its world.yaml section), else the classroom.", stderr)
	name := fs.String("name", "", "the lab's `name` (default: FILE's name without .txt, or \"lab\")")
	keep := fs.Bool("keep", false, "keep the lab up when FILE's script fails, as it stopped (the exit status is still 1)")
	named := fs.Bool("netns", false, "name the lab's nodes under /run/netns as LAB-NODE while it is up, for `ip netns exec LAB-host ...`")
	worldRef := fs.String("world", "", "the lab's world: a world `FILE` (docs/worlds.md) or the NAME of one labrun ships")
	if code, ok := parseArgs(fs, args, 0, 1); !ok {
		return code
	}
	if *worldRef != "" {
		w, err := runner.LoadWorld(*worldRef)
		if err != nil {
			fmt.Fprintf(stderr, "labrun up: %v\n", err)
			return 2
		}
		if w.File != "worlds/"+*worldRef+".yaml" {
			abs, err := filepath.Abs(*worldRef)
			if err != nil {
				fmt.Fprintf(stderr, "labrun up: %v\n", err)
				return 2
			}
			*worldRef = abs
		}
	}
	return up(fs.Arg(0), *name, upOptions{keep: *keep, netns: *named, world: *worldRef}, stdout, stderr)
}

// upOptions are labrun up's: -keep, -netns, -world, and whether FILE must
// be an exercise (labrun exercise start).
type upOptions struct {
	keep, netns, mustBeExercise bool
	world                       string
}

// up starts a keeper for a lab built from file and waits until the lab is
// up. With mustBeExercise, file must be an exercise.
func up(file, name string, o upOptions, stdout, stderr io.Writer) int {
	mustBeExercise := o.mustBeExercise
	if _, rootless := userns.Rootless(); rootless && (o.keep || o.netns) {
		fmt.Fprintf(stderr, "labrun up: -keep and -netns %v (names under %s); run it as root\n", userns.ErrNeedsRoot, PinDir)
		return 2
	}
	if node := os.Getenv("LABRUN_NODE"); node != "" {
		// The keeper would start inside the node, and end with the shell.
		fmt.Fprintf(stderr, "labrun up: this is a shell of lab %s (node %s): start labs from the machine's own shell\n", os.Getenv("LABRUN_LAB"), node)
		return 2
	}
	if file != "" {
		abs, err := filepath.Abs(file)
		if err != nil {
			fmt.Fprintf(stderr, "labrun up: %v\n", err)
			return 2
		}
		_, err = ParseExercise(abs)
		switch {
		case err == nil:
		case errors.Is(err, errNotExercise) && !mustBeExercise:
			if _, err := os.Stat(abs); err != nil {
				fmt.Fprintf(stderr, "labrun up: %v\n", err)
				return 2
			}
		default:
			fmt.Fprintf(stderr, "labrun: %v\n", err)
			return 2
		}
		file = abs
	}
	if name == "" {
		name = defaultName(file)
	}
	if err := checkName(name); err != nil {
		fmt.Fprintf(stderr, "labrun up: %v\n", err)
		return 2
	}
	if CannotBuildLabs(stderr) {
		return 1
	}
	if err := os.MkdirAll(RunDir, runDirMode()); err != nil {
		fmt.Fprintf(stderr, "labrun up: %v\n", err)
		return 1
	}
	switch stateOf(name) {
	case labAlive, labStarting:
		fmt.Fprintf(stderr, "labrun up: lab %q is already up (labrun down %s removes it; -name picks another name)\n", name, name)
		return 1
	case labDead:
		removeStale(name)
		fmt.Fprintf(stderr, "labrun up: removed the remains of lab %q, whose keeper had died\n", name)
	}
	if err := os.Mkdir(labDir(name), 0o700); err != nil {
		fmt.Fprintf(stderr, "labrun up: lab %q: %v\n", name, err)
		return 1
	}
	res, err := startKeeper(name, file, o)
	if err != nil {
		fmt.Fprintf(stderr, "labrun up: %v\n", err)
		if b, rerr := os.ReadFile(logPath(name)); rerr == nil && len(b) > 0 {
			fmt.Fprintf(stderr, "keeper log:\n%s", indent(string(b), "  "))
		}
		if stateOf(name) == labDead {
			os.RemoveAll(labDir(name))
		}
		return 1
	}
	if !res.OK {
		fmt.Fprintf(stderr, "labrun up: lab %s: %s\n", name, res.Error)
		if res.Log != "" {
			fmt.Fprint(stderr, indent(res.Log, "    "))
		}
		return 1
	}
	info := res.Info
	if res.Log != "" {
		fmt.Fprintf(stderr, "labrun up: the script failed; the lab is up as it stopped (-keep):\n%s", indent(res.Log, "    "))
	}
	fmt.Fprintf(stdout, "lab %s is up (keeper pid %d, %s)\n", name, info.PID, labDir(name))
	var nodes []string
	for _, n := range info.Nodes {
		nodes = append(nodes, n.Name)
	}
	fmt.Fprintf(stdout, "nodes: %s\n", strings.Join(nodes, ", "))
	fmt.Fprintf(stdout, "enter a node: labrun shell -lab %s NODE   (docker, ip, iptables, brctl, curl, tcpdump work there)\n", name)
	if info.Exercise != "" {
		fmt.Fprintf(stdout, "check your work: labrun exercise check -lab %s\n", name)
	}
	fmt.Fprintf(stdout, "remove it: labrun down %s\n", name)
	if info.Task != "" {
		fmt.Fprintf(stdout, "\nTask (%s; also in %s):\n\n%s", info.Exercise, filepath.Join(info.Work, "task.txt"), indent(info.Task, "  "))
	}
	if res.Log != "" {
		return 1 // up, but not as FILE meant it
	}
	return 0
}

// startKeeper re-executes labrun as the lab's keeper, detached (a session
// of its own, output to keeper.log), and waits for its report.
func startKeeper(name, file string, o upOptions) (upResult, error) {
	var res upResult
	self, err := os.Executable()
	if err != nil {
		return res, err
	}
	logf, err := os.OpenFile(logPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return res, err
	}
	defer logf.Close()
	rd, wr, err := os.Pipe()
	if err != nil {
		return res, err
	}
	defer rd.Close()
	args := []string{KeeperCmd, "-name", name}
	if o.keep {
		args = append(args, "-keep")
	}
	if o.netns {
		args = append(args, "-netns")
	}
	if o.world != "" {
		args = append(args, "-world", o.world)
	}
	if file != "" {
		args = append(args, file)
	}
	cmd := exec.Command(self, args...)
	cmd.Args[0] = "labrun-keeper"
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{wr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LABRUN_LAB=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	err = cmd.Start()
	wr.Close()
	if err != nil {
		return res, fmt.Errorf("starting the keeper: %w", err)
	}
	os.WriteFile(filepath.Join(labDir(name), "keeper.pid"), []byte(fmt.Sprintln(cmd.Process.Pid)), 0o644)
	done := make(chan error, 1)
	var b []byte
	go func() {
		var err error
		b, err = io.ReadAll(rd)
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(setupTimeout + time.Minute):
		cmd.Process.Kill()
		err = errors.New("the keeper did not report in time")
	}
	// The keeper goes on alone; it is reaped by init once it ends.
	cmd.Process.Release()
	if err != nil {
		return res, err
	}
	if len(b) == 0 {
		return res, errors.New("the keeper ended before the lab was up")
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, fmt.Errorf("reading the keeper's report: %w", err)
	}
	return res, nil
}

// DownMain runs `labrun down [-all] [LAB...]`.
func DownMain(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("down", "down [-all] [LAB...]\n\nRemove live labs (their containers, namespaces, shells and directory) and labs that\n-keep left pinned under /run/netns. With no LAB, the only live lab.", stderr)
	all := fs.Bool("all", false, "remove every live and kept lab")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	names := fs.Args()
	if *all {
		live, _ := liveLabs()
		names = append(names, live...)
		for _, k := range keptLabs() {
			names = append(names, k.name)
		}
		if len(names) == 0 {
			fmt.Fprintln(stdout, "no live lab")
			return 0
		}
	} else if len(names) == 0 {
		n, err := resolveLab("")
		if err != nil {
			fmt.Fprintf(stderr, "labrun down: %v\n", err)
			return 1
		}
		names = []string{n}
	}
	status := 0
	for _, n := range names {
		if err := down(n); err != nil {
			fmt.Fprintf(stderr, "labrun down: %v\n", err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "lab %s is down\n", n)
	}
	return status
}

// down asks lab name's keeper to shut down and waits until it has gone and
// its directory with it. A keeper that does not go within 15s is killed.
func down(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	switch stateOf(name) {
	case labMissing:
		if k, ok := kept(name); ok {
			return k.remove()
		}
		return fmt.Errorf("no live or kept lab %q of yours (labrun ls lists them; a lab is its maker's alone)", name)
	case labDead:
		return removeStale(name)
	}
	pid := keeperPID(name)
	if _, err := call(name, request{Op: opDown}, nil); err != nil && pid == 0 {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		_, err := os.Stat(labDir(name))
		if (pid == 0 || !processAlive(pid)) && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	if pid > 0 && isKeeper(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	os.RemoveAll(labDir(name))
	return fmt.Errorf("lab %s: the keeper (pid %d) did not end in time and was killed", name, pid)
}

// LsMain runs `labrun ls [-v]`.
func LsMain(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("ls", "ls [-v]\n\nList the live labs, and those -keep left pinned under /run/netns. A lab whose keeper died\nis reported, and its directory removed.", stderr)
	verbose := fs.Bool("v", false, "list each lab's nodes and their network namespaces")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	live, dead := liveLabs()
	for _, n := range dead {
		fmt.Fprintf(stderr, "lab %s: its keeper died; removed its directory (its namespaces and processes died with the keeper)\n", n)
	}
	keptOnes, others := keptLabs(), othersLabs()
	if len(live) == 0 && len(keptOnes) == 0 {
		fmt.Fprintln(stdout, "no live lab")
		if len(others) > 0 {
			printOthers(stdout, others)
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "LAB\tKEEPER\tUP\tCONTAINERS\tFILE")
	var infos []LabInfo
	for _, n := range live {
		var info LabInfo
		if _, err := call(n, request{Op: opInfo}, func(r reply) error {
			if r.Info != nil {
				info = *r.Info
			}
			return nil
		}); err != nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t(%v)\n", n, err)
			continue
		}
		ctrs := 0
		for _, nd := range info.Nodes {
			if nd.Kind == "container" {
				ctrs++
			}
		}
		file := info.File
		if file == "" {
			file = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", n, info.PID, time.Since(info.Started).Round(time.Second), ctrs, file)
		infos = append(infos, info)
	}
	for _, k := range keptOnes {
		fmt.Fprintf(tw, "%s\t-\tkept\t%d\t-\n", k.name, k.containers())
	}
	tw.Flush()
	if len(others) > 0 {
		printOthers(stdout, others)
	}
	if *verbose {
		for _, info := range infos {
			fmt.Fprintf(stdout, "\nlab %s (work directory %s):\n", info.Name, info.Work)
			tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "  NODE\tKIND\tNETNS")
			for _, nd := range info.Nodes {
				fmt.Fprintf(tw, "  %s\t%s\tnet:[%d]\n", nd.Name, nd.Kind, nd.NetNS)
			}
			tw.Flush()
		}
		for _, k := range keptOnes {
			fmt.Fprintf(stdout, "\nlab %s (kept: ip netns exec labrun-%s-NODE ...; labrun down %s removes it):\n", k.name, k.name, k.name)
			tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "  NODE\tPIN")
			var nodes []string
			for n := range k.pins {
				nodes = append(nodes, n)
			}
			sort.Strings(nodes)
			for _, n := range nodes {
				fmt.Fprintf(tw, "  %s\t%s\n", n, k.pins[n])
			}
			tw.Flush()
		}
	}
	return 0
}

// DockerMain returns the main of `labrun docker ARGS` (cmd "docker") or
// `labrun dockerd FLAGS` (cmd "dockerd"), which forwards the command line to
// a live lab's keeper: the docker and dockerd commands of the lab's shells.
// The terminal is attached as the docker CLI attaches it (dockerClient).
func DockerMain(cmd string) func(args []string, stdout, stderr io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		name, err := resolveLab("")
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
			return 1
		}
		return dockerClient(name, append([]string{cmd}, args...), stdout, stderr)
	}
}
