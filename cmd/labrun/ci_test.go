package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/testkit"
)

// TestRunNoMatch: a -run that matches nothing is an error that names the
// pattern, a near miss and the scenarios there are (a typo in a CI job must
// not pass with no tests).
func TestRunNoMatch(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"publish-ports.txt", "docker0.txt"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, run([]string{"-run", "publish-prots", dir}, &stdout, &stderr), "exit status")
	assert.Equal(t, "labrun: -run \"publish-prots\" matches no scenario; did you mean \"publish-ports\"?\nthe 2 scenarios: docker0 publish-ports\n", stderr.String())
}

func TestBadShard(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), nil, 0o644)
	t.Setenv("JOB_COMPLETION_INDEX", "")
	for _, args := range [][]string{{"-shard", "4/3", dir}, {"-shards", "3", dir}} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, run(args, &stdout, &stderr), "labrun %q: exit status; stderr %s", args, &stderr)
	}
}

// TestEmptyShard: a shard with nothing to run passes and writes empty
// reports, which CI collects as for any other shard.
func TestEmptyShard(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), nil, 0o644)
	junit, js := filepath.Join(dir, "out", "j.xml"), filepath.Join(dir, "out", "r.json")
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, run([]string{"-shard", "2/2", "-junit", junit, "-json", js, dir}, &stdout, &stderr), "exit status; %s", &stderr)
	assert.Equal(t, "labrun: shard 2/2: 0 of 1 scenarios\n", stderr.String())
	assert.FileExists(t, junit)
	assert.FileExists(t, js)
}

// TestReports runs three scenarios (one passes, one skips, one fails)
// through the command line with -junit, -json and -save-durations, and
// reads the files back.
func TestReports(t *testing.T) {
	testkit.RequireLab(t)
	dir := t.TempDir()
	broken, err := os.ReadFile("testdata/broken/publish-broken.txt")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "publish-broken.txt"), broken, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "quiet.txt"), []byte("# Nothing to check.\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "skipped.txt"), []byte("skip 'not here'\n"), 0o644))
	junit, js, durs := filepath.Join(dir, "j.xml"), filepath.Join(dir, "r.json"), filepath.Join(t.TempDir(), "d.json")
	require.NoError(t, os.WriteFile(durs, []byte(`{"elsewhere": 7}`), 0o644))
	var out bytes.Buffer
	code := run([]string{"-junit", junit, "-json", js, "-save-durations", durs, dir}, &out, &out)
	assert.Equal(t, 1, code, "exit status; output:\n%s", &out)
	where := filepath.Join(dir, "publish-broken.txt") + ":5: no match for `It does not work` found in stdout"

	b, err := os.ReadFile(junit)
	require.NoError(t, err)
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Skipped int `xml:"skipped,attr"`
			Cases   []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b, &doc), "%s", b)
	require.Len(t, doc.Suites, 1)
	assert.Equal(t, []int{3, 1, 1}, []int{doc.Tests, doc.Failures, doc.Suites[0].Skipped}, "tests, failures, skipped")
	var failures []string
	for _, c := range doc.Suites[0].Cases {
		if c.Failure != nil {
			failures = append(failures, c.Name+": "+c.Failure.Message)
		}
	}
	assert.Equal(t, []string{"publish-broken: " + where}, failures)

	f, err := os.Open(js)
	require.NoError(t, err)
	defer f.Close()
	ends := map[string]string{}
	failOut := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "%s", sc.Text())
		switch e.Action {
		case "pass", "fail", "skip":
			ends[e.Test] = e.Action
		case "output":
			if e.Test == "publish-broken" {
				failOut += e.Output
			}
		}
	}
	assert.Equal(t, map[string]string{"quiet": "pass", "skipped": "skip", "publish-broken": "fail", "": "fail"}, ends)
	assert.Contains(t, failOut, where)

	d, err := readDurations(durs)
	require.NoError(t, err)
	assert.Contains(t, d, "quiet")
	assert.Contains(t, d, "publish-broken")
	assert.NotContains(t, d, "skipped")
	assert.Equal(t, 7.0, d["elsewhere"], "another shard's time stays")
}

// TestShardRun: -durations balances the shards; each shard of a run says
// what it takes, and the shards take every scenario once.
func TestShardRun(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.txt", "b.txt", "c.txt", "d.txt"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	durs := filepath.Join(t.TempDir(), "d.json")
	os.WriteFile(durs, []byte(`{"a": 9, "b": 1, "c": 1, "d": 1}`), 0o644)
	files, _ := scenarioFiles([]string{dir}, nil)
	var got [][]string
	for _, s := range []string{"1/2", "2/2"} {
		c := ciFlags{shard: s, durations: durs}
		var stderr bytes.Buffer
		part, err := c.selectShard(files, &stderr)
		require.NoError(t, err)
		var names []string
		for _, f := range part {
			names = append(names, scenarioName(f))
		}
		got = append(got, names)
	}
	assert.Equal(t, [][]string{{"a"}, {"b", "c", "d"}}, got)
}

// TestCIDoc: docs/ci.md shows every CI flag, and the flags on its labrun
// command lines are labrun's.
func TestCIDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/ci.md")
	require.NoError(t, err)
	var help bytes.Buffer
	run([]string{"-h"}, &help, &help)
	var fs flag.FlagSet
	var c ciFlags
	c.register(&fs)
	fs.VisitAll(func(f *flag.Flag) {
		assert.Contains(t, string(doc), "-"+f.Name+" ", "docs/ci.md shows -%s", f.Name)
		assert.Contains(t, help.String(), "  -"+f.Name+" ", "labrun -h lists -%s", f.Name)
	})
	flagRE := regexp.MustCompile(`\s-([a-z][a-z-]*)`)
	n := 0
	for _, line := range strings.Split(string(doc), "\n") {
		i := strings.Index(line, "labrun -")
		if i < 0 {
			continue
		}
		for _, m := range flagRE.FindAllStringSubmatch(line[i:], -1) {
			n++
			assert.Regexp(t, `(?m)^  -`+regexp.QuoteMeta(m[1])+`\b`, help.String(), "docs/ci.md: %q: -%s is not labrun's", line, m[1])
		}
	}
	assert.Greater(t, n, 5, "flags found on docs/ci.md's labrun lines")
}

// TestInterruptHook: a signal closes the labs, then runs the hook that
// writes the reports, with the signal's name, before labrun returns.
func TestInterruptHook(t *testing.T) {
	// A channel of the test's own keeps SIGTERM from ending the test
	// process, whatever happens to interruptible's.
	mine := make(chan os.Signal, 1)
	signal.Notify(mine, syscall.SIGTERM)
	defer signal.Stop(mine)
	labs := &labSet{}
	var why string
	labs.atInterrupt(func(w string) { why = w })
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	var stderr bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- interruptible(labs, &stderr, func() int {
			close(started)
			<-release
			return 0
		})
	}()
	<-started
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case c := <-code:
		assert.Equal(t, 128+int(syscall.SIGTERM), c)
	case <-time.After(30 * time.Second):
		t.Fatal("interruptible did not return 30s after SIGTERM")
	}
	assert.Equal(t, "interrupted (SIGTERM)", why)
	assert.Equal(t, "labrun: interrupted (SIGTERM); labs removed\n", stderr.String())
}
