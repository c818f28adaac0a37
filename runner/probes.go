package runner

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/labrun/labrun/checks"
	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/runner/dockercli"
)

// Default probe timeouts: short, so that a negated probe fails fast.
const (
	reachTimeout = 1 * time.Second
	httpTimeout  = 2 * time.Second
	sshTimeout   = 5 * time.Second
)

var reachCmd = Cmd{
	Name:  "reach",
	Usage: "[-udp] [-timeout D] FROM ADDR:PORT | -all [-timeout D]",
	Summary: "Connect from node FROM to ADDR:PORT now, in one attempt: a TCP handshake, or with -udp one datagram " +
		"answered by a datagram. Fails with the kernel's reason (connection refused, no route to host, timed out after 1s). " +
		"With -all (Mininet's pingall): one ICMP echo from every node and running container to every IPv4 address of " +
		"every other, at once, and a matrix of what reaches what (ok, no; - for itself).",
	Detail: "FROM is host, client, gateway, internet, or a running container's name. " +
		"-timeout bounds the attempt (default 1s). The reason of a failure is also printed on stderr. " +
		"A container that shares another node's namespace is listed once, under that node.",
	Negatable: true,
	Run:       runReach,
}

var pingCmd = Cmd{
	Name:      "ping",
	Usage:     "[-timeout D] FROM ADDR",
	Summary:   "Send one ICMP echo request from node FROM to ADDR and print the reply as ping does; fails when no reply comes.",
	Detail:    "-timeout bounds the wait (default 1s).",
	Negatable: true,
	Run:       runPing,
}

var httpCmd = Cmd{
	Name:  "http",
	Usage: "[-timeout D] FROM URL",
	Summary: "GET URL from node FROM (as curl -k) and print the status line and the body. " +
		"Fails when there is no answer or the status is 400 or above (the answer is still printed).",
	Detail:    "The URL's host must be an IP address. -timeout bounds the exchange (default 2s).",
	Negatable: true,
	Run:       runHTTP,
}

var sshCmd = Cmd{
	Name:  "ssh",
	Usage: "[-timeout D] [-password P] FROM [USER@]ADDR[:PORT] [COMMAND...]",
	Summary: "Log in from node FROM over a real SSH session (user root and password labrun by default, port 22), " +
		"run COMMAND (default true) and print its output. Fails when the login fails or the command exits non-zero.",
	Detail:    "-timeout bounds the whole exchange (default 5s).",
	Negatable: true,
	Run:       runSSH,
}

// probeFlags parses a probe's flags; the rest are its arguments.
func probeFlags(args []string, timeout time.Duration, extra func(fs *dockercli.FlagSet)) ([]string, time.Duration, error) {
	var t string
	fs := &dockercli.FlagSet{}
	fs.String(&t, "", "timeout")
	if extra != nil {
		extra(fs)
	}
	rest, err := fs.Parse(goFlags(fs, args))
	if err != nil {
		return nil, 0, usagef("%v", err)
	}
	if t != "" {
		if timeout, err = time.ParseDuration(t); err != nil || timeout <= 0 {
			return nil, 0, usagef("invalid -timeout %q", t)
		}
	}
	return rest, timeout, nil
}

// probeArgs is probeFlags, then a check that at least least and at most
// most arguments (any number from least when most < 0) follow the flags.
func probeArgs(args []string, timeout time.Duration, least, most int, extra func(fs *dockercli.FlagSet)) ([]string, time.Duration, error) {
	rest, timeout, err := probeFlags(args, timeout, extra)
	if err != nil {
		return nil, 0, err
	}
	if len(rest) < least || most >= 0 && len(rest) > most {
		return nil, 0, ErrUsage
	}
	return rest, timeout, nil
}

// goFlags rewrites the probes' Go-style flags (-timeout 1s, -udp), as their
// usage spells them, into the long flags that fs parses (--timeout 1s); it
// stops at the first argument that is not a flag or a flag's value, so that
// an ssh COMMAND's own flags are left alone.
func goFlags(fs *dockercli.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || len(a) < 2 {
			return append(out, args[i:]...)
		}
		if !strings.HasPrefix(a, "--") {
			a = "-" + a
		}
		out = append(out, a)
		name, _, hasValue := strings.Cut(a[2:], "=")
		if fs.TakesValue(name) && !hasValue && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// nodeNS finds the namespace of a node or running container.
func nodeNS(e *Env, name string) (*netns.NS, error) {
	lab, err := e.Lab()
	if err != nil {
		return nil, err
	}
	n, err := lab.Node(name)
	if err != nil {
		return nil, err
	}
	return n.NS(), nil
}

// probeNode returns the namespace of the node (or running container) that
// a probe runs in, and the probe's context, which ends after timeout.
func probeNode(e *Env, node string, timeout time.Duration) (*netns.NS, context.Context, context.CancelFunc, error) {
	ns, err := nodeNS(e, node)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(e.Context(), timeout)
	return ns, ctx, cancel, nil
}

// probeFail prints a probe's reason on stderr and returns it.
func probeFail(e *Env, name string, err error) error {
	fmt.Fprintf(e.Stderr(), "%s: %v\n", name, err)
	return fmt.Errorf("%s: %w", name, err)
}

func runReach(e *Env, args []string) error {
	udp, all := false, false
	rest, timeout, err := probeFlags(args, reachTimeout, func(fs *dockercli.FlagSet) {
		fs.Bool(&udp, "", "udp")
		fs.Bool(&all, "", "all")
	})
	if err != nil {
		return err
	}
	if all {
		if len(rest) != 0 || udp {
			return ErrUsage
		}
		return runReachAll(e, timeout)
	}
	if len(rest) != 2 {
		return ErrUsage
	}
	addr, err := netip.ParseAddrPort(rest[1])
	if err != nil {
		return usagef("reach: %q is not ADDR:PORT", rest[1])
	}
	network := "tcp"
	if udp {
		network = "udp"
	}
	ns, ctx, cancel, err := probeNode(e, rest[0], timeout)
	if err != nil {
		return err
	}
	defer cancel()
	if err := checks.Reach(ctx, ns, network, addr); err != nil {
		return probeFail(e, "reach", err)
	}
	return nil
}

func runPing(e *Env, args []string) error {
	rest, timeout, err := probeArgs(args, reachTimeout, 2, 2, nil)
	if err != nil {
		return err
	}
	addr, err := netip.ParseAddr(rest[1])
	if err != nil {
		return usagef("ping: %q is not an IP address", rest[1])
	}
	ns, ctx, cancel, err := probeNode(e, rest[0], timeout)
	if err != nil {
		return err
	}
	defer cancel()
	rtt, err := checks.Ping(ctx, ns, addr)
	if err != nil {
		return probeFail(e, "ping", err)
	}
	fmt.Fprintf(e.Stdout(), "64 bytes from %s: icmp_seq=1 time=%.3f ms\n", addr, float64(rtt.Microseconds())/1000)
	return nil
}

func runHTTP(e *Env, args []string) error {
	rest, timeout, err := probeArgs(args, httpTimeout, 2, 2, nil)
	if err != nil {
		return err
	}
	ns, ctx, cancel, err := probeNode(e, rest[0], timeout)
	if err != nil {
		return err
	}
	defer cancel()
	status, body, err := checks.HTTP(ctx, ns, rest[1])
	if status != "" {
		fmt.Fprintf(e.Stdout(), "%s\n%s", status, body)
	}
	if err != nil {
		return probeFail(e, "http", err)
	}
	if code := statusCode(status); code >= 400 {
		return probeFail(e, "http", fmt.Errorf("GET %s: %s", rest[1], status))
	}
	return nil
}

// statusCode reads the code of a status line ("HTTP/1.1 404 Not Found").
func statusCode(status string) int {
	f := strings.Fields(status)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// parseSSHTarget splits [USER@]ADDR[:PORT], defaulting to root and 22.
func parseSSHTarget(s string) (user string, addr netip.AddrPort, err error) {
	user = "root"
	if u, rest, ok := strings.Cut(s, "@"); ok {
		user, s = u, rest
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return user, ap, nil
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return "", netip.AddrPort{}, fmt.Errorf("%q is not [USER@]ADDR[:PORT]", s)
	}
	return user, netip.AddrPortFrom(a, 22), nil
}

func runSSH(e *Env, args []string) error {
	password := "labrun"
	rest, timeout, err := probeArgs(args, sshTimeout, 2, -1, func(fs *dockercli.FlagSet) { fs.String(&password, "", "password") })
	if err != nil {
		return err
	}
	user, addr, err := parseSSHTarget(rest[1])
	if err != nil {
		return usagef("ssh: %v", err)
	}
	command := "true"
	if len(rest) > 2 {
		command = strings.Join(rest[2:], " ")
	}
	ns, ctx, cancel, err := probeNode(e, rest[0], timeout)
	if err != nil {
		return err
	}
	defer cancel()
	out, status, err := checks.SSH(ctx, ns, user, password, addr, command)
	fmt.Fprint(e.Stdout(), out)
	if err != nil {
		return probeFail(e, "ssh", err)
	}
	if status != 0 {
		return probeFail(e, "ssh", fmt.Errorf("%s@%s: %q exited with status %d", user, addr, command, status))
	}
	return nil
}
