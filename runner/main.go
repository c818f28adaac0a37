package runner

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"github.com/labrun/labrun/cmd/labrun/bench"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/prereq"
)

// pinDir is where -keep pins a failed lab's namespaces, so that
// `ip netns exec` finds them.
const pinDir = "/run/netns"

const cliUsage = `usage: labrun [flags] FILE|DIR...
       labrun clean

labrun runs scenario files (testscript files using labrun's commands; see
docs/scenarios.md) in parallel, each in a lab of its own, and prints one line
per scenario. For a failure it prints the script's log up to the failing
line, which it names as FILE:LINE. A DIR stands for its *.txt and *.txtar
files. Exit status: 0 when all pass, 1 when one fails, 2 for bad usage.

labrun clean removes the labs that -keep left pinned under /run/netns.

Flags:
`

// Main runs labrun's command line (without the program name) on the
// process's stdout and stderr and returns the exit status. The binary must
// call initproc.MaybeRun before it.
//
// SIGINT and SIGTERM close the labs still open and end labrun promptly with
// "labrun: interrupted (SIGTERM); labs removed" and status 128+signal.
// Subcommands (bench, clean, ...) keep the default signal handling.
func Main(args []string) int {
	if len(args) > 0 {
		if _, ok := lookupSubcommand(args[0]); ok || args[0] == "bench" || args[0] == "clean" {
			return Run(args, os.Stdout, os.Stderr)
		}
	}
	labs := &labSet{}
	return interruptible(labs, os.Stderr, func() int { return run(args, os.Stdout, os.Stderr, labs) })
}

// Run runs labrun's command line and returns the exit status: 0 when every
// scenario passed (or was skipped), 1 when one failed or the machine lacks
// what labs need, 2 for bad usage.
func Run(args []string, stdout, stderr io.Writer) int { return run(args, stdout, stderr, nil) }

// run is Run, recording the labs it opens in labs when not nil.
func run(args []string, stdout, stderr io.Writer, labs *labSet) int {
	if len(args) > 0 && args[0] == "bench" {
		return bench.Main(args[1:], stdout, stderr)
	}
	if len(args) > 0 {
		if s, ok := lookupSubcommand(args[0]); ok {
			return s.Run(args[1:], stdout, stderr)
		}
	}
	if len(args) > 0 && args[0] == "clean" {
		if len(args) > 1 {
			fmt.Fprintf(stderr, "labrun clean: unexpected arguments %q\n", args[1:])
			return 2
		}
		return clean(stdout, stderr)
	}
	fs := flag.NewFlagSet("labrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, strings.Replace(cliUsage, "labrun clean\n", "labrun clean\n"+subcommandUsage(), 1))
		fs.PrintDefaults()
	}
	verbose := fs.Bool("v", false, "print every scenario's full log")
	runRE := fs.String("run", "", "run only the scenarios whose name (file name without .txt) matches `regexp`")
	jobs := fs.Int("j", runtime.GOMAXPROCS(0), "run at most `n` scenarios at once")
	keep := fs.Bool("keep", false, "leave a failed scenario's lab pinned under /run/netns, and its work directory, for inspection")
	update := fs.Bool("u", false, "rewrite the files that cmp compares with (the scenario's golden sections) instead of failing")
	timeout := fs.Duration("timeout", 10*time.Minute, "fail scenarios still running after `d`")
	pcapDir := fs.String("pcap-dir", "", "also write every capture's pcap file to `dir`, as SCENARIO-NAME.pcap")
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
		fmt.Fprintln(stderr, "labrun: no scenarios to run")
		return 0
	}
	if err := prereq.Err(); err != nil {
		fmt.Fprintf(stderr, "labrun: this machine cannot build labs:\n%s\n", indent(err.Error(), "  "))
		return 1
	}

	r := newCLIRun(stdout, *verbose, *jobs)
	p := testscript.Params{
		Files:               files,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Deadline:            time.Now().Add(*timeout),
	}
	o := options{labs: labs}
	if *pcapDir != "" {
		dir, err := filepath.Abs(*pcapDir)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			fmt.Fprintf(stderr, "labrun: -pcap-dir: %v\n", err)
			return 1
		}
		o.pcapDir = dir
	}
	if *keep {
		root, err := os.MkdirTemp("", "labrun-work-")
		if err != nil {
			fmt.Fprintf(stderr, "labrun: %v\n", err)
			return 1
		}
		p.WorkdirRoot = root
		r.workRoot = root
		o.keepDir = pinDir
		o.kept = func(t testscript.T, k keptLab) {
			if rt, ok := t.(*runT); ok {
				r.mu.Lock()
				r.kept[rt.name] = k
				r.mu.Unlock()
			}
		}
	}
	if !*keep && labs != nil {
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
	if err := setup(&p, o); err != nil {
		fmt.Fprintf(stderr, "labrun: %v\n", err)
		return 1
	}
	if top := r.run(p); top.failed {
		fmt.Fprint(stdout, top.logText())
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

// cliRun is one labrun run: the scenarios' results as they finish.
type cliRun struct {
	out      io.Writer
	verbose  bool
	wg       sync.WaitGroup
	workRoot string // -keep: where the work directories are

	// Scenarios start in the order of the command line, at most jobs at
	// a time (-j).
	slots     sync.Mutex
	slotFree  *sync.Cond
	jobs      int
	running   int
	nextStart int // sequence number of the next scenario to start
	nextSeq   int // sequence number for the next Run

	mu                  sync.Mutex // guards what follows, and out
	nPass, nFail, nSkip int
	kept                map[string]keptLab
}

func newCLIRun(out io.Writer, verbose bool, jobs int) *cliRun {
	r := &cliRun{out: out, verbose: verbose, jobs: jobs, kept: map[string]keptLab{}}
	r.slotFree = sync.NewCond(&r.slots)
	return r
}

// acquire waits until scenario seq may start: its predecessors have
// started and fewer than jobs scenarios run.
func (r *cliRun) acquire(seq int) {
	r.slots.Lock()
	defer r.slots.Unlock()
	for r.nextStart != seq || r.running >= r.jobs {
		r.slotFree.Wait()
	}
	r.nextStart++
	r.running++
	r.slotFree.Broadcast()
}

func (r *cliRun) release() {
	r.slots.Lock()
	defer r.slots.Unlock()
	r.running--
	r.slotFree.Broadcast()
}

// run runs p's scripts through testscript.RunT and waits for them all. It
// returns the top-level T, which failed only when testscript could not start.
func (r *cliRun) run(p testscript.Params) *runT {
	top := &runT{r: r, name: ""}
	func() {
		defer func() {
			if e := recover(); e != nil && e != errFailNow && e != errSkip {
				panic(e)
			}
		}()
		testscript.RunT(top, p)
	}()
	r.wg.Wait()
	return top
}

// report prints a finished scenario's line, and its log when it failed or
// with -v.
func (r *cliRun) report(t *runT) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := time.Since(t.start).Seconds()
	switch {
	case t.failed:
		r.nFail++
		fmt.Fprintf(r.out, "FAIL %s (%.2fs)\n", t.name, d)
	case t.skipped:
		r.nSkip++
		fmt.Fprintf(r.out, "SKIP %s (%.2fs)\n", t.name, d)
	default:
		r.nPass++
		fmt.Fprintf(r.out, "PASS %s (%.2fs)\n", t.name, d)
	}
	if t.failed || t.skipped || r.verbose {
		fmt.Fprint(r.out, indent(t.logText(), "    "))
	}
	if k, ok := r.kept[t.name]; ok {
		if k.err != nil {
			fmt.Fprintf(r.out, "    keeping the lab: %v\n", k.err)
		}
		if len(k.pins) > 0 {
			var nodes []string
			for _, p := range k.pins {
				nodes = append(nodes, strings.TrimPrefix(filepath.Base(p), k.prefix))
			}
			sort.Strings(nodes)
			fmt.Fprintf(r.out, "    lab kept in %s: %s{%s}\n", pinDir, k.prefix, strings.Join(nodes, ","))
			fmt.Fprintf(r.out, "    enter it with: ip netns exec %shost bash\n", k.prefix)
			fmt.Fprintf(r.out, "    remove it with: labrun clean\n")
		}
		fmt.Fprintf(r.out, "    work directory kept: %s\n", k.workdir)
	} else if r.workRoot != "" && t.name != "" {
		os.RemoveAll(filepath.Join(r.workRoot, "script-"+t.name))
	}
}

func indent(s, prefix string) string {
	if s == "" {
		return ""
	}
	s = strings.TrimSuffix(s, "\n")
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}

var (
	errFailNow = errors.New("labrun: scenario failed")
	errSkip    = errors.New("labrun: scenario skipped")
)

// runT implements testscript.T for the CLI, as go-internal's
// cmd/testscript does, but runs the scenarios in parallel: Run starts each
// in a goroutine, and Parallel waits for one of the -j slots.
type runT struct {
	r    *cliRun
	name string
	seq  int

	mu      sync.Mutex
	log     bytes.Buffer
	failed  bool
	skipped bool
	holding bool
	start   time.Time
}

// Name returns the scenario's name.
func (t *runT) Name() string { return t.name }

// Failed reports whether the scenario has failed.
func (t *runT) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *runT) Skip(args ...any) {
	t.Log(args...)
	t.mu.Lock()
	t.skipped = true
	t.mu.Unlock()
	panic(errSkip)
}

func (t *runT) Fatal(args ...any) {
	t.Log(args...)
	t.FailNow()
}

func (t *runT) Parallel() {
	t.r.acquire(t.seq)
	t.mu.Lock()
	t.holding = true
	t.start = time.Now()
	t.mu.Unlock()
}

func (t *runT) Log(args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	msg := fmt.Sprint(args...)
	t.log.WriteString(msg)
	if !strings.HasSuffix(msg, "\n") {
		t.log.WriteByte('\n')
	}
}

func (t *runT) logText() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.log.String()
}

func (t *runT) FailNow() {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
	panic(errFailNow)
}

func (t *runT) Run(name string, f func(testscript.T)) {
	t.r.slots.Lock()
	sub := &runT{r: t.r, name: name, start: time.Now(), seq: t.r.nextSeq}
	t.r.nextSeq++
	t.r.slots.Unlock()
	t.r.wg.Add(1)
	go func() {
		defer t.r.wg.Done()
		defer func() {
			e := recover()
			if e != nil && e != errFailNow && e != errSkip {
				sub.Log(fmt.Sprintf("panic: %v\n%s", e, debug.Stack()))
				sub.mu.Lock()
				sub.failed = true
				sub.mu.Unlock()
			}
			if sub.holding {
				t.r.release()
			}
			t.r.report(sub)
		}()
		f(sub)
	}()
}

func (t *runT) Verbose() bool { return t.r.verbose }

// clean removes every lab that -keep pinned, and the work directories it
// kept.
func clean(stdout, stderr io.Writer) int {
	pins, err := filepath.Glob(filepath.Join(pinDir, "labrun-*"))
	if err != nil {
		fmt.Fprintf(stderr, "labrun clean: %v\n", err)
		return 1
	}
	status := 0
	works, _ := filepath.Glob(filepath.Join(os.TempDir(), "labrun-work-*"))
	for _, w := range works {
		if err := os.RemoveAll(w); err != nil {
			fmt.Fprintf(stderr, "labrun clean: %v\n", err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "removed %s\n", w)
	}
	for _, p := range pins {
		if err := netns.Unpin(p); err != nil {
			fmt.Fprintf(stderr, "labrun clean: %v\n", err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "removed %s\n", p)
	}
	return status
}
