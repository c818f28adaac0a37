package runner

import (
	"flag"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/prereq"
)

var update = flag.Bool("update", false, "rewrite the cmp golden sections of the scripts instead of failing")

func TestMain(m *testing.M) {
	// The test binary is also the programs that run inside the labs.
	initproc.MaybeRun()
	os.Exit(m.Run())
}

// requireLab skips a test on a machine that cannot build labs, saying why.
func requireLab(t *testing.T) {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("skipping: cannot create network namespaces (labs need root): %v", err)
	}
	if err := prereq.Err(); err != nil {
		t.Skipf("skipping: this machine cannot build labs:\n%v", err)
	}
}

// scriptParams are the Params every script directory runs with.
func scriptParams(t *testing.T, dir string) testscript.Params {
	p := testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
	}
	if d, ok := t.Deadline(); ok {
		p.Deadline = d
	}
	if err := Setup(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScenarios runs every scenario under scenarios/, as labrun does.
func TestScenarios(t *testing.T) {
	requireLab(t)
	testscript.Run(t, scriptParams(t, "../scenarios"))
}

// TestScripts runs the scripts that exercise each command against a real lab.
func TestScripts(t *testing.T) {
	requireLab(t)
	testscript.Run(t, scriptParams(t, "testdata/script"))
}
