package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/labrun/labrun/runner"
)

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
	kept                map[string]runner.KeptLab
	results             []result // for -junit, -json and -durations
}

func newCLIRun(out io.Writer, verbose bool, jobs int) *cliRun {
	r := &cliRun{out: out, verbose: verbose, jobs: jobs, kept: map[string]runner.KeptLab{}}
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
	top := &runT{ScriptLog: runner.NewScriptLog(""), r: r}
	func() {
		defer func() {
			if e := recover(); e != nil && !runner.Stopped(e) {
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
	if t.Name() != "" {
		status := "pass"
		if t.Failed() {
			status = "fail"
		} else if t.Skipped() {
			status = "skip"
		}
		r.results = append(r.results, result{Name: t.Name(), Status: status, Start: t.start, Elapsed: time.Since(t.start), Log: t.LogText()})
	}
	switch {
	case t.Failed():
		r.nFail++
		fmt.Fprintf(r.out, "FAIL %s (%.2fs)\n", t.Name(), d)
	case t.Skipped():
		r.nSkip++
		fmt.Fprintf(r.out, "SKIP %s (%.2fs)\n", t.Name(), d)
	default:
		r.nPass++
		fmt.Fprintf(r.out, "PASS %s (%.2fs)\n", t.Name(), d)
	}
	if t.Failed() || t.Skipped() || r.verbose {
		fmt.Fprint(r.out, indent(t.LogText(), "    "))
	}
	if k, ok := r.kept[t.Name()]; ok {
		if k.Err != nil {
			fmt.Fprintf(r.out, "    keeping the lab: %v\n", k.Err)
		}
		if len(k.Pins) > 0 {
			var nodes []string
			for _, p := range k.Pins {
				nodes = append(nodes, strings.TrimPrefix(filepath.Base(p), k.Prefix))
			}
			sort.Strings(nodes)
			fmt.Fprintf(r.out, "    lab kept in %s: %s{%s}\n", pinDir, k.Prefix, strings.Join(nodes, ","))
			fmt.Fprintf(r.out, "    enter it with: ip netns exec %shost bash\n", k.Prefix)
			lab := strings.TrimSuffix(strings.TrimPrefix(k.Prefix, "labrun-"), "-")
			fmt.Fprintf(r.out, "    see it with: labrun ls -v; remove it with: labrun down %s (every kept lab: labrun clean)\n", lab)
		}
		fmt.Fprintf(r.out, "    work directory kept: %s\n", k.WorkDir)
	} else if r.workRoot != "" && t.Name() != "" {
		os.RemoveAll(filepath.Join(r.workRoot, "script-"+t.Name()))
	}
}

func indent(s, prefix string) string {
	if s == "" {
		return ""
	}
	s = strings.TrimSuffix(s, "\n")
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}

// runT implements testscript.T for the CLI, as go-internal's
// cmd/testscript does, but runs the scenarios in parallel: Run starts each
// in a goroutine, and Parallel waits for one of the -j slots. Its log,
// failure and skip are runner's ScriptLog, the core of runner.ScriptT.
type runT struct {
	*runner.ScriptLog
	r   *cliRun
	seq int

	// holding and start belong to the scenario's goroutine: Parallel sets
	// them and Run's report reads them there.
	holding bool
	start   time.Time
}

func (t *runT) Parallel() {
	t.r.acquire(t.seq)
	t.holding = true
	t.start = time.Now()
}

func (t *runT) Run(name string, f func(testscript.T)) {
	t.r.slots.Lock()
	sub := &runT{ScriptLog: runner.NewScriptLog(name), r: t.r, start: time.Now(), seq: t.r.nextSeq}
	t.r.nextSeq++
	t.r.slots.Unlock()
	t.r.wg.Go(func() {
		defer func() {
			e := recover()
			if e != nil && !runner.Stopped(e) {
				sub.Log(fmt.Sprintf("panic: %v\n%s", e, debug.Stack()))
				sub.Fail()
			}
			if sub.holding {
				t.r.release()
			}
			t.r.report(sub)
		}()
		f(sub)
	})
}

func (t *runT) Verbose() bool { return t.r.verbose }
