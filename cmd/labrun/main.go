// Labrun runs scenario files: testscript files that build a network lab on
// the real Linux kernel, start containers with real listeners and check what
// a person would check. See docs/scenarios.md for the language, and
// `labrun -h` for the flags.
//
//	labrun [-v] [-run REGEXP] [-j N] [-keep] [-u] [-timeout D] FILE|DIR...
//	labrun clean
//	labrun up|down|ls|shell|exercise|grade|diagram ...  (docs/classroom.md)
package main

import (
	"os"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/runner"
	// The classroom's subcommands: up, down, ls, shell, exercise, grade,
	// diagram (they register themselves with runner).
	_ "github.com/labrun/labrun/cmd/labrun/classroom"
)

func main() {
	// A labrun binary re-executes itself as the programs that run inside
	// the lab's namespaces; this returns at once in the parent.
	initproc.MaybeRun()
	os.Exit(runner.Main(os.Args[1:]))
}
