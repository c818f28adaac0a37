// Gendocs writes the scenario language reference, docs/scenarios.md, from
// runner's command table. It is run by `go generate ./runner`.
//
//	gendocs FILE
package main

import (
	"log"
	"os"

	"github.com/labrun/labrun/runner"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) != 2 {
		log.Fatal("usage: gendocs FILE")
	}
	if err := os.WriteFile(os.Args[1], []byte(runner.Markdown()), 0o644); err != nil {
		log.Fatalf("gendocs: %v", err)
	}
}
