package classroom

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/labrun/labrun/netkit/world"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/runner"
)

// fragment is a piece of scenario text to run against a lab: an exercise's
// set-up, one check, or a student's answer.
type fragment struct {
	// Display names the fragment's file in messages (FAIL: FILE:LINE).
	Display string
	// Line is the line of Display on which Text starts, so that a
	// failure names the line of the original file.
	Line int
	// Text is the script.
	Text string
	// Files are the txtar files the script can read (golden files, an
	// askpass script, task.txt).
	Files []txtar.File
}

// scriptResult is what running a fragment gave.
type scriptResult struct {
	Passed  bool
	Skipped bool
	// Log is testscript's log: the failing phase's commands and output.
	Log string
	// Failure is the failure message, "FILE:LINE: reason", when it failed.
	Failure string
	// Evidence is the end of the log: the last command before the
	// failure, its output, and the failed assertion.
	Evidence string
	Duration time.Duration
}

// world is the world f's script picks (its first command, world, or its
// world.yaml section; runner.ScriptWorld), its files relative to dir; nil
// for the default.
func (f fragment) world(dir string) (*world.World, error) {
	return runner.ScriptWorld(&txtar.Archive{Comment: []byte(f.Text), Files: f.Files}, dir)
}

// runFragment runs f as a testscript script against lab, with work as its
// directory ($WORK and the current directory; its files are copied there,
// and captures are written there), and returns how it went. The lab is the
// caller's and stays; so do the files.
func runFragment(lab *netkit.Lab, work string, f fragment, timeout time.Duration) scriptResult {
	start := time.Now()
	res := scriptResult{}
	tmp, err := os.MkdirTemp("", "labrun-fragment-")
	if err != nil {
		res.Failure = err.Error()
		return res
	}
	defer os.RemoveAll(tmp)
	base := filepath.Base(f.Display)
	if !strings.HasSuffix(base, ".txt") {
		base += ".txt"
	}
	path := filepath.Join(tmp, base)
	// Blank lines before the text keep the line numbers of the original
	// file in testscript's messages.
	text := strings.Repeat("\n", max(f.Line-1, 0)) + f.Text
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if err := os.WriteFile(path, txtar.Format(&txtar.Archive{Comment: []byte(text), Files: f.Files}), 0o644); err != nil {
		res.Failure = err.Error()
		return res
	}
	p := testscript.Params{
		Files:               []string{path},
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		WorkdirRoot:         tmp,
		Deadline:            time.Now().Add(timeout),
		Setup: func(env *testscript.Env) error {
			if err := copyTree(env.WorkDir, work); err != nil {
				return fmt.Errorf("copying the script's files to %s: %w", work, err)
			}
			env.WorkDir = work
			env.Cd = work
			env.Setenv("WORK", work)
			return nil
		},
	}
	if err := runner.SetupLab(&p, lab); err != nil {
		res.Failure = err.Error()
		return res
	}
	t := runner.NewScriptT("fragment")
	func() {
		defer func() {
			if e := recover(); e != nil && !runner.Stopped(e) {
				t.Fail()
				t.Log(fmt.Sprint("panic: ", e))
			}
		}()
		testscript.RunT(t, p)
	}()
	res.Duration = time.Since(start)
	log := t.Logs()
	if first, rest, ok := strings.Cut(log, "\n"); ok && strings.HasPrefix(first, "WORK=") {
		log = rest // testscript's own work directory, gone with tmp
	}
	res.Log = strings.ReplaceAll(strings.ReplaceAll(log, path, f.Display), work, "$WORK")
	res.Skipped = t.SkippedAny()
	res.Passed = !t.FailedAny()
	if !res.Passed {
		res.Failure, res.Evidence = failureOf(res.Log)
		if res.Failure == "" {
			res.Failure = f.Display + ": failed"
		}
	}
	return res
}

// copyTree copies the files under src (the script's extracted files) into
// dst, replacing files of the same name, and skips testscript's .tmp.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == ".tmp" && d.IsDir() {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
}

// assertions are the testscript commands that check the previous command's
// output rather than do something: evidence starts at the command before
// them.
var assertions = map[string]bool{"stdout": true, "stderr": true, "cmp": true, "cmpenv": true, "grep": true, "exists": true}

// failureOf finds the failure message (after "FAIL: ") and the evidence in
// a failed script's log.
func failureOf(log string) (failure, evidence string) {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	end := -1
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "FAIL: ") {
			end = i
			break
		}
	}
	if end < 0 {
		return "", ""
	}
	failure = strings.TrimPrefix(lines[end], "FAIL: ")
	// Back to the last command that is not an assertion.
	begin := end
	for i := end - 1; i >= 0; i-- {
		l := lines[i]
		if strings.HasPrefix(l, "# ") {
			break
		}
		if cmd, ok := strings.CutPrefix(l, "> "); ok {
			begin = i
			w := strings.Fields(strings.TrimLeft(cmd, "! "))
			if len(w) > 0 && strings.HasPrefix(w[0], "[") {
				w = w[1:]
			}
			if len(w) > 0 && !assertions[w[0]] {
				break
			}
		}
	}
	ev := lines[begin:end]
	const maxLines = 30
	if len(ev) > maxLines {
		ev = append(append(append([]string{}, ev[:maxLines-5]...), "…"), ev[len(ev)-4:]...)
	}
	return failure, strings.Join(ev, "\n")
}
