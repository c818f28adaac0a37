// Labrun runs scenario files: testscript files that build a network lab on
// the real Linux kernel, start containers with real listeners and check what
// a person would check. See docs/scenarios.md for the language, and
// `labrun -h` for the flags.
//
//	labrun [-v] [-run REGEXP] [-j N] [-keep] [-u] [-timeout D] FILE|DIR...
//	labrun clean
//	labrun up|down|ls|shell|exercise|grade|diagram ...  (docs/classroom.md)
//	labrun bench  (docs/performance.md)
//	labrun help [COMMAND] | version | completion bash|zsh|fish
//
// This package is labrun's whole command line: flags, the scenario runs
// (run.go, runt.go: testscript.RunT with a testscript.T of its own, in
// parallel), the subcommand table (subcommands.go: -h on each, unknown
// words with a suggestion), labrun help and its man page (help.go, man.go:
// both from the usage texts the commands print for -h), version.go,
// completion.go, exit statuses and signals (interrupt.go). The scenario language is package runner's, and it
// runs the same under go test; what the command line adds (-keep,
// -pcap-dir, closing the labs on a signal) goes through runner.Options. The
// applications live below it: cmd/labrun/classroom and cmd/labrun/bench,
// which subcommands run, and cmd/labrun/fidelity, which make fidelity runs.
package main

import (
	"fmt"
	"os"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/userns"
)

func main() {
	// A labrun binary re-executes itself as the programs that run inside
	// the lab's namespaces; this returns at once in the parent.
	initproc.MaybeRun()
	userns.MaybeWait()
	if needsUserns(os.Args[1:]) {
		// An ordinary user: labrun runs again as root of a user namespace
		// of its own (netkit/userns), where it builds its labs.
		code, err := userns.Reexec(os.Args[1:])
		if err != nil {
			fmt.Fprintf(os.Stderr, "labrun: %v\n", err)
		}
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// needsUserns reports whether labrun, run with args, must run again in a
// user namespace: as an ordinary user, for anything but its help, version
// and completion.
func needsUserns(args []string) bool {
	if len(args) > 0 {
		switch args[0] {
		case "help", "-h", "-help", "--help", "version", "--version", "completion":
			return false
		}
	}
	return userns.Needed()
}
