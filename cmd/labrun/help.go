package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/labrun/labrun/cmd/labrun/classroom"
)

// The help of the subcommands that do not print their own on -h.
const (
	cleanHelp = `Remove every lab that labrun -keep left pinned under /run/netns (after a failed
scenario), and the work directories it kept.
`
	helpHelp = `Describe labrun (its scenario runs, flags and commands), or COMMAND: its usage,
what it does and its flags. The same text is printed by labrun COMMAND -h (or
-help, --help). labrun help -man prints it all as a man page (labrun.1, which
make install installs).
`
)

// dockerHelp is the help of labrun docker and labrun dockerd (usage is
// their synopsis).
func dockerHelp(usage string) string {
	return `Run ` + usage + ` on a live lab's engine, as the same command in one of the
lab's shells (labrun shell) does: the lab is $LABRUN_LAB, or the only live lab.
docker run -it, exec -it and attach attach this terminal, as Docker's CLI
does (Ctrl-P Ctrl-Q detaches). The lab's docker and dockerd are
labrun's own, faithful to Docker's: docs/scenarios.md lists the subcommands
and flags they take.
`
}

// helpMain runs labrun help [-man] [COMMAND].
func helpMain(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(stdout, topHelp())
		fmt.Fprint(stdout, "\nCommands:\n")
		for _, s := range subcommands {
			if s.usage != "" {
				fmt.Fprintf(stdout, "  %-11s %s\n", s.name, s.summary)
			}
		}
		fmt.Fprint(stdout, "\nRun 'labrun help COMMAND' (or labrun COMMAND -h) for a command's usage and flags.\n")
		return 0
	case len(args) == 1 && args[0] == "-man":
		fmt.Fprint(stdout, manPage())
		return 0
	case len(args) == 1 && !strings.HasPrefix(args[0], "-"):
		for _, s := range subcommands {
			if s.name == args[0] && s.name != classroom.KeeperCmd {
				fmt.Fprint(stdout, helpText(s))
				return 0
			}
		}
		fmt.Fprintf(stderr, "labrun help: unknown command %q\n", args[0])
		if s := suggest(args[0]); s != "" {
			fmt.Fprintf(stderr, "Did you mean 'labrun help %s'?\n", s)
		}
		fmt.Fprintln(stderr, "Run 'labrun help' for the commands.")
		return 2
	}
	fmt.Fprintln(stderr, "usage: labrun help [-man] [COMMAND]")
	return 2
}

// topHelp is labrun -h's text: the scenario run's usage and flags, as the
// scenario run prints them.
func topHelp() string {
	var b bytes.Buffer
	runScenarios([]string{"-h"}, &b, &b, &labSet{})
	return b.String()
}

// helpText is s's help: "usage: labrun USAGE", a description and its
// flags. A subcommand without help in the table prints its own for -h.
func helpText(s subcommand) string {
	if s.help != "" {
		return "usage: labrun " + s.usage + "\n\n" + s.help
	}
	var b bytes.Buffer
	s.run([]string{"-h"}, &b, &b)
	return b.String()
}

// helpDoc is a help text in parts, for the man page and the completion
// scripts.
type helpDoc struct {
	usage []string   // the synopses, without "usage: " and the indent
	paras []string   // the description's paragraphs
	flags []flagHelp // the flags, as flag.PrintDefaults lists them
}

// flagHelp is one flag of a help text.
type flagHelp struct {
	name string // without the dash
	term string // "-name value"
	text string
}

// parseHelp splits a help text: usage lines ("usage: labrun ..." and the
// "       labrun ..." that follow), description paragraphs, and flags
// ("  -name value" lines, each followed by "    \t" description lines).
func parseHelp(text string) helpDoc {
	var d helpDoc
	var para []string
	endPara := func() {
		if len(para) > 0 {
			d.paras = append(d.paras, strings.Join(para, "\n"))
			para = nil
		}
	}
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "usage: "):
			d.usage = append(d.usage, strings.TrimPrefix(strings.TrimPrefix(line, "usage: "), "labrun "))
		case strings.HasPrefix(line, "       ") && len(d.usage) > 0 && len(d.paras) == 0 && len(para) == 0:
			d.usage = append(d.usage, strings.TrimPrefix(strings.TrimSpace(line), "labrun "))
		case strings.HasPrefix(line, "  -"):
			endPara()
			// A one-letter boolean flag has its text on the same
			// line, after a tab.
			term, text, _ := strings.Cut(strings.TrimSpace(line), "\t")
			term = strings.TrimSpace(term)
			name, _, _ := strings.Cut(strings.TrimPrefix(term, "-"), " ")
			d.flags = append(d.flags, flagHelp{name: name, term: term, text: strings.TrimSpace(text)})
		case strings.HasPrefix(line, "    \t") && len(d.flags) > 0:
			f := &d.flags[len(d.flags)-1]
			f.text = strings.TrimSpace(f.text + " " + strings.TrimSpace(line))
		case strings.TrimSpace(line) == "":
			endPara()
		case line == "Flags:":
		default:
			para = append(para, line)
		}
	}
	endPara()
	return d
}
