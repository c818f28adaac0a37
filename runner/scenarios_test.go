package runner

import (
	"flag"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/testkit"
	"github.com/labrun/labrun/runner/dockercli"
)

var update = flag.Bool("update", false, "rewrite the cmp golden sections of the scripts instead of failing")

func TestMain(m *testing.M) { testkit.Main(m) }

// scriptParams returns p (the scripts, Dir or Files, and any commands of
// the test's own) set up as every script run of these tests is: explicit
// exec, unique names, the test's deadline, and labrun's commands and
// conditions (SetupWith o).
func scriptParams(t *testing.T, p testscript.Params, o Options) testscript.Params {
	t.Helper()
	p.RequireExplicitExec, p.RequireUniqueNames = true, true
	if d, ok := t.Deadline(); ok {
		p.Deadline = d
	}
	require.NoError(t, SetupWith(&p, o))
	return p
}

// dirParams are the Params of the scripts in dir, whose cmp golden
// sections -update rewrites.
func dirParams(t *testing.T, dir string) testscript.Params {
	return scriptParams(t, testscript.Params{Dir: dir, UpdateScripts: *update}, Options{})
}

// TestScenarios runs every scenario under scenarios/, as labrun does.
func TestScenarios(t *testing.T) {
	testkit.RequireLab(t)
	testscript.Run(t, dirParams(t, "../scenarios"))
}

// scenarioEras are the engines, besides the default (era 27, which
// TestScenarios runs), that every scenario must pass under: each era's
// rules, MACs and CLI formats, and 29's nftables back end. Each entry is a
// value of $LABRUN_DOCKERD.
var scenarioEras = []string{
	"--compat=20.10",
	"--compat=28",
	"--compat=29",
	"--compat=29 --firewall-backend=nftables",
}

// TestScenariosEras runs every scenario under scenarios/ again with each
// of scenarioEras as $LABRUN_DOCKERD, as `make eras` does with labrun (about
// 6s an era). Scenarios guard what Docker does differently per era with
// [compat:N] and [firewall:BACKEND].
func TestScenariosEras(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: runs the scenario suite once per era")
	}
	testkit.RequireLab(t)
	for _, era := range scenarioEras {
		t.Run(strings.NewReplacer("--", "", "=", "", " ", "_").Replace(era), func(t *testing.T) {
			// The subtest sets the variable, so that the scripts (its
			// parallel subtests) all see it, and restores it after them.
			t.Setenv(dockercli.DockerdEnv, era)
			testscript.Run(t, dirParams(t, "../scenarios"))
		})
	}
}

// TestScripts runs the scripts that exercise each command against a real lab.
func TestScripts(t *testing.T) {
	testkit.RequireLab(t)
	testscript.Run(t, dirParams(t, "testdata/script"))
}
