package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// ciFlags are the scenario run's flags for CI (docs/ci.md): reports for
// CI systems and shards of the suite for many machines.
type ciFlags struct {
	junit, json   string
	durations     string // read, to balance the shards
	saveDurations string // written, with this run's durations
	shard         string
	shards        int

	recorded map[string]float64 // what -durations held before the run
	aborted  string             // why the run stopped early ("interrupted (SIGTERM)"), or ""
}

func (c *ciFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.junit, "junit", "", "write the results as JUnit XML to `file` (one test case per scenario)")
	fs.StringVar(&c.json, "json", "", "write the results as go test -json lines (test2json's events) to `file`")
	fs.StringVar(&c.shard, "shard", "", "run only shard `I/N` (1-based) of the scenarios; also from $LABRUN_SHARD")
	fs.IntVar(&c.shards, "shards", 0, "split the scenarios in `n` shards and run the one $JOB_COMPLETION_INDEX (0-based, a Kubernetes Indexed Job's) names")
	fs.StringVar(&c.durations, "durations", "", "balance the shards by the scenario durations in `file` (JSON, name to seconds, as -save-durations writes it); every shard must read the same")
	fs.StringVar(&c.saveDurations, "save-durations", "", "record this run's scenario durations in `file`, keeping the other scenarios' times it holds")
}

// selectShard returns the files of the shard asked for (all of them when
// none is).
func (c *ciFlags) selectShard(files []string, stderr io.Writer) ([]string, error) {
	s, ok, err := shardFrom(c.shard, c.shards, os.Getenv)
	if err != nil {
		return nil, err
	}
	if c.durations != "" {
		if c.recorded, err = readDurations(c.durations); err != nil {
			return nil, err
		}
	}
	if !ok {
		return files, nil
	}
	byName := map[string]string{}
	var names []string
	for _, f := range files {
		n := scenarioName(f)
		byName[n] = f
		names = append(names, n)
	}
	var out []string
	for _, n := range shardNames(names, s, c.recorded) {
		out = append(out, byName[n])
	}
	fmt.Fprintf(stderr, "labrun: shard %s: %d of %d scenarios\n", s, len(out), len(files))
	return out, nil
}

// noScenarios explains an empty run: a -run pattern that matches nothing
// is an error (a typo in a CI job must not pass with no tests).
func noScenarios(args []string, pattern string) error {
	all, err := scenarioFiles(args, nil)
	if err != nil {
		return err
	}
	var names []string
	for _, f := range all {
		names = append(names, scenarioName(f))
	}
	return fmt.Errorf("%s", noMatch(pattern, names))
}

// finished returns the results of the scenarios finished so far.
func (r *cliRun) finished() []result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]result(nil), r.results...)
}

// write writes the reports and durations that the flags ask for. files
// are the scenarios run, for the results' file names.
func (c *ciFlags) write(rs []result, files []string, start time.Time) error {
	byName := map[string]string{}
	for _, f := range files {
		byName[scenarioName(f)] = f
	}
	rs = append([]result(nil), rs...)
	for i := range rs {
		rs[i].File = byName[rs[i].Name]
	}
	total := time.Since(start)
	if c.junit != "" {
		if err := writeReport(c.junit, func(w io.Writer) error { return writeJUnit(w, rs, total, c.aborted) }); err != nil {
			return err
		}
	}
	if c.json != "" {
		if err := writeReport(c.json, func(w io.Writer) error { return writeTestJSON(w, rs, start, total, c.aborted) }); err != nil {
			return err
		}
	}
	if c.saveDurations != "" {
		old, err := readDurations(c.saveDurations)
		if err != nil {
			return err
		}
		return writeDurations(c.saveDurations, old, rs)
	}
	return nil
}
