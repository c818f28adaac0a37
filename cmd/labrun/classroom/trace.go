package classroom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/labrun/labrun/checks/trace"
	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/runner"
)

// traceUsage is `labrun trace`'s usage and description.
const traceUsage = "trace [-lab LAB] [-timeout D] [-reply] [-json] FROM ADDR:PORT|URL|ping ADDR\n\n" +
	"Make one connection from node FROM of a live lab and print the way its first packet took, rule by\n" +
	"rule, as the scenario command trace does (docs/trace.md): where it arrives, each chain with the rule\n" +
	"that matched and its verdict, every rewrite, the route, the bridge port, and how it ended."

// TraceMain runs `labrun trace [-lab LAB] [-timeout D] [-reply] [-json]
// FROM TARGET`: the scenario command trace in a live lab.
func TraceMain(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("trace", traceUsage, stderr)
	lab := labFlag(fs, "the live `lab` to trace in")
	timeout := fs.String("timeout", "", "how long the connection may take (default: trace's, 1s)")
	withReply := fs.Bool("reply", false, "also walk the answer")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if code, ok := parseArgs(fs, args, 2, 3); !ok {
		return code
	}
	name, err := resolveLab(*lab)
	if err != nil {
		fmt.Fprintf(stderr, "labrun trace: %v\n", err)
		return 1
	}
	line := traceLine(*timeout, *withReply, *asJSON, fs.Args())
	code, err := call(name, request{Op: opExec, Args: line}, func(r reply) error {
		stdout.Write(r.Stdout)
		stderr.Write(r.Stderr)
		return nil
	})
	if err != nil {
		fmt.Fprintf(stderr, "labrun trace: %v\n", err)
	}
	return code
}

// traceLine is the scenario command line of a trace.
func traceLine(timeout string, reply, asJSON bool, args []string) []string {
	line := []string{"trace"}
	if timeout != "" {
		line = append(line, "-timeout", timeout)
	}
	if reply {
		line = append(line, "-reply")
	}
	if asJSON {
		line = append(line, "-json")
	}
	return append(line, args...)
}

// liveTrace traces FROM TARGET (args) in live lab name, as data.
func liveTrace(name string, args []string) (*trace.Record, error) {
	var out, errs bytes.Buffer
	if _, err := call(name, request{Op: opExec, Args: traceLine("", true, true, args)}, func(r reply) error {
		out.Write(r.Stdout)
		errs.Write(r.Stderr)
		return nil
	}); err != nil {
		return nil, err
	}
	return decodeRecord(out.Bytes(), errs.String())
}

// labTrace traces FROM TARGET (args) in lab, as data.
func labTrace(lab *netkit.Lab, args []string) (*trace.Record, error) {
	var out, errs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runner.Exec(ctx, lab, runner.ExecOptions{Stdout: &out, Stderr: &errs}, traceLine("", true, true, args))
	return decodeRecord(out.Bytes(), errs.String())
}

// decodeRecord reads trace -json's output; without one, the error it
// printed is the error.
func decodeRecord(out []byte, errs string) (*trace.Record, error) {
	var rec trace.Record
	if err := json.Unmarshal(out, &rec); err != nil || rec.Walk == nil {
		if e := strings.TrimSpace(errs); e != "" {
			return nil, fmt.Errorf("tracing: %s", e)
		}
		return nil, fmt.Errorf("tracing: no walk in the answer: %w", err)
	}
	return &rec, nil
}

// failedConnection reads the command of a failed check's evidence (its
// first line, "> CMD ...") and returns the trace arguments (FROM TARGET)
// of the connection it made, when it is a probe: reach (TCP), http, ping
// or ssh. It returns nil for any other command.
func failedConnection(evidence string) []string {
	first, _, _ := strings.Cut(evidence, "\n")
	cmd, ok := strings.CutPrefix(first, "> ")
	if !ok {
		return nil
	}
	w := strings.Fields(strings.TrimLeft(cmd, "! "))
	for len(w) > 0 && strings.HasPrefix(w[0], "[") {
		w = w[1:] // conditions
	}
	if len(w) == 0 {
		return nil
	}
	name, rest := w[0], w[1:]
	var args []string
	for i := 0; i < len(rest); i++ {
		switch a := rest[i]; {
		case a == "-timeout" || a == "-password":
			i++
		case a == "-udp" || a == "-all":
			return nil // not a connection trace follows
		case strings.HasPrefix(a, "-"):
		default:
			args = append(args, a)
		}
	}
	if len(args) < 2 {
		return nil
	}
	from, target := args[0], args[1]
	switch name {
	case "reach", "http":
		return []string{from, target}
	case "ping":
		return []string{from, "ping", target}
	case "ssh":
		if _, host, ok := strings.Cut(target, "@"); ok {
			target = host
		}
		if a, err := netip.ParseAddr(strings.Trim(target, "[]")); err == nil {
			target = netip.AddrPortFrom(a, 22).String()
		}
		return []string{from, target}
	}
	return nil
}

// traceEvidence traces the connection a failed check's evidence made, in
// lab, and returns the walk as evidence ("" when the check's command is
// not a connection).
func traceEvidence(lab *netkit.Lab, evidence string) string {
	args := failedConnection(evidence)
	if args == nil {
		return ""
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runner.Exec(ctx, lab, runner.ExecOptions{Stdout: &out, Stderr: io.Discard}, append([]string{"trace"}, args...))
	if out.Len() == 0 {
		return ""
	}
	return "> trace " + strings.Join(args, " ") + "\n" + out.String()
}
