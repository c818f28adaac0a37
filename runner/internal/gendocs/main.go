// Gendocs writes the scenario language reference, docs/scenarios.md, from
// runner's command table. It is run by `go generate ./runner`.
//
//	gendocs FILE
package main

import (
	"fmt"
	"os"

	"github.com/labrun/labrun/runner"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs FILE")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], []byte(runner.Markdown()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
