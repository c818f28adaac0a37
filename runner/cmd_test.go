package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/labrun/labrun/runner/dockercli"
)

// runScripts runs txtar scripts (name → content) with extra commands
// through the CLI's runner, and returns its output.
func runScripts(t *testing.T, scripts map[string]string, cmds ...Cmd) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := testscript.Params{
		Dir:  dir,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){},
		Setup: func(env *testscript.Env) error {
			env.Values[stateKey{}] = &scriptState{ctx: context.Background(), workdir: env.WorkDir}
			return nil
		},
	}
	for _, c := range cmds {
		p.Cmds[c.Name] = tsCmd(c)
	}
	var out bytes.Buffer
	r := newCLIRun(&out, false, 2)
	if top := r.run(p); top.failed {
		t.Fatalf("testscript did not start: %s", top.logText())
	}
	return out.String()
}

var fakeCmd = Cmd{
	Name: "fake", Usage: "ok|fail|usage|print TEXT|quiet", Summary: "A command for testing the adapter.", Negatable: true,
	Run: func(e *Env, args []string) error {
		if len(args) == 0 {
			return ErrUsage
		}
		switch args[0] {
		case "ok", "quiet":
			return nil
		case "fail":
			fmt.Fprintln(e.Stderr(), "it failed")
			return errors.New("fake failed")
		case "print":
			fmt.Fprintln(e.Stdout(), strings.Join(args[1:], " "))
			return nil
		}
		return usagef("fake: unknown mode %q", args[0])
	},
}

var strictCmd = Cmd{
	Name: "strict", Summary: "A command that cannot be negated.",
	Run: func(e *Env, args []string) error { return nil },
}

func TestAdapter(t *testing.T) {
	out := runScripts(t, map[string]string{
		"pass": `fake ok
! fake fail
stderr 'it failed'
fake print hello world
stdout '^hello world$'
fake quiet
! stdout .
! stderr .
strict
`,
		"failure":    "fake ok\nfake fail\n",
		"negated":    "! fake ok\n",
		"nonneg":     "! strict\n",
		"usage":      "! fake\n",
		"usagewhy":   "! fake bogus\n",
		"wrongusage": "fake\n",
	}, fakeCmd, strictCmd)
	for _, want := range []string{
		`(?m)^PASS pass \(`,
		`(?m)^FAIL failure \(`,
		`FAIL: \S+failure\.txt:2: fake failed`,
		`FAIL: \S+negated\.txt:1: unexpected fake success`,
		`FAIL: \S+nonneg\.txt:1: unsupported: ! strict`,
		`FAIL: \S+usage\.txt:1: usage: fake ok\|fail\|usage\|print TEXT\|quiet`,
		`FAIL: \S+usagewhy\.txt:1: fake: unknown mode "bogus"\n\s*usage: fake ok`,
		`FAIL: \S+wrongusage\.txt:1: usage: fake`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output does not match %q:\n%s", want, out)
		}
	}
}

func TestAddCmd(t *testing.T) {
	m := map[string]Cmd{}
	addCmd(m, fakeCmd)
	defer func() {
		if recover() == nil {
			t.Error("addCmd did not panic on a duplicate command")
		}
	}()
	addCmd(m, fakeCmd)
}

func TestCommandTable(t *testing.T) {
	name := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	for _, c := range Commands() {
		if !name.MatchString(c.Name) {
			t.Errorf("command %q: names are lowercase, kebab-case", c.Name)
		}
		if !strings.HasSuffix(c.Summary, ".") {
			t.Errorf("command %q: the summary should be a sentence", c.Name)
		}
		if c.Usage == "" {
			t.Errorf("command %q: no usage", c.Name)
		}
	}
}

func TestConditions(t *testing.T) {
	if _, known, err := condition("nosuch"); known || err == nil {
		t.Errorf("condition(nosuch) = known %v, error %v; want an unknown condition error", known, err)
	}
	ok, known, err := condition("root")
	if !known || err != nil || ok != (os.Geteuid() == 0) {
		t.Errorf("condition(root) = %v, %v, %v", ok, known, err)
	}
}

// TestEraConditions checks [compat:N] and [firewall:BACKEND] against
// $LABRUN_DOCKERD.
func TestEraConditions(t *testing.T) {
	for _, tc := range []struct {
		env   string
		holds []string // every other condition below is false
	}{
		{"", []string{"compat:27", "firewall:iptables"}},
		{"--compat=20.10", []string{"compat:27", "compat:20.10", "firewall:iptables"}},
		{"--compat=28", []string{"compat:28", "firewall:iptables"}},
		{"--compat=29", []string{"compat:29", "firewall:iptables"}},
		{"--compat=29 --firewall-backend=nftables", []string{"compat:29", "firewall:nftables"}},
	} {
		t.Setenv(dockercli.DockerdEnv, tc.env)
		for _, cond := range []string{"compat:27", "compat:20.10", "compat:28", "compat:29", "firewall:iptables", "firewall:nftables"} {
			ok, known, err := condition(cond)
			if want := slices.Contains(tc.holds, cond); !known || err != nil || ok != want {
				t.Errorf("%s=%q: condition(%s) = %v, known %v, error %v; want %v", dockercli.DockerdEnv, tc.env, cond, ok, known, err, want)
			}
		}
	}
	t.Setenv(dockercli.DockerdEnv, "")
	for _, cond := range []string{"firewall:ebtables", "compat:30"} {
		if _, known, err := condition(cond); !known || err == nil {
			t.Errorf("condition(%s) = known %v, error %v; want an error", cond, known, err)
		}
	}
}

// TestDockerUsage checks that a docker command line that names no
// subcommand labrun implements is a usage error of the docker command.
func TestDockerUsage(t *testing.T) {
	e := &Env{st: &scriptState{}, stdout: new(bytes.Buffer), stderr: new(bytes.Buffer)}
	for _, args := range [][]string{nil, {"build", "."}, {"network"}} {
		if err := runDocker(e, args); !errors.Is(err, ErrUsage) {
			t.Errorf("docker %q: error %v, want a usage error", args, err)
		}
	}
}

func TestDocs(t *testing.T) {
	have, err := os.ReadFile("../docs/scenarios.md")
	if err != nil {
		t.Fatalf("reading the scenario language reference: %v", err)
	}
	if string(have) != Markdown() {
		t.Fatalf("docs/scenarios.md is stale. To update, run 'go generate ./runner'.")
	}
}

func TestCLIUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"-bogus", "x"},
		{"-run", "(", "x"},
		{"-j", "0", "x"},
		{filepath.Join(t.TempDir(), "missing.txt")},
		{"clean", "extra"},
	} {
		var out bytes.Buffer
		if code := Run(args, &out, &out); code != 2 {
			t.Errorf("labrun %q: exit status %d, want 2\n%s", args, code, out.String())
		}
	}
	var out bytes.Buffer
	if code := Run([]string{"-h"}, &out, &out); code != 0 || !strings.Contains(out.String(), "usage: labrun") {
		t.Errorf("labrun -h: exit status %d, output\n%s", code, out.String())
	}
}

func TestScenarioFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.txt", "a.txtar", "notes.md", "publish-ports.txt"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	got, err := scenarioFiles([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "a.txtar"), filepath.Join(dir, "b.txt"), filepath.Join(dir, "publish-ports.txt")}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("scenarioFiles(dir) = %q, want %q", got, want)
	}
	got, _ = scenarioFiles([]string{dir}, regexp.MustCompile(`^publish`))
	if len(got) != 1 || scenarioName(got[0]) != "publish-ports" {
		t.Errorf("scenarioFiles(dir, ^publish) = %q", got)
	}
}

// TestBroken runs a deliberately broken scenario through labrun's runner:
// it must fail and name its file and line.
func TestBroken(t *testing.T) {
	requireLab(t)
	var out bytes.Buffer
	code := Run([]string{"testdata/broken"}, &out, &out)
	if code != 1 {
		t.Errorf("labrun testdata/broken: exit status %d, want 1", code)
	}
	for _, want := range []string{
		"FAIL publish-broken (",
		"FAIL: testdata/broken/publish-broken.txt:5: no match for `It does not work` found in stdout",
		"0 passed, 1 failed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
