package runner

import (
	"errors"
	"fmt"
	"os/exec"

	"github.com/labrun/labrun/netkit/proc"
)

var onCmd = Cmd{
	Name:  "on",
	Usage: "NODE PROGRAM [ARGS...]",
	Summary: "Run a real program inside a node's network namespace, in the script's directory and environment, " +
		"with its output in the script's stdout and stderr; fails when it exits non-zero.",
	Detail: "NODE is a node of the world (host, client, gateway or internet in the default world), or a running container's name. The program sees a /sys " +
		"of that namespace, as under `ip netns exec`, so `on host brctl show` and `on host ip -br addr` " +
		"show the node's interfaces. It is looked up in the script's PATH and runs until it exits " +
		"(or the script's deadline); unlike exec, it cannot run in the background with `&`. " +
		"Its environment holds the variables testscript and labrun define, with their current values " +
		"(a variable that `env` creates later is not passed: use `on NODE env NAME=VALUE PROGRAM`).",
	Negatable: true,
	Run:       runOn,
}

func runOn(e *Env, args []string) error {
	if len(args) < 2 {
		return ErrUsage
	}
	if args[len(args)-1] == "&" {
		return usagef("on: background (&) is not supported; use docker exec -d for a background process in a container")
	}
	lab, err := e.Lab()
	if err != nil {
		return err
	}
	node, err := lab.Node(args[0])
	if err != nil {
		return err
	}
	for _, eng := range lab.Engines() {
		eng.Settle() // the hosts show all of their engines' rules
	}
	cmd, err := node.Command(e.Environ(), args[1:]...)
	if err != nil {
		return err
	}
	cmd.Dir = e.Dir()
	cmd.Stdout = e.Stdout()
	cmd.Stderr = e.Stderr()
	if err := node.Start(cmd); err != nil {
		return fmt.Errorf("on %s: %w", args[0], err)
	}
	if err := proc.Wait(e.Context(), cmd); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("on %s %s: exit status %d", args[0], quoteArgs(args[1:]), proc.ExitCode(ee.ProcessState))
		}
		return fmt.Errorf("on %s %s: %w", args[0], quoteArgs(args[1:]), err)
	}
	return nil
}
