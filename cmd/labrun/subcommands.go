package main

import (
	"fmt"
	"io"

	"github.com/labrun/labrun/cmd/labrun/bench"
	"github.com/labrun/labrun/cmd/labrun/classroom"
)

// subcommand is a labrun command line that does not run scenarios: its
// first argument names it.
type subcommand struct {
	// name is the first argument that selects the subcommand.
	name string
	// usage is its synopsis after "labrun ", listed by labrun -h; empty
	// for a hidden subcommand.
	usage string
	// run runs it with the arguments after its name and returns the exit
	// status.
	run func(args []string, stdout, stderr io.Writer) int
}

// subcommands are labrun's subcommands, in the order labrun -h lists them.
// Any other command line is a scenario run. Subcommands keep the default
// signal handling.
var subcommands = []subcommand{
	{name: "clean", usage: "clean", run: cleanMain},
	{name: "diagram", usage: "diagram [-lab LAB] [-format mermaid|svg|json] [-o FILE] [FILE]", run: classroom.DiagramMain},
	{name: "docker", usage: "docker ARGS... (in a live lab; LAB from $LABRUN_LAB)", run: classroom.DockerMain("docker")},
	{name: "dockerd", usage: "dockerd FLAGS... (restart a live lab's engine)", run: classroom.DockerMain("dockerd")},
	{name: "down", usage: "down [-all] [LAB...]", run: classroom.DownMain},
	{name: "exercise", usage: "exercise start|check|task|list|run ...", run: classroom.ExerciseMain},
	{name: "grade", usage: "grade [-exercises DIR] [-o DIR] [-j N] SUBMISSIONS", run: classroom.GradeMain},
	{name: "ls", usage: "ls [-v]", run: classroom.LsMain},
	{name: "shell", usage: "shell [-lab LAB] NODE [COMMAND [ARG...]]", run: classroom.ShellMain},
	{name: "up", usage: "up [-name LAB] [-keep] [FILE]", run: classroom.UpMain},
	// bench measures labrun (docs/performance.md); make bench runs it.
	{name: "bench", run: bench.Main},
	// The keeper of a live lab: labrun re-executed by labrun up.
	{name: classroom.KeeperCmd, run: classroom.KeeperMain},
}

// lookupSubcommand finds a subcommand by name.
func lookupSubcommand(name string) (subcommand, bool) {
	for _, s := range subcommands {
		if s.name == name {
			return s, true
		}
	}
	return subcommand{}, false
}

// subcommandUsage lists the subcommands' synopses, one a line each ending
// in a newline, for labrun's usage text.
func subcommandUsage() string {
	var s string
	for _, c := range subcommands {
		if c.usage != "" {
			s += fmt.Sprintf("       labrun %s\n", c.usage)
		}
	}
	return s
}
