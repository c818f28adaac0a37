package classroom

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
)

const exerciseUsage = `exercise start [-name LAB] FILE   build FILE's lab, run its set-up and print its task
       labrun exercise check [-lab LAB] [-diagram]  run the exercise's checks on the live lab
       labrun exercise task [-lab LAB]   print the task again
       labrun exercise list [DIR]        list the exercises in DIR (default exercises)
       labrun exercise run [-diagram] FILE ANSWER   grade one answer in a lab of its own

An exercise is a scenario file with a task (-- task.txt --), a set-up, and checks
after a "# checks" line, each "# check: TITLE" with "# hint: TEXT" lines
(docs/classroom.md). An ANSWER is a scenario fragment: the commands of the answer.`

// ExerciseMain runs `labrun exercise start|check|task|list|run ...`.
func ExerciseMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "usage: labrun %s\n", exerciseUsage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(stdout, "usage: labrun %s\n", exerciseUsage)
		return 0
	case "start":
		fs := flagSet("exercise start", "exercise start [-name LAB] FILE", stderr)
		name := fs.String("name", "", "the lab's `name` (default: the exercise's name)")
		if code, ok := parseArgs(fs, args[1:], 1, 1); !ok {
			return code
		}
		return up(fs.Arg(0), *name, upOptions{mustBeExercise: true}, stdout, stderr)
	case "check":
		fs := flagSet("exercise check", "exercise check [-lab LAB] [-diagram]", stderr)
		lab := labFlag(fs, "the live `lab`")
		diagram := fs.Bool("diagram", false, "show the lab's topology with every failed check")
		if code, ok := parseArgs(fs, args[1:], 0, 0); !ok {
			return code
		}
		return exerciseCheck(*lab, *diagram, stdout, stderr)
	case "task":
		fs := flagSet("exercise task", "exercise task [-lab LAB]", stderr)
		lab := labFlag(fs, "the live `lab`")
		if code, ok := parse(fs, args[1:]); !ok {
			return code
		}
		name, err := resolveLab(*lab)
		if err != nil {
			fmt.Fprintf(stderr, "labrun exercise task: %v\n", err)
			return 1
		}
		info, err := readInfo(name)
		if err != nil || info.Task == "" {
			fmt.Fprintf(stderr, "labrun exercise task: lab %s was not started from an exercise\n", name)
			return 1
		}
		fmt.Fprint(stdout, info.Task)
		return 0
	case "list":
		dir := "exercises"
		if len(args) > 2 {
			fmt.Fprintln(stderr, "usage: labrun exercise list [DIR]")
			return 2
		}
		if len(args) == 2 {
			dir = args[1]
		}
		xs, err := exerciseFiles(dir)
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		for _, x := range xs {
			fmt.Fprintf(tw, "%s\t%d checks\t%s\n", x.Name, len(x.Checks), x.Title)
		}
		tw.Flush()
		if err != nil {
			fmt.Fprintf(stderr, "labrun exercise list: %v\n", err)
			return 1
		}
		return 0
	case "run":
		fs := flagSet("exercise run", "exercise run [-diagram] FILE ANSWER\n\nRun ANSWER (a scenario fragment) to exercise FILE in a fresh lab: the set-up, the\nanswer, then the checks, as labrun grade does for one student.", stderr)
		diagram := fs.Bool("diagram", false, "show the lab's topology with every failed check")
		if code, ok := parseArgs(fs, args[1:], 2, 2); !ok {
			return code
		}
		x, err := ParseExercise(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(stderr, "labrun: %v\n", err)
			return 2
		}
		an, err := ParseAnswer(fs.Arg(1))
		if err != nil {
			fmt.Fprintf(stderr, "labrun: %v\n", err)
			return 2
		}
		if CannotBuildLabs(stderr) {
			return 1
		}
		r := RunAnswer(x, an, *diagram)
		printResult(stdout, r)
		if r.Status != "pass" {
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "labrun exercise: unknown subcommand %q\nusage: labrun %s\n", args[0], exerciseUsage)
	return 2
}

// exerciseCheck runs the checks of a live exercise lab and prints them as
// they finish.
func exerciseCheck(lab string, diagram bool, stdout, stderr io.Writer) int {
	name, err := resolveLab(lab)
	if err != nil {
		fmt.Fprintf(stderr, "labrun exercise check: %v\n", err)
		return 1
	}
	res := ExerciseResult{}
	if info, err := readInfo(name); err == nil && info.Exercise != "" {
		res.Exercise = info.Exercise
		fmt.Fprintf(stdout, "checking exercise %s in lab %s\n", info.Exercise, name)
	}
	code, err := call(name, request{Op: opCheck, Diagram: diagram}, func(r reply) error {
		if r.Check != nil {
			printCheck(stdout, *r.Check)
			res.Results = append(res.Results, *r.Check)
		}
		return nil
	})
	if err != nil {
		fmt.Fprintf(stderr, "labrun exercise check: %v\n", err)
		return 1
	}
	res.finish()
	fmt.Fprintf(stdout, "%d of %d checks pass\n", res.ChecksPassed, res.Checks)
	if res.Status == "pass" {
		fmt.Fprintln(stdout, "well done: the exercise is solved")
	}
	return code
}

// writeFile writes data to path, making its directory.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
