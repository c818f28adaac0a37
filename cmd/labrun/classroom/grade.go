package classroom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/labrun/labrun/cmd/labrun/topology"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/labrun/labrun/cmd/labrun/junit"
)

// Submissions are laid out as DIR/STUDENT/EXERCISE.txt: one directory per
// student, one answer per exercise, named after the exercise's file. An
// answer is a scenario fragment (see Answer).
//
// The exercises graded are those that any student handed in: a student who
// lacks one of them gets it as "missing".

// StudentReport is one student's grades.
type StudentReport struct {
	Student string `json:"student"`
	// Passed counts the exercises whose checks all passed, of Total.
	Passed       int              `json:"passed"`
	Total        int              `json:"total"`
	ChecksPassed int              `json:"checks_passed"`
	Checks       int              `json:"checks"`
	Exercises    []ExerciseResult `json:"exercises"`
}

// GradeReport is a class's grades.
type GradeReport struct {
	Generated time.Time       `json:"generated"`
	Exercises []string        `json:"exercises"`
	Students  []StudentReport `json:"students"`
}

// GradeMain runs `labrun grade [-exercises DIR] [-o DIR] [-j N] SUBMISSIONS`.
func GradeMain(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("grade", "grade [-exercises DIR] [-o DIR] [-j N] SUBMISSIONS\n\nGrade a class: SUBMISSIONS/STUDENT/EXERCISE.txt is STUDENT's answer to exercise\nEXERCISE (exercises/EXERCISE.txt), a scenario fragment. Each answer runs in a lab of its\nown (the set-up, the answer, the checks), in parallel. Prints a summary and writes\nreport.json, junit.xml and STUDENT.json / STUDENT.xml per student to the -o directory.", stderr)
	exDir := fs.String("exercises", "exercises", "the `directory` of the exercise files")
	outDir := fs.String("o", "grades", "the `directory` the reports are written to")
	jobs := fs.Int("j", runtime.GOMAXPROCS(0), "grade at most `n` answers at once")
	diagram := fs.Bool("diagram", false, "attach the topology (Mermaid, and an SVG file) to every failed check")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 || *jobs < 1 {
		fs.Usage()
		return 2
	}
	xs, err := exerciseFiles(*exDir)
	if err != nil && len(xs) == 0 {
		fmt.Fprintf(stderr, "labrun grade: %v\n", err)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "labrun grade: some exercises are broken and not graded:\n%s", indent(err.Error(), "  "))
	}
	if CannotBuildLabs(stderr) {
		return 1
	}
	rep, err := Grade(fs.Arg(0), xs, *jobs, *diagram, func(student string, r ExerciseResult) {
		fmt.Fprintf(stderr, "graded %s/%s: %s (%d/%d checks, %.1fs)\n", student, r.Exercise, r.Status, r.ChecksPassed, r.Checks, r.Seconds)
	})
	if err != nil {
		fmt.Fprintf(stderr, "labrun grade: %v\n", err)
		return 2
	}
	if err := writeReports(*outDir, rep); err != nil {
		fmt.Fprintf(stderr, "labrun grade: writing the reports: %v\n", err)
		return 1
	}
	printSummary(stdout, rep)
	fmt.Fprintf(stdout, "reports: %s (report.json, junit.xml, and STUDENT.json, STUDENT.xml)\n", *outDir)
	return 0
}

// Grade grades the submissions in dir against the exercises xs, running at
// most jobs answers at once, each in a lab of its own. progress, when set,
// is called as each answer is graded (from several goroutines, one at a
// time).
func Grade(dir string, xs []*Exercise, jobs int, diagram bool, progress func(student string, r ExerciseResult)) (*GradeReport, error) {
	byName := map[string]*Exercise{}
	for _, x := range xs {
		byName[x.Name] = x
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type job struct {
		student string
		x       *Exercise
		path    string // "" when missing
		err     string
	}
	var students []string
	handed := map[string]map[string]string{} // student -> exercise -> path
	extra := map[string][]string{}           // student -> files that are no exercise's
	used := map[string]bool{}
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		st := e.Name()
		students = append(students, st)
		handed[st] = map[string]string{}
		files, err := os.ReadDir(filepath.Join(dir, st))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			n := f.Name()
			if f.IsDir() || !strings.HasSuffix(n, ".txt") {
				continue
			}
			ex := strings.TrimSuffix(n, ".txt")
			if byName[ex] == nil {
				extra[st] = append(extra[st], n)
				continue
			}
			handed[st][ex] = filepath.Join(dir, st, n)
			used[ex] = true
		}
	}
	if len(students) == 0 {
		return nil, fmt.Errorf("no student directories in %s (want %s/STUDENT/EXERCISE.txt)", dir, dir)
	}
	sort.Strings(students)
	rep := &GradeReport{Generated: time.Now().UTC().Round(time.Second)}
	for _, x := range xs {
		if used[x.Name] {
			rep.Exercises = append(rep.Exercises, x.Name)
		}
	}
	var jobsList []job
	for _, st := range students {
		for _, ex := range rep.Exercises {
			jobsList = append(jobsList, job{student: st, x: byName[ex], path: handed[st][ex]})
		}
		for _, n := range extra[st] {
			jobsList = append(jobsList, job{student: st, path: filepath.Join(dir, st, n), err: fmt.Sprintf("%s: no exercise of that name in the exercises directory", n)})
		}
	}
	results := make([]ExerciseResult, len(jobsList))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	var pmu sync.Mutex
	for i, j := range jobsList {
		wg.Go(func() {
			var r ExerciseResult
			switch {
			case j.err != "":
				r = ExerciseResult{Exercise: strings.TrimSuffix(filepath.Base(j.path), ".txt"), Status: "error", Error: j.err}
			case j.path == "":
				r = ExerciseResult{Exercise: j.x.Name, Title: j.x.Title, Status: "missing", Checks: len(j.x.Checks)}
			default:
				an, err := ParseAnswer(j.path)
				if err != nil {
					r = ExerciseResult{Exercise: j.x.Name, Title: j.x.Title, Status: "error", Error: err.Error()}
					break
				}
				sem <- struct{}{}
				r = RunAnswer(j.x, an, diagram)
				<-sem
				if r.Status == "error" {
					// The set-up failing is the exercise's fault, not
					// the student's: say so.
					r.Error = "not graded: " + r.Error
				}
			}
			results[i] = r
			if progress != nil {
				pmu.Lock()
				progress(j.student, r)
				pmu.Unlock()
			}
		})
	}
	wg.Wait()
	idx := 0
	for _, st := range students {
		sr := StudentReport{Student: st}
		for idx < len(jobsList) && jobsList[idx].student == st {
			r := results[idx]
			sr.Exercises = append(sr.Exercises, r)
			sr.Total++
			sr.Checks += r.Checks
			sr.ChecksPassed += r.ChecksPassed
			if r.Status == "pass" {
				sr.Passed++
			}
			idx++
		}
		rep.Students = append(rep.Students, sr)
	}
	return rep, nil
}

// printSummary prints a line per student, then each failed check with its
// hint.
func printSummary(w io.Writer, rep *GradeReport) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "STUDENT\tEXERCISES\tCHECKS\tNOT PASSED")
	for _, s := range rep.Students {
		var bad []string
		for _, r := range s.Exercises {
			if r.Status != "pass" {
				bad = append(bad, fmt.Sprintf("%s (%s)", r.Exercise, r.Status))
			}
		}
		if len(bad) == 0 {
			bad = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%d/%d\t%s\n", s.Student, s.Passed, s.Total, s.ChecksPassed, s.Checks, strings.Join(bad, ", "))
	}
	tw.Flush()
	for _, s := range rep.Students {
		for _, r := range s.Exercises {
			if r.Status == "pass" {
				continue
			}
			fmt.Fprintf(w, "\n%s: ", s.Student)
			printResult(w, r)
		}
	}
	fmt.Fprintln(w)
}

// writeReports writes report.json and junit.xml for the class, and
// STUDENT.json and STUDENT.xml per student, into dir; and the SVG pictures
// of failed checks' topologies as STUDENT/EXERCISE-check-N.svg.
func writeReports(dir string, rep *GradeReport) error {
	for si := range rep.Students {
		s := &rep.Students[si]
		for ei := range s.Exercises {
			r := &s.Exercises[ei]
			for ci := range r.Results {
				c := &r.Results[ci]
				if c.Topology == nil {
					continue
				}
				p := filepath.Join(dir, s.Student, fmt.Sprintf("%s-check-%d.svg", r.Exercise, ci+1))
				if err := writeFile(p, []byte(topology.SVG(c.Topology))); err != nil {
					return err
				}
				c.DiagramFile = p
			}
		}
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "report.json"), append(b, '\n')); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "junit.xml"), JUnit(rep.Students...)); err != nil {
		return err
	}
	for _, s := range rep.Students {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dir, s.Student+".json"), append(b, '\n')); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dir, s.Student+".xml"), JUnit(s)); err != nil {
			return err
		}
	}
	return nil
}

// JUnit XML, as CI systems read it (Jenkins, GitLab): a test suite per
// student, a test case per check of each exercise (classname
// STUDENT.EXERCISE); a missing answer or an exercise that could not run is
// one failed (or erroring) test case.
// JUnit renders students' reports as JUnit XML.
func JUnit(students ...StudentReport) []byte {
	all := junit.Suites{Name: "labrun grade"}
	for _, s := range students {
		suite := junit.Suite{Name: s.Student}
		var secs float64
		for _, r := range s.Exercises {
			secs += r.Seconds
			class := s.Student + "." + r.Exercise
			switch r.Status {
			case "missing":
				suite.Cases = append(suite.Cases, junit.Case{Name: r.Exercise, Classname: class, Time: "0",
					Failure: &junit.Message{Message: "no answer handed in", Type: "missing"}})
				suite.Failures++
				continue
			case "error":
				suite.Cases = append(suite.Cases, junit.Case{Name: r.Exercise, Classname: class, Time: fmt.Sprintf("%.3f", r.Seconds),
					Error: &junit.Message{Message: r.Error, Type: "error"}})
				suite.Errors++
				continue
			}
			for _, c := range r.Results {
				tc := junit.Case{Name: c.Title, Classname: class, Time: fmt.Sprintf("%.3f", c.Seconds)}
				if !c.Passed {
					text := c.Failure + "\n" + c.Evidence
					if r.AnswerFailure != "" {
						text += "\n(the answer's own commands failed at " + r.AnswerFailure + ")"
					}
					tc.Failure = &junit.Message{Message: "hint: " + c.Hint, Type: "check", Text: text}
					suite.Failures++
				}
				suite.Cases = append(suite.Cases, tc)
			}
		}
		suite.Tests = len(suite.Cases)
		suite.Time = fmt.Sprintf("%.3f", secs)
		all.Tests += suite.Tests
		all.Failures += suite.Failures
		all.Errors += suite.Errors
		all.Suites = append(all.Suites, suite)
	}
	var b bytes.Buffer
	junit.Write(&b, all)
	return b.Bytes()
}
