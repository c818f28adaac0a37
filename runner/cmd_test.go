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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/link"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
	"github.com/labrun/labrun/runner/dockercli"
)

// runScripts runs txtar scripts (name → content) with extra commands, and
// returns each script's result by name.
func runScripts(t *testing.T, scripts map[string]string, cmds ...Cmd) map[string]*ScriptT {
	t.Helper()
	dir := t.TempDir()
	for name, content := range scripts {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".txt"), []byte(content), 0o644))
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
	return runParams(t, p)
}

// runParams runs p's scripts one after the other through testscript.RunT
// (with ScriptT) and returns each one's result by name: for tests of what a
// failing script prints, which go test's own T prints rather than returns.
func runParams(t *testing.T, p testscript.Params) map[string]*ScriptT {
	t.Helper()
	top := NewScriptT("")
	func() {
		defer func() {
			if e := recover(); e != nil && !Stopped(e) {
				panic(e)
			}
		}()
		testscript.RunT(top, p)
	}()
	if top.Failed() {
		t.Fatalf("testscript did not start: %s", top.LogText())
	}
	res := map[string]*ScriptT{}
	for _, sub := range top.Subs() {
		res[sub.Name()] = sub
	}
	return res
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
	res := runScripts(t, map[string]string{
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
	for name, want := range map[string]string{
		"pass":       ``,
		"failure":    `FAIL: \S+failure\.txt:2: fake failed`,
		"negated":    `FAIL: \S+negated\.txt:1: unexpected fake success`,
		"nonneg":     `FAIL: \S+nonneg\.txt:1: unsupported: ! strict`,
		"usage":      `FAIL: \S+usage\.txt:1: usage: fake ok\|fail\|usage\|print TEXT\|quiet`,
		"usagewhy":   `FAIL: \S+usagewhy\.txt:1: fake: unknown mode "bogus"\n\s*usage: fake ok`,
		"wrongusage": `FAIL: \S+wrongusage\.txt:1: usage: fake`,
	} {
		r := res[name]
		switch {
		case r == nil:
			t.Errorf("%s: did not run", name)
		case r.Failed() != (want != ""):
			t.Errorf("%s: failed %v, want %v:\n%s", name, r.Failed(), want != "", r.LogText())
		case !regexp.MustCompile(want).MatchString(r.LogText()):
			t.Errorf("%s: log does not match %q:\n%s", name, want, r.LogText())
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
		assert.Regexp(t, name, c.Name, "command %q: names are lowercase, kebab-case", c.Name)
		assert.True(t, strings.HasSuffix(c.Summary, "."), "command %q: the summary should be a sentence", c.Name)
		assert.NotEmpty(t, c.Usage, "command %q: no usage", c.Name)
	}
}

func TestConditions(t *testing.T) {
	_, known, err := condition("nosuch")
	assert.False(t, known, "condition(nosuch) is known")
	assert.Error(t, err, "condition(nosuch): want an unknown condition error")
	ok, known, err := condition("root")
	assert.True(t, known, "condition(root) is unknown")
	assert.NoError(t, err, "condition(root)")
	assert.Equal(t, os.Geteuid() == 0, ok, "condition(root)")
}

// TestLinkTypeCondition: [linktype:NAME] says what the kernel has, as an
// attempt to make such a link in a fresh namespace would find: macvlan,
// which labrun's macvlan networks need, and never a type no kernel has.
func TestLinkTypeCondition(t *testing.T) {
	testkit.RequireNetAdmin(t)
	ok, known, err := condition("linktype:macvlan")
	assert.True(t, known)
	assert.NoError(t, err)
	assert.True(t, ok, "[linktype:macvlan]")
	ok, known, err = condition("linktype:nosuchkind")
	assert.True(t, known)
	assert.NoError(t, err)
	assert.False(t, ok, "[linktype:nosuchkind]")
	ns, err := netns.New()
	require.NoError(t, err)
	defer ns.Close()
	h, err := link.OpenHandle(ns)
	require.NoError(t, err)
	defer h.Close()
	for _, kind := range []string{link.KindIPvlan, link.KindVLAN, link.KindDummy} {
		ok, _, err := condition("linktype:" + kind)
		require.NoError(t, err)
		want, err := link.Supported(h, kind)
		require.NoError(t, err)
		assert.Equal(t, want, ok, "[linktype:%s]", kind)
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
			assert.True(t, known, "%s=%q: condition(%s) is unknown", dockercli.DockerdEnv, tc.env, cond)
			assert.NoError(t, err, "%s=%q: condition(%s)", dockercli.DockerdEnv, tc.env, cond)
			assert.Equal(t, slices.Contains(tc.holds, cond), ok, "%s=%q: condition(%s)", dockercli.DockerdEnv, tc.env, cond)
		}
	}
	t.Setenv(dockercli.DockerdEnv, "")
	for _, cond := range []string{"firewall:ebtables", "compat:30"} {
		_, known, err := condition(cond)
		assert.True(t, known, "condition(%s) is unknown", cond)
		assert.Error(t, err, "condition(%s)", cond)
	}
}

// TestDockerUsage checks that a docker command line that names no
// subcommand labrun implements is a usage error of the docker command.
func TestDockerUsage(t *testing.T) {
	e := &Env{st: &scriptState{}, stdout: new(bytes.Buffer), stderr: new(bytes.Buffer)}
	for _, args := range [][]string{nil, {"build", "."}, {"network"}} {
		assert.ErrorIs(t, runDocker(e, args), ErrUsage, "docker %q", args)
	}
}

func TestDocs(t *testing.T) {
	have, err := os.ReadFile("../docs/scenarios.md")
	require.NoError(t, err, "reading the scenario language reference")
	require.Equal(t, Markdown(), string(have), "docs/scenarios.md is stale. To update, run 'go generate ./runner'.")
}
