package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/labrun/labrun/cmd/labrun/junit"
)

// result is one finished scenario, as -junit and -json write it.
type result struct {
	Name    string
	File    string // the scenario's file, as the command line named it
	Status  string // "pass", "fail" or "skip"
	Start   time.Time
	Elapsed time.Duration
	Log     string
}

// failLine matches the line of a script's log that names the failing
// FILE:LINE and the cause ("FAIL: scenarios/x.txt:12: no match ...").
var failLine = regexp.MustCompile(`(?m)^FAIL: (.*)$`)

// fileLine splits a failure message's FILE:LINE: head.
var fileLine = regexp.MustCompile(`^(.+?):(\d+): `)

// failure returns the failing FILE:LINE and cause of a failed scenario's
// log, or a message naming the file when the log has no FAIL line (a panic,
// a deadline).
func (r result) failure() string {
	if m := failLine.FindAllStringSubmatch(r.Log, -1); len(m) > 0 {
		return m[len(m)-1][1]
	}
	return r.File + ": failed"
}

// suiteName is the name of the JUnit suite and the go test "package" of
// the results: the scenarios' directory, or "labrun" when they come from
// several.
func suiteName(rs []result) string {
	name := ""
	for _, r := range rs {
		d := filepath.ToSlash(filepath.Dir(r.File))
		if name != "" && d != name {
			return "labrun"
		}
		name = d
	}
	if name == "" || name == "." {
		return "labrun"
	}
	return name
}

// sortResults orders results by start, then name: the order the scenarios
// ran in.
func sortResults(rs []result) []result {
	rs = append([]result(nil), rs...)
	sort.SliceStable(rs, func(i, j int) bool {
		if !rs[i].Start.Equal(rs[j].Start) {
			return rs[i].Start.Before(rs[j].Start)
		}
		return rs[i].Name < rs[j].Name
	})
	return rs
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// writeJUnit writes results as JUnit XML: one testsuite, one testcase per
// scenario; a failure's message is its FILE:LINE and cause, its text the
// scenario's log. total is the whole run's wall time. aborted, when not
// "", says why the run stopped before its end: the suite counts an error
// and says why in its system-err.
func writeJUnit(w io.Writer, rs []result, total time.Duration, aborted string) error {
	rs = sortResults(rs)
	s := junit.Suite{Name: suiteName(rs), Time: seconds(total)}
	if len(rs) > 0 {
		s.Timestamp = rs[0].Start.UTC().Format("2006-01-02T15:04:05")
	}
	for _, r := range rs {
		c := junit.Case{Name: r.Name, Classname: s.Name, Time: seconds(r.Elapsed), File: r.File}
		switch r.Status {
		case "fail":
			s.Failures++
			c.Failure = &junit.Message{Message: r.failure(), Type: "failure", Text: r.Log}
			if m := fileLine.FindStringSubmatch(c.Failure.Message); m != nil && m[1] == r.File {
				c.Line = m[2]
			}
		case "skip":
			s.Skipped++
			c.Skipped = &junit.Message{Message: strings.TrimSpace(lastLine(r.Log))}
			c.SystemOut = r.Log
		default:
			c.SystemOut = r.Log
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	if aborted != "" {
		s.Errors++
		s.SystemErr = "labrun: " + aborted + "\n"
	}
	doc := junit.Suites{Name: "labrun", Errors: s.Errors, Tests: s.Tests, Failures: s.Failures, Time: s.Time, Suites: []junit.Suite{s}}
	return junit.Write(w, doc)
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// testEvent is one line of `go test -json`, as cmd/test2json documents it
// (go doc cmd/test2json).
type testEvent struct {
	Time    time.Time `json:",omitempty"`
	Action  string
	Package string   `json:",omitempty"`
	Test    string   `json:",omitempty"`
	Elapsed *float64 `json:",omitempty"`
	Output  *string  `json:",omitempty"`
}

// writeTestJSON writes results as go test -json does: for each scenario a
// run event, its output (=== RUN, the log indented, --- PASS/FAIL/SKIP,
// and for a failure its FILE:LINE), then pass, fail or skip with Elapsed in
// seconds; the package (suiteName) starts first and ends with PASS or FAIL.
// A run that stopped early (aborted says why) ends with FAIL.
func writeTestJSON(w io.Writer, rs []result, start time.Time, total time.Duration, aborted string) error {
	rs = sortResults(rs)
	pkg := suiteName(rs)
	enc := json.NewEncoder(w)
	emit := func(e testEvent) error { return enc.Encode(e) }
	output := func(t time.Time, test, s string) error {
		return emit(testEvent{Time: t, Action: "output", Package: pkg, Test: test, Output: &s})
	}
	if err := emit(testEvent{Time: start, Action: "start", Package: pkg}); err != nil {
		return err
	}
	failed := aborted != ""
	for _, r := range rs {
		end := r.Start.Add(r.Elapsed)
		if err := emit(testEvent{Time: r.Start, Action: "run", Package: pkg, Test: r.Name}); err != nil {
			return err
		}
		if err := output(r.Start, r.Name, fmt.Sprintf("=== RUN   %s\n", r.Name)); err != nil {
			return err
		}
		if r.Status == "fail" {
			failed = true
			// go test's own failures start with FILE:LINE, as here.
			if err := output(end, r.Name, "    "+r.failure()+"\n"); err != nil {
				return err
			}
		}
		for _, l := range strings.SplitAfter(r.Log, "\n") {
			if l == "" {
				continue
			}
			if !strings.HasSuffix(l, "\n") {
				l += "\n"
			}
			if err := output(end, r.Name, "    "+l); err != nil {
				return err
			}
		}
		verb := map[string]string{"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}[r.Status]
		if err := output(end, r.Name, fmt.Sprintf("--- %s: %s (%.2fs)\n", verb, r.Name, r.Elapsed.Seconds())); err != nil {
			return err
		}
		el := r.Elapsed.Seconds()
		if err := emit(testEvent{Time: end, Action: r.Status, Package: pkg, Test: r.Name, Elapsed: &el}); err != nil {
			return err
		}
	}
	end, action, word := start.Add(total), "pass", "PASS\n"
	if aborted != "" {
		if err := output(end, "", "labrun: "+aborted+"\n"); err != nil {
			return err
		}
	}
	if failed {
		action, word = "fail", "FAIL\n"
	}
	if err := output(end, "", word); err != nil {
		return err
	}
	el := total.Seconds()
	return emit(testEvent{Time: end, Action: action, Package: pkg, Elapsed: &el})
}

// writeReport writes results to path with write, creating the directory.
func writeReport(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
