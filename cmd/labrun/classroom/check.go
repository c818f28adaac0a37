package classroom

import (
	"fmt"
	"github.com/labrun/labrun/cmd/labrun/topology"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/labrun/labrun/netkit"
)

// Time limits of the scripts of an exercise.
const (
	setupTimeout  = 3 * time.Minute
	answerTimeout = 3 * time.Minute
	checkTimeout  = time.Minute
)

// CheckResult is how one check went.
type CheckResult struct {
	Title  string `json:"title"`
	Passed bool   `json:"passed"`
	// Hint is the check's hint (shown when it failed).
	Hint string `json:"hint"`
	// Failure is "FILE:LINE: reason" of the failed command or assertion.
	Failure string `json:"failure,omitempty"`
	// Evidence is what the check saw: the last command and its output
	// (the probe's error, the rules listed, the address bound instead).
	Evidence string `json:"evidence,omitempty"`
	// Diagram is the lab's topology in Mermaid, for a failed check that
	// asks for it (# diagram) or when asked with -diagram.
	Diagram string `json:"diagram,omitempty"`
	// Topology is the same as data, to draw it as SVG.
	Topology *topology.Topology `json:"-"`
	// DiagramFile is where the SVG picture of the topology was written.
	DiagramFile string  `json:"diagram_file,omitempty"`
	Seconds     float64 `json:"seconds"`
}

// runCheck runs one check against the lab.
func runCheck(lab *netkit.Lab, work string, c Check, diagram bool) CheckResult {
	r := runFragment(lab, work, c.fragment, checkTimeout)
	res := CheckResult{Title: c.Title, Passed: r.Passed, Hint: c.Hint(), Seconds: r.Duration.Seconds()}
	if !r.Passed {
		res.Failure = r.Failure
		res.Evidence = r.Evidence
		if c.Trace {
			if t := traceEvidence(lab, r.Evidence); t != "" {
				res.Evidence += "\n" + t
			}
		}
		if c.Diagram || diagram {
			if top, err := topology.Collect(lab); err == nil {
				top.HighlightIn(r.Evidence)
				res.Topology = top
				res.Diagram = topology.Mermaid(top)
			}
		}
	}
	return res
}

// ExerciseResult is how one answer to one exercise went.
type ExerciseResult struct {
	Exercise string `json:"exercise"`
	Title    string `json:"title"`
	// Status is "pass" (every check passed), "fail", "missing" (no
	// answer handed in) or "error" (the exercise itself failed: its
	// set-up, or the answer could not be read).
	Status       string `json:"status"`
	ChecksPassed int    `json:"checks_passed"`
	Checks       int    `json:"checks"`
	// AnswerFailure is where the answer's own commands failed (the
	// checks still ran).
	AnswerFailure string        `json:"answer_failure,omitempty"`
	Error         string        `json:"error,omitempty"`
	Results       []CheckResult `json:"results,omitempty"`
	Seconds       float64       `json:"seconds"`
}

// finish sets the counts and status from the results.
func (r *ExerciseResult) finish() {
	r.Checks = len(r.Results)
	r.ChecksPassed = 0
	for _, c := range r.Results {
		if c.Passed {
			r.ChecksPassed++
		}
	}
	if r.Status == "" {
		r.Status = "fail"
		if r.ChecksPassed == r.Checks && r.Checks > 0 {
			r.Status = "pass"
		}
	}
}

// RunAnswer runs an answer to x in a fresh lab of its own: the set-up, the
// answer, then each check; the lab is removed afterwards. With diagram,
// every failed check carries the
func RunAnswer(x *Exercise, an *Answer, diagram bool) (res ExerciseResult) {
	start := time.Now()
	res = ExerciseResult{Exercise: x.Name, Title: x.Title}
	defer func() { res.Seconds = time.Since(start).Seconds() }()
	w, err := x.Setup.world(filepath.Dir(x.Path))
	if err != nil {
		res.Status, res.Error = "error", err.Error()
		return res
	}
	lab, err := netkit.NewLab(netkit.LabOptions{Name: x.Name, World: w})
	if err != nil {
		res.Status, res.Error = "error", fmt.Sprintf("making the lab: %v", err)
		return res
	}
	defer lab.Close()
	work, err := os.MkdirTemp("", "labrun-grade-")
	if err != nil {
		res.Status, res.Error = "error", err.Error()
		return res
	}
	defer os.RemoveAll(work)
	if r := runFragment(lab, work, x.Setup, setupTimeout); !r.Passed {
		res.Status, res.Error = "error", "the exercise's set-up failed: "+r.Failure
		return res
	}
	if an != nil {
		if r := runFragment(lab, work, an.withFiles(x), answerTimeout); !r.Passed {
			res.AnswerFailure = r.Failure
		}
	}
	for _, c := range x.Checks {
		res.Results = append(res.Results, runCheck(lab, work, c, diagram))
	}
	res.finish()
	return res
}

// printResult prints an exercise's result for a person: a line per check,
// and for a failed check its hint and evidence.
func printResult(w io.Writer, r ExerciseResult) {
	switch r.Status {
	case "error":
		fmt.Fprintf(w, "ERROR %s: %s\n", r.Exercise, r.Error)
		return
	case "missing":
		fmt.Fprintf(w, "MISSING %s: no answer handed in\n", r.Exercise)
		return
	}
	fmt.Fprintf(w, "exercise %s: %d of %d checks pass\n", r.Exercise, r.ChecksPassed, r.Checks)
	if r.AnswerFailure != "" {
		fmt.Fprintf(w, "  (the answer's own commands failed at %s)\n", r.AnswerFailure)
	}
	for _, c := range r.Results {
		printCheck(w, c)
	}
}

// printCheck prints one check: PASS or FAIL and its title; for a failure,
// the hint, the reason and the evidence, indented, and the topology: the
// file of its picture, or else its Mermaid text.
func printCheck(w io.Writer, c CheckResult) {
	if c.Passed {
		fmt.Fprintf(w, "PASS  %s\n", c.Title)
		return
	}
	fmt.Fprintf(w, "FAIL  %s\n", c.Title)
	fmt.Fprintf(w, "      hint: %s\n", c.Hint)
	if c.Failure != "" {
		fmt.Fprintf(w, "      failed: %s\n", c.Failure)
	}
	if c.Evidence != "" {
		fmt.Fprintf(w, "      evidence:\n%s", indent(c.Evidence, "        "))
	}
	switch {
	case c.DiagramFile != "":
		fmt.Fprintf(w, "      topology: %s\n", c.DiagramFile)
	case c.Diagram != "":
		fmt.Fprintf(w, "      topology (Mermaid):\n%s", indent(c.Diagram, "        "))
	}
}

func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}
