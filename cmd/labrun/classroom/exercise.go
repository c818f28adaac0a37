package classroom

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"
)

// An exercise is a scenario file in three parts (docs/classroom.md):
//
//	# set-up: scenario commands; they may leave the lab broken
//	docker run -d --name web httpd
//
//	# checks
//	# check: The client reaches the page on 192.168.190.128:801.
//	# hint: Publish the container's port 80 on the host's port 801: -p 801:80.
//	http client http://192.168.190.128:801/
//	stdout 'It works!'
//
//	-- task.txt --
//	Publish ... (what the student reads)
//
// The set-up is everything before the line "# checks". Each check starts
// with a "# check: TITLE" line and runs until the next; its "# hint: TEXT"
// lines (one or more) say what to do when it fails, a "# diagram" line
// attaches the lab's topology to its failure, and a "# trace" line the
// trace of the connection it failed at (the rule that dropped it, or the
// rewrite that is missing). The task is the file
// task.txt. An exercise is also a valid scenario: run as one, the checks
// run right after the set-up.
type Exercise struct {
	// Name is the file's base name without .txt: what submissions are
	// named after.
	Name string
	Path string
	// Title is the task's first line.
	Title string
	Task  string
	Setup fragment
	// Checks run one by one, each as a script of its own on the lab.
	Checks []Check
	// Files are the exercise's txtar files (task.txt included).
	Files []txtar.File
}

// Check is one check of an exercise.
type Check struct {
	Title string
	Hints []string
	// Diagram: show the topology when the check fails.
	Diagram bool
	// Trace: when the check fails at a connection (reach, http, ping,
	// ssh), trace it and show the walk as evidence.
	Trace bool
	fragment
}

// Hint is the check's hints as one text.
func (c Check) Hint() string { return strings.Join(c.Hints, " ") }

// errNotExercise: the file has no "# checks" line.
var errNotExercise = errors.New("not an exercise: no \"# checks\" line")

// isChecksLine reports whether line separates the set-up from the checks.
func isChecksLine(line string) bool {
	l := strings.ToLower(strings.TrimSpace(line))
	return l == "# checks" || l == "# checks:"
}

func directive(line, name string) (string, bool) {
	l := strings.TrimSpace(line)
	rest, ok := strings.CutPrefix(l, "# "+name+":")
	if !ok {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// ParseExercise reads an exercise file.
func ParseExercise(path string) (*Exercise, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseExercise(path, b)
}

func parseExercise(path string, data []byte) (*Exercise, error) {
	a := txtar.Parse(data)
	x := &Exercise{Name: strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".txt"), ".txtar"), Path: path, Files: a.Files}
	for _, f := range a.Files {
		if f.Name == "task.txt" {
			x.Task = strings.TrimSpace(string(f.Data)) + "\n"
			x.Title, _, _ = strings.Cut(x.Task, "\n")
		}
	}
	lines := strings.SplitAfter(string(a.Comment), "\n")
	sep := -1
	for i, l := range lines {
		if isChecksLine(l) {
			sep = i
			break
		}
	}
	if sep < 0 {
		return nil, fmt.Errorf("%s: %w", path, errNotExercise)
	}
	if x.Task == "" {
		return nil, fmt.Errorf("%s: an exercise needs a task: a -- task.txt -- section", path)
	}
	x.Setup = fragment{Display: path, Line: 1, Text: strings.Join(lines[:sep], ""), Files: a.Files}
	var cur *Check
	for i := sep + 1; i < len(lines); i++ {
		l := lines[i]
		if title, ok := directive(l, "check"); ok {
			if title == "" {
				return nil, fmt.Errorf("%s:%d: a check needs a title: # check: TITLE", path, i+1)
			}
			x.Checks = append(x.Checks, Check{Title: title, fragment: fragment{Display: path, Line: i + 1, Files: a.Files}})
			cur = &x.Checks[len(x.Checks)-1]
			cur.Text = l
			continue
		}
		trimmed := strings.TrimSpace(l)
		if cur == nil {
			if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
				return nil, fmt.Errorf("%s:%d: a command after # checks must belong to a check (# check: TITLE)", path, i+1)
			}
			continue
		}
		if h, ok := directive(l, "hint"); ok {
			cur.Hints = append(cur.Hints, h)
		}
		if trimmed == "# diagram" {
			cur.Diagram = true
		}
		if trimmed == "# trace" {
			cur.Trace = true
		}
		cur.Text += l
	}
	if len(x.Checks) == 0 {
		return nil, fmt.Errorf("%s: an exercise needs at least one check (# check: TITLE)", path)
	}
	for _, c := range x.Checks {
		if len(c.Hints) == 0 {
			return nil, fmt.Errorf("%s:%d: check %q has no hint (# hint: TEXT)", path, c.Line, c.Title)
		}
		if !hasCommand(c.Text) {
			return nil, fmt.Errorf("%s:%d: check %q has no command", path, c.Line, c.Title)
		}
	}
	return x, nil
}

func hasCommand(text string) bool {
	for _, l := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}

// Answer is what a student hands in for an exercise: a scenario fragment
// (commands as in a scenario, txtar files allowed) that runs after the
// exercise's set-up and before its checks.
type Answer struct {
	fragment
}

// ParseAnswer reads an answer file.
func ParseAnswer(path string) (*Answer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	a := txtar.Parse(b)
	return &Answer{fragment{Display: path, Line: 1, Text: string(a.Comment), Files: a.Files}}, nil
}

// withFiles returns the answer's fragment with the exercise's files too
// (the answer's win on a name clash).
func (an *Answer) withFiles(x *Exercise) fragment {
	f := an.fragment
	seen := map[string]bool{}
	var files []txtar.File
	for _, af := range an.Files {
		seen[af.Name] = true
		files = append(files, af)
	}
	for _, xf := range x.Files {
		if !seen[xf.Name] {
			files = append(files, xf)
		}
	}
	f.Files = files
	return f
}

// exerciseFiles lists the exercises in dir (its .txt files that parse as
// exercises), sorted by name; files that are not exercises are skipped,
// broken exercises are errors.
func exerciseFiles(dir string) ([]*Exercise, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []*Exercise
	var errs []error
	for _, e := range ents {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".txt") || strings.HasSuffix(e.Name(), ".txtar")) {
			continue
		}
		x, err := ParseExercise(filepath.Join(dir, e.Name()))
		if errors.Is(err, errNotExercise) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}
