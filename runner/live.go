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

// SetupLab is Setup for scripts that run against a lab the caller owns: every
// script of p uses lab instead of a fresh one, and no script closes it. A live
// lab (labrun up, cmd/labrun/classroom) runs its set-up script, then its checks,
// then a student's answer, one after the other, on the same lab this way.
// Commands and conditions are Setup's.
func SetupLab(p *testscript.Params, lab *netkit.Lab) error {
	if lab == nil {
		return fmt.Errorf("setting up labrun: SetupLab needs a lab")
	}
	return SetupWith(p, Options{Lab: lab})
}

// newLab is the lab of a script named name: the caller's (SetupLab) or a
// fresh one.
func (o Options) newLab(name string) (*netkit.Lab, error) {
	if o.Lab != nil {
		return o.Lab, nil
	}
	return netkit.NewLab(netkit.LabOptions{Name: name})
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
}

// execable are the commands Exec runs: those that need nothing of a script
// but its lab (env-stdout reads the previous command's output; capture,
// packets and nat keep state across a script).
var execable = map[string]bool{"docker": true, "dockerd": true, "on": true, "reach": true, "ping": true, "http": true, "ssh": true}

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
	st := &scriptState{lab: lab, ctx: ctx, workdir: o.Dir, environ: map[string]string{}}
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
var probes = map[string]bool{"reach": true, "ping": true, "http": true, "ssh": true}

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
