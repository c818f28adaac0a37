package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func TestCLIUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"-bogus", "x"},
		{"-run", "(", "x"},
		{"-j", "0", "x"},
		{filepath.Join(t.TempDir(), "missing.txt")},
		{"clean", "extra"},
	} {
		var out bytes.Buffer
		assert.Equal(t, 2, run(args, &out, &out), "labrun %q: exit status; output:\n%s", args, &out)
	}
	var out bytes.Buffer
	assert.Equal(t, 0, run([]string{"-h"}, &out, &out), "labrun -h: exit status")
	assert.Contains(t, out.String(), "usage: labrun", "labrun -h")
}

// TestUsageSynopses checks the head of labrun -h: the scenario run, then
// the subcommands with a synopsis, in the table's order (help, version and
// completion among them); bench and the keeper stay hidden.
func TestUsageSynopses(t *testing.T) {
	const want = `usage: labrun [flags] FILE|DIR...
       labrun clean
       labrun completion bash|zsh|fish
       labrun diagram [-lab LAB] [-format mermaid|svg|json] [-o FILE] [-trace 'FROM TARGET'] [FILE]
       labrun docker ARGS... (in a live lab; LAB from $LABRUN_LAB)
       labrun dockerd FLAGS... (restart a live lab's engine)
       labrun down [-all] [LAB...]
       labrun exercise start|check|task|list|run ...
       labrun grade [-exercises DIR] [-o DIR] [-j N] SUBMISSIONS
       labrun help [COMMAND]
       labrun inspect [-format table|json] [LAB]
       labrun ls [-v]
       labrun reach [-timeout D] [LAB]
       labrun shell [-lab LAB] NODE [COMMAND [ARG...]]
       labrun trace [-lab LAB] [-timeout D] [-reply] [-json] FROM ADDR:PORT|URL|ping ADDR
       labrun up [-name LAB] [-keep] [-netns] [-world FILE|NAME] [FILE]
       labrun version
       labrun world ls|show|check|line ...

labrun runs scenario files`
	var out bytes.Buffer
	run([]string{"-h"}, &out, &out)
	if !strings.HasPrefix(out.String(), want) {
		t.Errorf("labrun -h starts\n%s\nwant\n%s", out.String()[:min(len(want), out.Len())], want)
	}
	seen := map[string]bool{}
	for _, s := range subcommands {
		if seen[s.name] || s.run == nil {
			t.Errorf("subcommand %q listed twice or without run", s.name)
		}
		seen[s.name] = true
	}
}

// TestBadCLIInput checks labrun's own command line: unreadable scenario
// files and wrong flags, with exactly what it prints and its exit status.
func TestBadCLIInput(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.txt")
	broken := filepath.Join(dir, "links")
	os.Mkdir(broken, 0o755)
	os.Symlink("nowhere", filepath.Join(broken, "dangling.txt"))
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	for _, tc := range []struct {
		args   []string
		stderr string
		code   int
	}{
		{[]string{missing}, "labrun: stat " + missing + ": no such file or directory\n", 2},
		{[]string{broken}, "labrun: open " + filepath.Join(broken, "dangling.txt") + ": no such file or directory\n", 2},
		{[]string{empty}, "labrun: no .txt or .txtar scenarios in " + empty + "\n", 2},
		{[]string{"-run", "(", empty}, "labrun: bad -run: error parsing regexp: missing closing ): `(`\n", 2},
		{[]string{"-j", "0", empty}, "labrun: -j must be at least 1\n", 2},
		{[]string{"clean", "extra"}, "labrun clean: unexpected arguments [\"extra\"]\n", 2},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, tc.code, run(tc.args, &stdout, &stderr), "labrun %q: exit status", tc.args)
		assert.Equal(t, tc.stderr, stderr.String(), "labrun %q: stderr", tc.args)
	}
}

func TestScenarioFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.txt", "a.txtar", "notes.md", "publish-ports.txt"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	got, err := scenarioFiles([]string{dir}, nil)
	require.NoError(t, err)
	want := []string{filepath.Join(dir, "a.txtar"), filepath.Join(dir, "b.txt"), filepath.Join(dir, "publish-ports.txt")}
	assert.Equal(t, want, got, "scenarioFiles(dir)")
	got, _ = scenarioFiles([]string{dir}, regexp.MustCompile(`^publish`))
	if assert.Len(t, got, 1, "scenarioFiles(dir, ^publish)") {
		assert.Equal(t, "publish-ports", scenarioName(got[0]), "scenarioFiles(dir, ^publish)")
	}
}

// TestBroken runs a deliberately broken scenario through labrun's command
// line, in process: it must fail and name its file and line.
func TestBroken(t *testing.T) {
	testkit.RequireLab(t)
	var out bytes.Buffer
	code := run([]string{"testdata/broken"}, &out, &out)
	assert.Equal(t, 1, code, "labrun testdata/broken: exit status")
	for _, want := range []string{
		"FAIL publish-broken (",
		"FAIL: testdata/broken/publish-broken.txt:5: no match for `It does not work` found in stdout",
		"0 passed, 1 failed",
	} {
		assert.Contains(t, out.String(), want, "output lacks")
	}
}
