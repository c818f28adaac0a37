package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/labrun/labrun/cmd/labrun/classroom"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/userns"
	"github.com/labrun/labrun/runner"
)

// pinDir is where -keep pins a failed lab's namespaces, so that
// `ip netns exec` finds them.
const pinDir = classroom.PinDir

// cliUsage is labrun -h's text; the flags follow it.
var cliUsage = `usage: labrun [flags] FILE|DIR...
` + subcommandUsage() + `
labrun runs scenario files (testscript files using labrun's commands; see
docs/scenarios.md) in parallel, each in a lab of its own, and prints one line
per scenario. For a failure it prints the script's log up to the failing
line, which it names as FILE:LINE. A DIR stands for its *.txt and *.txtar
files. Exit status: 0 when all pass, 1 when one fails, 2 for bad usage.

labrun clean removes the labs that -keep left pinned under /run/netns.

Flags:
`

// run runs labrun's command line (without the program name) and returns the
// exit status. A subcommand (subcommands) runs as it is; any other command
// line is a scenario run (runScenarios).
//
// On SIGINT or SIGTERM a scenario run closes the labs still open and ends
// promptly with "labrun: interrupted (SIGTERM); labs removed" and status
// 128+signal (interruptible). Subcommands keep the default signal handling.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if s, ok := lookupSubcommand(args[0]); ok {
			return s.run(args[1:], stdout, stderr)
		}
	}
	labs := &labSet{}
	return interruptible(labs, stderr, func() int { return runScenarios(args, stdout, stderr, labs) })
}

// runScenarios runs the scenarios that args (flags, then files and
// directories) name and returns the exit status: 0 when every scenario
// passed (or was skipped), 1 when one failed or the machine lacks what labs
// need, 2 for bad usage. It records the labs it opens in labs.
func runScenarios(args []string, stdout, stderr io.Writer, labs *labSet) int {
	fs := flag.NewFlagSet("labrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, cliUsage)
		fs.PrintDefaults()
	}
	verbose := fs.Bool("v", false, "print every scenario's full log")
	runRE := fs.String("run", "", "run only the scenarios whose name (file name without .txt) matches `regexp`")
	jobs := fs.Int("j", runtime.GOMAXPROCS(0), "run at most `n` scenarios at once")
	keep := fs.Bool("keep", false, "leave a failed scenario's lab pinned under /run/netns, and its work directory, for inspection")
	update := fs.Bool("u", false, "rewrite the files that cmp compares with (the scenario's golden sections) instead of failing")
	timeout := fs.Duration("timeout", 10*time.Minute, "fail scenarios still running after `d`")
	pcapDir := fs.String("pcap-dir", "", "also write every capture's pcap file to `dir`, as SCENARIO-NAME.pcap")
	var ci ciFlags
	ci.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	if *jobs < 1 {
		fmt.Fprintln(stderr, "labrun: -j must be at least 1")
		return 2
	}
	var re *regexp.Regexp
	if *runRE != "" {
		var err error
		if re, err = regexp.Compile(*runRE); err != nil {
			fmt.Fprintf(stderr, "labrun: bad -run: %v\n", err)
			return 2
		}
	}
	files, err := scenarioFiles(fs.Args(), re)
	if err != nil {
		fmt.Fprintf(stderr, "labrun: %v\n", err)
		return 2
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "labrun: %v\n", noScenarios(fs.Args(), *runRE))
		return 2
	}
	if files, err = ci.selectShard(files, stderr); err != nil {
		fmt.Fprintf(stderr, "labrun: %v\n", err)
		return 2
	}
	start := time.Now()
	if len(files) == 0 {
		// More shards than scenarios: this one has nothing to do, and
		// says so in empty reports.
		if err := ci.write(nil, nil, start); err != nil {
			fmt.Fprintf(stderr, "labrun: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, "0 passed, 0 failed")
		return 0
	}
	if classroom.CannotBuildLabs(stderr) {
		return 1
	}

	r := newCLIRun(stdout, *verbose, *jobs)
	labs.atInterrupt(func(why string) {
		// The scenarios finished so far, and the run as failed.
		c := ci
		c.aborted = why
		if err := c.write(r.finished(), files, start); err != nil {
			fmt.Fprintf(stderr, "labrun: %v\n", err)
		}
	})
	p := testscript.Params{
		Files:               files,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Deadline:            time.Now().Add(*timeout),
	}
	o := runner.Options{Labs: labs}
	if *pcapDir != "" {
		dir, err := filepath.Abs(*pcapDir)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			fmt.Fprintf(stderr, "labrun: -pcap-dir: %v\n", err)
			return 1
		}
		o.PcapDir = dir
	}
	if _, rootless := userns.Rootless(); *keep && rootless {
		fmt.Fprintf(stderr, "labrun: -keep %v (pins under %s); run it as root\n", userns.ErrNeedsRoot, pinDir)
		return 2
	}
	if *keep {
		root, err := os.MkdirTemp("", "labrun-work-")
		if err != nil {
			fmt.Fprintf(stderr, "labrun: %v\n", err)
			return 1
		}
		p.WorkdirRoot = root
		r.workRoot = root
		o.KeepDir = pinDir
		o.Kept = func(t testscript.T, k runner.KeptLab) {
			if rt, ok := t.(*runT); ok {
				r.mu.Lock()
				r.kept[rt.Name()] = k
				r.mu.Unlock()
			}
		}
	} else {
		// labrun owns its work directories (rather than testscript), so
		// that an interrupted run removes them too.
		root, err := os.MkdirTemp("", "labrun-run-")
		if err != nil {
			fmt.Fprintf(stderr, "labrun: %v\n", err)
			return 1
		}
		p.WorkdirRoot = root
		labs.removeDir(root)
		defer os.RemoveAll(root)
	}
	if err := runner.SetupWith(&p, o); err != nil {
		fmt.Fprintf(stderr, "labrun: %v\n", err)
		return 1
	}
	if top := r.run(p); top.Failed() {
		fmt.Fprint(stdout, top.LogText())
		return 1
	}
	if err := ci.write(r.results, files, start); err != nil {
		fmt.Fprintf(stderr, "labrun: %v\n", err)
		return 1
	}
	if r.workRoot != "" && r.nFail == 0 {
		os.RemoveAll(r.workRoot)
	}
	fmt.Fprintf(stdout, "%d passed, %d failed", r.nPass, r.nFail)
	if r.nSkip > 0 {
		fmt.Fprintf(stdout, ", %d skipped", r.nSkip)
	}
	fmt.Fprintln(stdout)
	if r.nFail > 0 {
		return 1
	}
	return 0
}

// scenarioFiles expands the command line: a directory stands for its .txt
// and .txtar files. With re, only files whose scenario name matches stay.
func scenarioFiles(args []string, re *regexp.Regexp) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		var found []string
		for _, ent := range ents {
			if n := ent.Name(); !ent.IsDir() && (strings.HasSuffix(n, ".txt") || strings.HasSuffix(n, ".txtar")) {
				found = append(found, filepath.Join(a, n))
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("no .txt or .txtar scenarios in %s", a)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	var out []string
	for _, f := range files {
		if re != nil && !re.MatchString(scenarioName(f)) {
			continue
		}
		// A scenario that cannot be read is a bad command line, said
		// before any lab is made (not a failed scenario at line 0).
		r, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		r.Close()
		out = append(out, f)
	}
	return out, nil
}

// scenarioName is a file's scenario name, as testscript names its subtest.
func scenarioName(file string) string {
	n := filepath.Base(file)
	if s, ok := strings.CutSuffix(n, ".txt"); ok {
		return s
	}
	return strings.TrimSuffix(n, ".txtar")
}

// cleanMain runs `labrun clean`.
func cleanMain(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "labrun clean: unexpected arguments %q\n", args)
		return 2
	}
	return clean(stdout, stderr)
}

// clean removes every lab that -keep pinned, and the work directories it
// kept.
func clean(stdout, stderr io.Writer) int {
	if _, rootless := userns.Rootless(); rootless {
		fmt.Fprintln(stdout, "labrun clean: nothing to remove: as an ordinary user labrun keeps no lab (-keep needs root)")
		return 0
	}
	pins, err := filepath.Glob(filepath.Join(pinDir, "labrun-*"))
	if err != nil {
		fmt.Fprintf(stderr, "labrun clean: %v\n", err)
		return 1
	}
	status := 0
	remove := func(paths []string, rm func(string) error) {
		for _, p := range paths {
			if err := rm(p); err != nil {
				fmt.Fprintf(stderr, "labrun clean: %v\n", err)
				status = 1
				continue
			}
			fmt.Fprintf(stdout, "removed %s\n", p)
		}
	}
	works, _ := filepath.Glob(filepath.Join(os.TempDir(), "labrun-work-*"))
	remove(works, os.RemoveAll)
	remove(pins, netns.Unpin)
	return status
}
