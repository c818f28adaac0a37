// Command bench runs labrun's benchmark (package runner/bench) on its own,
// for `make bench` until `labrun bench` exists. Like labrun, it re-executes
// itself as the containers' main processes, so it calls initproc.MaybeRun
// first.
package main

import (
	"os"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/runner/bench"
)

func main() {
	initproc.MaybeRun()
	os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr))
}
