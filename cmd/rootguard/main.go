// Rootguard checks that a test run left the root network namespace as it
// found it. `make test` calls it around `go test ./...`:
//
//	rootguard snapshot FILE          record the state of this namespace in FILE
//	rootguard compare [flags] FILE   record it again; print a diff and exit 1 if it changed
//
// It exists because labrun's first house rule is that nothing of a lab ever
// lives in the root namespace. A leaked interface, route or iptables rule
// there goes unnoticed by the tests themselves (they only look inside their
// own namespaces), and it can break the machine's own networking. Rootguard
// turns such a leak into a failed build.
//
// The state is taken from the namespace rootguard runs in, which `make test`
// means to be the root one. It records, normalised so that two snapshots of
// an unchanged namespace are byte-for-byte equal:
//
//   - links: interface names (`ip -o link show`);
//   - addresses: `ip -o addr show`, without lifetimes, without the transient
//     flags deprecated, tentative and optimistic, and without IPv6 temporary
//     (privacy) addresses, which the kernel rotates by itself;
//   - routes: the main table for IPv4 and IPv6 (`ip -o route show table main`),
//     without `expires` and `linkdown`, which change with time and carrier;
//   - iptables and ip6tables: `iptables-save` and `ip6tables-save` with
//     comment lines dropped and counters zeroed, each line prefixed with its
//     table, tables and chains in name order, rules in their order within
//     each chain (order matters there);
//   - sysctl: net.ipv4.ip_forward and net.ipv6.conf.all.forwarding;
//   - netns: the named namespaces, i.e. the files in /run/netns (what
//     `ip netns list` shows).
//
// A source that cannot be read (no ip6tables-save, or iptables-save as a user
// without privileges) is recorded as a single "(unavailable: ...)" line, so it
// compares equal with itself and shows in the diff if it changes.
//
// With -ignore-docker, which is on by default when `docker info` answers,
// compare leaves out what a real Docker Engine in the root namespace owns, on
// both sides, because the engine changes it itself when containers come and go
// (the differential tests create containers on it and remove them again):
//
//   - the interfaces docker0, br-<12 hex digits> (user-defined networks) and
//     veth<hex> (the host ends of containers' veth pairs), with their
//     addresses and the routes through them;
//   - iptables chains named DOCKER or DOCKER-*, the rules in them, and rules
//     elsewhere that jump to them (-j/-g DOCKER*), match one of those
//     interfaces (-i/-o), or match a source or destination inside a subnet
//     assigned to one of them (the engine's MASQUERADE and raw-table rules);
//   - three rule shapes of the engine that name none of the above: ipset
//     matches on docker-* sets, the raw-table DROP guarding a port published
//     on 127.0.0.1, and the mangle CHECKSUM fill for SCTP ports.
//
// With -ignore-netns GLOB, compare leaves out the named namespaces whose names
// match GLOB (path.Match), on both sides: a test that checks one run while
// other packages' tests run beside it (go test runs packages in parallel) uses
// it for the namespaces those tests name and remove themselves, which `make
// test`'s own compare after the whole suite still sees if they are left.
//
// Sysctls and named namespaces are never ignored by -ignore-docker: the engine sets
// ip_forward once at start and keeps its namespaces under /run/docker/netns.
// The price of -ignore-docker is that a leak named like the engine's things
// (a veth0a1b, a DOCKER-LAB chain) goes unseen; labrun names nothing so.
//
// Rootguard is not a cleaner: it changes nothing, it only reports.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: rootguard snapshot FILE
       rootguard compare [-ignore-docker[=false]] [-ignore-netns GLOB] FILE`

// run is main without the exit: 0 unchanged (or snapshot written), 1 changed,
// 2 usage or I/O error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("rootguard "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage); fs.PrintDefaults() }
	var ignoreDocker *bool
	var ignoreNetns *string
	if args[0] == "compare" {
		ignoreDocker = fs.Bool("ignore-docker", false, "leave out what a real Docker Engine owns (default: on when `docker info` answers)")
		ignoreNetns = fs.String("ignore-netns", "", "leave out the named namespaces whose names match this `glob`")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	if ignoreNetns != nil {
		if _, err := path.Match(*ignoreNetns, ""); err != nil {
			fmt.Fprintf(stderr, "rootguard: -ignore-netns %q: %v\n", *ignoreNetns, err)
			fs.Usage()
			return 2
		}
	}
	file := fs.Arg(0)
	ctx := context.Background()

	switch args[0] {
	case "snapshot":
		s, err := collect(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "rootguard: %v\n", err)
			return 2
		}
		if err := os.WriteFile(file, []byte(s.encode()), 0o644); err != nil {
			fmt.Fprintf(stderr, "rootguard: %v\n", err)
			return 2
		}
		return 0

	case "compare":
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(stderr, "rootguard: %v\n", err)
			return 2
		}
		before, err := decode(string(data))
		if err != nil {
			fmt.Fprintf(stderr, "rootguard: reading %s: %v\n", file, err)
			return 2
		}
		after, err := collect(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "rootguard: %v\n", err)
			return 2
		}
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "ignore-docker" })
		if !set {
			*ignoreDocker = dockerAnswers(ctx)
		}
		note := ""
		if *ignoreDocker {
			subnets := dockerSubnets(before, after)
			var n1, n2 int
			before, n1 = withoutDocker(before, subnets)
			after, n2 = withoutDocker(after, subnets)
			note = fmt.Sprintf(" (-ignore-docker left out %d and %d lines of the Docker Engine)", n1, n2)
		}
		if *ignoreNetns != "" {
			before, after = withoutNetns(before, *ignoreNetns), withoutNetns(after, *ignoreNetns)
		}
		report := compare(before, after)
		if report == "" {
			fmt.Fprintf(stdout, "rootguard: the root network namespace is unchanged since %s%s\n", file, note)
			return 0
		}
		fmt.Fprintf(stdout, "rootguard: the root network namespace changed since %s%s (- before, + after):\n%s", file, note, report)
		fmt.Fprintln(stdout, "rootguard: nothing of a lab may live in the root namespace: find the test that leaked this, and remove it by hand")
		return 1

	default:
		fmt.Fprintln(stderr, usage)
		return 2
	}
}

// dockerAnswers reports whether a Docker Engine answers `docker info`.
func dockerAnswers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "docker", "info").Run() == nil
}

// withoutNetns is s without the named namespaces that match glob.
func withoutNetns(s snapshot, glob string) snapshot {
	out := make(snapshot, len(s))
	for k, v := range s {
		out[k] = v
	}
	var kept []string
	for _, name := range s["netns"] {
		if ok, _ := path.Match(glob, name); !ok {
			kept = append(kept, name)
		}
	}
	out["netns"] = kept
	return out
}
