package testkit

import (
	"testing"

	"github.com/labrun/labrun/netkit/initproc"
)

// Main is the TestMain of a package whose tests start containers: the test
// binary is also the programs that run inside the labs (initproc re-executes
// it), so it first becomes the program it was started as, if any, then runs
// the tests. Register initproc programs before calling it.
func Main(m *testing.M) {
	initproc.MaybeRun()
	m.Run()
}
