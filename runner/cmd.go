package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/runner/dockercli"
)

// ErrUsage reports that a command was called with arguments it cannot
// accept. Unlike any other error, which reports that the command itself
// failed and so may be negated with "!" in a script, it always fails the
// scenario, and the adapter prints the command's usage.
var ErrUsage = errors.New("usage error")

// usageError is an ErrUsage with a reason.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

// usagef returns an error matching ErrUsage that says what is wrong.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// Cmd is one scenario command, defined as data: its name, its usage line and
// summary (from which docs/scenarios.md is generated), whether "!" may negate
// it, and its body. Run returns an error and never aborts the script itself:
// one adapter (tsCmd) maps the error onto testscript.
type Cmd struct {
	// Name is the command's name in a script: lowercase, kebab-case for
	// several words.
	Name string
	// Usage is the argument synopsis after the name, as printed on a
	// usage error ("usage: reach [-udp] [-timeout D] FROM ADDR:PORT").
	Usage string
	// Summary is one sentence saying what the command does.
	Summary string
	// Detail is optional further documentation (Markdown).
	Detail string
	// Negatable is true when "! NAME" is meaningful: the command can fail
	// in a way a scenario may expect. Otherwise "!" is rejected.
	Negatable bool
	// Run runs the command. Output goes to e.Stdout and e.Stderr only.
	Run func(e *Env, args []string) error
}

// synopsis is the full usage line: name and arguments.
func (c Cmd) synopsis() string {
	if c.Usage == "" {
		return c.Name
	}
	return c.Name + " " + c.Usage
}

// Env is what a command sees of the running script: its output buffers, its
// lab, its environment and working directory. It wraps testscript's
// TestScript so that command bodies do not depend on testscript.
type Env struct {
	ts     *testscript.TestScript
	st     *scriptState
	stdout io.Writer
	stderr io.Writer
}

// Stdout is the command's standard output, which the next stdout or cmp
// command checks.
func (e *Env) Stdout() io.Writer { return e.stdout }

// Stderr is the command's standard error.
func (e *Env) Stderr() io.Writer { return e.stderr }

// Context ends when the script ends or reaches its deadline.
func (e *Env) Context() context.Context { return e.st.ctx }

// Getenv returns a script variable.
func (e *Env) Getenv(key string) string {
	if e.ts == nil {
		return e.st.environ[key]
	}
	return e.ts.Getenv(key)
}

// Environ returns the script's environment as KEY=VALUE strings: every
// variable testscript and Setup defined, with its current value.
func (e *Env) Environ() []string {
	var env []string
	for _, k := range e.st.vars {
		env = append(env, k+"="+e.Getenv(k))
	}
	return env
}

// Dir is the script's current directory ($WORK, unless cd moved it).
func (e *Env) Dir() string {
	if e.ts == nil {
		return e.st.workdir
	}
	return e.ts.MkAbs(".")
}

// Logf writes a line to the script's log.
func (e *Env) Logf(format string, args ...any) {
	if e.ts != nil {
		e.ts.Logf(format, args...)
	}
}

// tsCmd adapts a Cmd to testscript. It is the only place where command
// results meet testscript's Fatalf:
//
//   - an ErrUsage always fails the script and prints the usage, and a
//     lab that could not be built (labError) always fails it;
//   - "!" on a command that is not Negatable fails ("unsupported: ! NAME");
//   - another error fails the script, unless the command was negated;
//   - success of a negated command fails the script.
//
// Every command's stdout and stderr replace the previous command's, even
// when it prints nothing, so that `! stdout .` after it checks its output.
func tsCmd(c Cmd) func(ts *testscript.TestScript, neg bool, args []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		if neg && !c.Negatable {
			ts.Fatalf("unsupported: ! %s", c.Name)
		}
		st, _ := ts.Value(stateKey{}).(*scriptState)
		if st == nil {
			ts.Fatalf("%s: no lab: the script's Params were not set up with runner.Setup", c.Name)
		}
		e := &Env{ts: ts, st: st, stdout: ts.Stdout(), stderr: ts.Stderr()}
		err := c.Run(e, args)
		var labErr *labError
		switch {
		case errors.As(err, &labErr):
			ts.Fatalf("%v", labErr)
		case errors.Is(err, ErrUsage):
			if err == ErrUsage {
				ts.Fatalf("usage: %s", c.synopsis())
			}
			ts.Fatalf("%v\nusage: %s", err, c.synopsis())
		case err != nil && !neg:
			ts.Fatalf("%v", err)
		case err == nil && neg:
			ts.Fatalf("unexpected %s success", c.Name)
		}
	}
}

// commands is the command table, built once. add panics on a duplicate
// name, so that two commands can never silently shadow each other.
var commands = func() map[string]Cmd {
	m := map[string]Cmd{}
	for _, c := range []Cmd{dockerdCmd, dockerCmd, onCmd, reachCmd, pingCmd, httpCmd, sshCmd, envStdoutCmd, captureCmd, packetsCmd, natCmd, worldCmd, traceCmd} {
		addCmd(m, c)
	}
	return m
}()

// addCmd registers c in m. It panics on a duplicate name or a command
// without a body or summary: registration happens at init, so a mistake
// shows on the first run.
func addCmd(m map[string]Cmd, c Cmd) {
	if _, dup := m[c.Name]; dup {
		panic("runner: command defined twice: " + c.Name)
	}
	if c.Run == nil || c.Summary == "" {
		panic("runner: command without Run or Summary: " + c.Name)
	}
	m[c.Name] = c
}

// Commands returns the scenario commands that Setup adds, sorted by name.
func Commands() []Cmd {
	var out []Cmd
	for _, c := range commands {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// quoteArgs renders argv for messages.
func quoteArgs(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t'\"") {
			a = "'" + strings.ReplaceAll(a, "'", "''") + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// ExecOptions says where a command run by Exec runs. The zero value runs in
// labrun's directory with an empty environment and discards the output.
type ExecOptions struct {
	// Dir is the directory programs run in (on, docker exec).
	Dir string
	// Env holds KEY=VALUE strings: the variables the command sees (PATH
	// for the programs of on and docker exec).
	Env []string
	// Stdout and Stderr receive the command's output; nil discards it.
	Stdout, Stderr io.Writer
	// Stdin is the caller's input, which docker run -i, exec -i and
	// attach read (a live lab's shell: its terminal); nil is an empty
	// input that is not a terminal.
	Stdin dockercli.Input
}

// execable are the commands Exec runs: those that need nothing of a script
// but its lab (env-stdout reads the previous command's output; capture,
// packets and nat keep state across a script).
var execable = map[string]bool{"docker": true, "dockerd": true, "on": true, "reach": true, "ping": true, "http": true, "ssh": true, "trace": true}

// Exec runs one scenario command line against lab, outside any script:
// args[0] is the command (docker, dockerd, on, reach, ping, http or ssh) and
// the rest its arguments, with the output and error formats of scenarios. It
// is how a live lab's keeper runs the docker commands typed in its shells.
// A usage error prints the usage on o.Stderr and matches ErrUsage; ExitStatus
// turns an error into the status a shell reports.
func Exec(ctx context.Context, lab *netkit.Lab, o ExecOptions, args []string) error {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if len(args) == 0 {
		return usagef("no command")
	}
	c, ok := commands[args[0]]
	if !ok || !execable[args[0]] {
		var names []string
		for n := range execable {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(o.Stderr, "labrun: %s: not a command a live lab runs (%s)\n", args[0], strings.Join(names, ", "))
		return usagef("%s: not a command a live lab runs", args[0])
	}
	st := &scriptState{lab: lab, given: true, world: lab.World(), ctx: ctx, workdir: o.Dir, environ: map[string]string{}, stdin: o.Stdin}
	for _, kv := range o.Env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := st.environ[k]; !dup {
			st.vars = append(st.vars, k)
		}
		st.environ[k] = v
	}
	e := &Env{st: st, stdout: o.Stdout, stderr: o.Stderr}
	err := c.Run(e, args[1:])
	var ee *dockercli.ExitError
	switch {
	case err == ErrUsage:
		fmt.Fprintf(o.Stderr, "usage: %s\n", c.synopsis())
	case errors.Is(err, ErrUsage):
		fmt.Fprintf(o.Stderr, "%v\nusage: %s\n", err, c.synopsis())
	case err == nil, errors.As(err, &ee), probes[args[0]]:
		// Printed already: Docker's message, or the probe's reason.
	default:
		fmt.Fprintf(o.Stderr, "%v\n", err)
	}
	return err
}

// probes print the reason of their failure on stderr themselves.
var probes = map[string]bool{"reach": true, "ping": true, "http": true, "ssh": true, "trace": true}

// ExitStatus is the exit status a shell would report for an error of Exec:
// 0 for nil, Docker's own status for a docker command that failed (125 for
// a refused docker run, 1 for an engine error, the program's for docker
// exec), 2 for a usage error and 1 for any other failure.
func ExitStatus(err error) int {
	var ee *dockercli.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.Code
	case errors.Is(err, ErrUsage):
		return 2
	}
	return 1
}
