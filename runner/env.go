package runner

import (
	"fmt"
	"regexp"
	"strings"
)

var envStdoutCmd = Cmd{
	Name:  "env-stdout",
	Usage: "NAME",
	Summary: "Set the script variable NAME to the previous command's standard output, " +
		"which must be one line (its newline removed).",
	Detail: "It keeps what a person would copy from one command into the next, as the article does with " +
		"the container's PID:\n\n" +
		"    docker inspect -f '{{.State.Pid}}' n\n" +
		"    env-stdout PID\n" +
		"    on host ip link set B netns $PID\n\n" +
		"Programs that `on` runs see the variable too. It fails when the output is empty or has more than one line.",
	Run: runEnvStdout,
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func runEnvStdout(e *Env, args []string) error {
	if len(args) != 1 {
		return ErrUsage
	}
	name := args[0]
	if !envName.MatchString(name) {
		return usagef("env-stdout: %q is not a variable name", name)
	}
	if e.ts == nil {
		return fmt.Errorf("env-stdout %s: no script", name)
	}
	out := strings.TrimSuffix(e.ts.ReadFile("stdout"), "\n")
	switch {
	case out == "":
		return fmt.Errorf("env-stdout %s: the previous command printed nothing", name)
	case strings.Contains(out, "\n"):
		return fmt.Errorf("env-stdout %s: the previous command printed %d lines, want one", name, strings.Count(out, "\n")+1)
	}
	e.ts.Setenv(name, out)
	e.st.addVar(name)
	return nil
}

// addVar records a variable that programs run by on should see.
func (st *scriptState) addVar(name string) {
	for _, k := range st.vars {
		if k == name {
			return
		}
	}
	st.vars = append(st.vars, name)
}
