package main

import (
	"errors"
	"fmt"
	"github.com/labrun/labrun/netkit/names"
	"io"
	"io/fs"
	"os"
	"regexp"

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
	// summary says in one line what it does, for labrun help's list.
	summary string
	// help is its description and flags, after the usage line, for a
	// subcommand that does not print its own on -h; empty when run
	// prints "usage: labrun ..." and its flags for -h (helpText).
	help string
	// run runs it with the arguments after its name and returns the exit
	// status.
	run func(args []string, stdout, stderr io.Writer) int
}

// subcommands are labrun's subcommands, in the order labrun -h lists them.
// Any other command line is a scenario run. Subcommands keep the default
// signal handling.
//
// help and completion, which read the table, get their run in init.
var subcommands = []subcommand{
	{name: "clean", usage: "clean", summary: "remove the labs that -keep left pinned under /run/netns", help: cleanHelp, run: cleanMain},
	{name: "completion", usage: "completion bash|zsh|fish", summary: "print a shell completion script", help: completionHelp},
	{name: "diagram", usage: "diagram [-lab LAB] [-format mermaid|svg|json] [-o FILE] [-trace 'FROM TARGET'] [FILE]", summary: "draw a lab's topology", run: classroom.DiagramMain},
	{name: "docker", usage: "docker ARGS... (in a live lab; LAB from $LABRUN_LAB)", summary: "run a docker command on a live lab's engine", help: dockerHelp("docker ARGS..."), run: classroom.DockerMain("docker")},
	{name: "dockerd", usage: "dockerd FLAGS... (restart a live lab's engine)", summary: "restart a live lab's engine with dockerd FLAGS", help: dockerHelp("dockerd FLAGS..."), run: classroom.DockerMain("dockerd")},
	{name: "down", usage: "down [-all] [LAB...]", summary: "remove live labs", run: classroom.DownMain},
	{name: "exercise", usage: "exercise start|check|task|list|run ...", summary: "start, check and run exercises", run: classroom.ExerciseMain},
	{name: "grade", usage: "grade [-exercises DIR] [-o DIR] [-j N] SUBMISSIONS", summary: "grade a class's answers to the exercises", run: classroom.GradeMain},
	{name: "help", usage: "help [COMMAND]", summary: "describe labrun or one of its commands", help: helpHelp},
	{name: "inspect", usage: "inspect [-format table|json] [LAB]", summary: "list a live lab's nodes and containers", run: classroom.InspectMain},
	{name: "ls", usage: "ls [-v]", summary: "list the live labs", run: classroom.LsMain},
	{name: "reach", usage: "reach [-timeout D] [LAB]", summary: "ping every node and container of a live lab from every other (a matrix)", run: classroom.ReachMain},
	{name: "shell", usage: "shell [-lab LAB] NODE [COMMAND [ARG...]]", summary: "open a shell (or run COMMAND) in a node of a live lab", run: classroom.ShellMain},
	{name: "trace", usage: "trace [-lab LAB] [-timeout D] [-reply] [-json] FROM ADDR:PORT|URL|ping ADDR", summary: "show the way a connection's packets take through a live lab, rule by rule", run: classroom.TraceMain},
	{name: "up", usage: "up [-name LAB] [-keep] [-netns] [-world FILE|NAME] [FILE]", summary: "build a lab and keep it running until labrun down", run: classroom.UpMain},
	{name: "version", usage: "version", summary: "print labrun's version and the commit it was built from", help: versionHelp, run: versionMain},
	{name: "world", usage: "world ls|show|check|line ...", summary: "list, show, check and generate world files", help: worldHelp, run: worldMain},
	// bench measures labrun (docs/performance.md); make bench runs it.
	{name: "bench", summary: "measure labrun against other ways of building labs (make bench)", run: bench.Main},
	// The keeper of a live lab: labrun re-executed by labrun up.
	{name: classroom.KeeperCmd, run: classroom.KeeperMain},
}

func init() {
	for i, s := range subcommands {
		switch s.name {
		case "help":
			subcommands[i].run = helpMain
		case "completion":
			subcommands[i].run = completionMain
		}
	}
}

// lookupSubcommand finds what runs the command line whose first argument
// is name: a subcommand of the table, whose -h, -help and --help (as its
// first argument) print its help on stdout; --version; or, for a word
// that is neither a subcommand nor a file, an error that suggests the
// nearest subcommand. It reports false for a scenario run.
func lookupSubcommand(name string) (subcommand, bool) {
	for _, s := range subcommands {
		if s.name == name {
			return withHelp(s), true
		}
	}
	switch {
	case name == "--version" || name == "-version":
		return subcommand{name: name, run: versionMain}, true
	case isWord(name):
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return subcommand{name: name, run: func(_ []string, _, stderr io.Writer) int {
				return unknownCommand(name, stderr)
			}}, true
		}
	}
	return subcommand{}, false
}

// withHelp wraps s's run so that a first argument -h, -help or --help
// prints s's help on stdout and exits 0.
func withHelp(s subcommand) subcommand {
	if s.name == classroom.KeeperCmd {
		return s
	}
	orig := s
	s.run = func(args []string, stdout, stderr io.Writer) int {
		if len(args) > 0 && isHelpFlag(args[0]) {
			fmt.Fprint(stdout, helpText(orig))
			return 0
		}
		return orig.run(args, stdout, stderr)
	}
	return s
}

// isHelpFlag reports whether arg asks for help.
func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// wordRE is what a subcommand name looks like.
var wordRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// isWord reports whether arg looks like a subcommand (a lowercase word)
// rather than a path or a flag.
func isWord(arg string) bool { return wordRE.MatchString(arg) }

// unknownCommand says that word is no subcommand, suggests the nearest
// one, and returns 2.
func unknownCommand(word string, stderr io.Writer) int {
	fmt.Fprintf(stderr, "labrun: unknown command or file %q\n", word)
	if s := suggest(word); s != "" {
		fmt.Fprintf(stderr, "Did you mean 'labrun %s'?\n", s)
	}
	fmt.Fprintln(stderr, "Run 'labrun help' for the commands and flags, or name an existing scenario file or directory.")
	return 2
}

// suggest returns the listed subcommand nearest to word (names.Nearest),
// "" when none is near.
func suggest(word string) string {
	var listed []string
	for _, s := range subcommands {
		if s.usage != "" {
			listed = append(listed, s.name)
		}
	}
	return names.Nearest(word, listed)
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
