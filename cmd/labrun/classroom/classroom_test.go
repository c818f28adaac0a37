package classroom

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/cmd/labrun/junit"
	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/testkit"
)

func TestMain(m *testing.M) {
	// The test binary is also the programs that run inside the labs.
	initproc.MaybeRun()
	code := m.Run()
	if labrunBin != "" {
		os.RemoveAll(filepath.Dir(labrunBin))
	}
	os.Exit(code)
}

const sampleExercise = `# A sample.
dockerd

# checks

# check: First.
# hint: Do the first thing.
# hint: Really.
docker ps
stdout web

# A phase comment inside a check.
# check: Second.
# hint: Do the second thing.
# diagram
# trace
reach client 192.168.190.128:80

-- task.txt --
Do things.

Carefully.
-- golden --
x
`

func TestParseExercise(t *testing.T) {
	x, err := parseExercise("dir/sample.txt", []byte(sampleExercise))
	require.NoError(t, err)
	assert.Equal(t, "sample", x.Name, "name")
	assert.Equal(t, "Do things.", x.Title, "title")
	assert.True(t, strings.HasSuffix(x.Task, "Carefully.\n"), "task %q", x.Task)
	assert.Contains(t, x.Setup.Text, "dockerd", "set-up")
	assert.NotContains(t, x.Setup.Text, "docker ps", "set-up")
	require.Len(t, x.Checks, 2, "checks")
	c0, c1 := x.Checks[0], x.Checks[1]
	assert.Equal(t, "First.", c0.Title, "check 0: title")
	assert.Equal(t, "Do the first thing. Really.", c0.Hint(), "check 0: hint")
	assert.False(t, c0.Diagram, "check 0: diagram")
	assert.Equal(t, 6, c0.Line, "check 0: line")
	if !strings.Contains(c0.Text, "# A phase comment inside a check.") {
		t.Errorf("check 0 text %q lost its trailing comment", c0.Text)
	}
	assert.Equal(t, "Second.", c1.Title, "check 1: title")
	assert.True(t, c1.Diagram, "check 1: diagram")
	assert.True(t, c1.Trace, "check 1: trace")
	assert.False(t, c0.Trace, "check 0: trace")
	assert.Equal(t, 13, c1.Line, "check 1: line")
	assert.True(t, strings.HasPrefix(c1.Text, "# check: Second."), "check 1: text %q", c1.Text)
	assert.Len(t, c1.Files, 2, "check 1: the exercise's files")
}

func TestParseExerciseErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"no checks line", "dockerd\n-- task.txt --\nx\n", "no \"# checks\" line"},
		{"no task", "dockerd\n# checks\n# check: a\n# hint: b\ndocker ps\n", "needs a task"},
		{"no check", "dockerd\n# checks\n-- task.txt --\nx\n", "at least one check"},
		{"stray command", "# checks\ndocker ps\n# check: a\n# hint: b\ndocker ps\n-- task.txt --\nx\n", ":2: a command after # checks must belong to a check"},
		{"no hint", "# checks\n# check: a\ndocker ps\n-- task.txt --\nx\n", "check \"a\" has no hint"},
		{"no command", "# checks\n# check: a\n# hint: b\n-- task.txt --\nx\n", "check \"a\" has no command"},
		{"no title", "# checks\n# check:\n# hint: b\ndocker ps\n-- task.txt --\nx\n", "a check needs a title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseExercise("x.txt", []byte(tc.text))
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestFailureOf(t *testing.T) {
	log := `# check: Both ports are published. (0.020s)
> docker port web
[stdout]
80/tcp -> 0.0.0.0:801

> stdout '^80/tcp'
> stdout '^22/tcp'
FAIL: ex.txt:31: no match for ` + "`^22/tcp`" + ` found in stdout
`
	failure, evidence := failureOf(log)
	assert.Equal(t, "ex.txt:31: no match for `^22/tcp` found in stdout", failure, "failure")
	want := "> docker port web\n[stdout]\n80/tcp -> 0.0.0.0:801\n\n> stdout '^80/tcp'\n> stdout '^22/tcp'"
	assert.Equal(t, want, evidence, "evidence")
	failure, evidence = failureOf("PASS\n")
	assert.Empty(t, failure, "a passing log's failure")
	assert.Empty(t, evidence, "a passing log's evidence")
}

func TestDefaultName(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "lab",
		"exercises/publish_host_port.txt": "publish_host_port",
		"a b/c d.txtar":                   "c_d",
		"/x/.hidden.txt":                  "hidden",
	} {
		assert.Equal(t, want, defaultName(in), "defaultName(%q)", in)
		assert.NoError(t, checkName(defaultName(in)), "checkName(defaultName(%q))", in)
	}
	assert.Error(t, checkName("../etc"), "checkName accepts a path")
	assert.Error(t, checkName(""), "checkName accepts an empty name")
}

func TestJUnit(t *testing.T) {
	rep := StudentReport{Student: "ann", Exercises: []ExerciseResult{
		{Exercise: "a", Status: "pass", Results: []CheckResult{{Title: "one", Passed: true}}},
		{Exercise: "b", Status: "fail", Results: []CheckResult{{Title: "two", Hint: "do <this>", Failure: "b.txt:3: no", Evidence: "> reach"}}},
		{Exercise: "c", Status: "missing"},
		{Exercise: "d", Status: "error", Error: "set-up failed"},
	}}
	var got junit.Suites
	require.NoError(t, xml.Unmarshal(JUnit(rep), &got))
	assert.Equal(t, 4, got.Tests, "tests")
	assert.Equal(t, 2, got.Failures, "failures")
	assert.Equal(t, 1, got.Errors, "errors")
	require.Len(t, got.Suites, 1, "suites")
	c := got.Suites[0].Cases[1]
	if c.Classname != "ann.b" || c.Failure == nil || c.Failure.Message != "hint: do <this>" || !strings.Contains(c.Failure.Text, "> reach") {
		t.Errorf("failed case %+v", c)
	}
}

// wantHint reads the "# want-hint: TEXT" line of a wrong answer.
func wantHint(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if h, ok := directive(l, "want-hint"); ok {
			return h
		}
	}
	t.Fatalf("%s has no # want-hint: line", path)
	return ""
}

// TestExercises grades the reference solutions and the wrong answers of
// testdata/exercises as two students of a class, through Grade, as labrun
// grade does: every exercise has both; the solutions pass every check; each
// wrong answer fails, and a failed check carries the hint its want-hint
// line names. The reports are written and read back.
func TestExercises(t *testing.T) {
	xs, err := exerciseFiles("../../../exercises")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(xs), 8, "exercises in exercises/")
	subs := "../../../testdata/exercises"
	for _, x := range xs {
		for _, st := range []string{"solution", "wrong"} {
			assert.FileExists(t, filepath.Join(subs, st, x.Name+".txt"), "exercise %s has no %s answer", x.Name, st)
		}
	}
	testkit.RequireLab(t)
	rep, err := Grade(subs, xs, 4, false, func(student string, r ExerciseResult) {
		t.Logf("graded %s/%s: %s (%d/%d checks, %.1fs)", student, r.Exercise, r.Status, r.ChecksPassed, r.Checks, r.Seconds)
	})
	require.NoError(t, err)
	for _, s := range rep.Students {
		for _, r := range s.Exercises {
			var out strings.Builder
			printResult(&out, r)
			switch s.Student {
			case "solution":
				if r.Status != "pass" || r.AnswerFailure != "" {
					t.Errorf("the reference solution of %s does not pass:\n%s", r.Exercise, out.String())
				}
			case "wrong":
				hint := wantHint(t, filepath.Join(subs, "wrong", r.Exercise+".txt"))
				found := false
				for _, c := range r.Results {
					if !c.Passed && strings.Contains(c.Hint, hint) && c.Evidence != "" {
						found = true
					}
				}
				if r.Status != "fail" || !found {
					t.Errorf("the wrong answer to %s does not fail with the hint %q:\n%s", r.Exercise, hint, out.String())
				}
			default:
				t.Errorf("unexpected student %q in %s", s.Student, subs)
			}
		}
	}
	dir := t.TempDir()
	require.NoError(t, writeReports(dir, rep))
	var back GradeReport
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &back), "report.json")
	require.Len(t, back.Students, 2, "report.json: students")
	for _, f := range []string{"junit.xml", "solution.json", "solution.xml", "wrong.json", "wrong.xml"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	var ju junit.Suites
	b, _ = os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err := xml.Unmarshal(b, &ju); err != nil || len(ju.Suites) != 2 || ju.Suites[0].Failures != 0 || ju.Suites[1].Failures == 0 {
		t.Errorf("junit.xml: %v %+v", err, ju)
	}
}
