package classroom

import (
	"fmt"
	"io"
)

// ReachMain runs `labrun reach [-timeout D] [LAB]`: the scenario command
// `reach -all` (a pingall) in a live lab, its matrix printed.
func ReachMain(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("reach", "reach [-timeout D] [LAB]\n\nPing every address of every node and running container of a live lab from every other\n(one ICMP echo each) and print the matrix of what reaches what. LAB may be left out when\none lab is live.", stderr)
	timeout := fs.String("timeout", "", "how long each echo waits for its reply (default: reach's)")
	if code, ok := parseArgs(fs, args, 0, 1); !ok {
		return code
	}
	name, err := resolveLab(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "labrun reach: %v\n", err)
		return 1
	}
	line := []string{"reach", "-all"}
	if *timeout != "" {
		line = append(line, "-timeout", *timeout)
	}
	code, err := call(name, request{Op: opExec, Args: line}, func(r reply) error {
		stdout.Write(r.Stdout)
		stderr.Write(r.Stderr)
		return nil
	})
	if err != nil {
		fmt.Fprintf(stderr, "labrun reach: %v\n", err)
	}
	return code
}
