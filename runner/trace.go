package runner

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/labrun/labrun/checks/trace"
	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/runner/dockercli"
)

// traceTimeout bounds the traced connection, as reach's attempt.
const traceTimeout = reachTimeout

var traceCmd = Cmd{
	Name:  "trace",
	Usage: "[-timeout D] [-reply] [-json] FROM ADDR:PORT|URL|ping ADDR",
	Summary: "Make one connection from node FROM (a TCP handshake, an HTTP GET, or one ICMP echo) and print the way " +
		"its first packet took, one line per step, as the kernel's nftables tracing reports it in every namespace it " +
		"crossed: where it arrives, each chain with the rule that matched and its verdict, every rewrite (DNAT, SNAT), " +
		"the route, the bridge port it leaves by, and the end (delivered, refused, dropped by a rule, no route). " +
		"Fails, after printing the walk, when the connection fails.",
	Detail: "The first line is the connection and how it went (`trace client -> 192.168.190.128:801: connected`); " +
		"then a line per step, `NODE: ...`, and the end alone:\n\n" +
		"    host: DNAT 192.168.190.128:801 -> 172.17.0.2:80\n" +
		"    host: filter DOCKER: -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT => accept\n" +
		"    host: leaves by docker0 port veth1a2b3c4 to web\n" +
		"    delivered to web (172.17.0.2:80, httpd listening)\n\n" +
		"Rules are written as the lab's firewall back end has them: `iptables -S` text, or with " +
		"`--firewall-backend=nftables` nft's syntax (`ip docker-bridges filter-FORWARD: ...`), without counters. " +
		"-reply also walks the answer (the SYN-ACK, the reset, the echo reply) after a line `reply:`, with the rewrites " +
		"conntrack makes on it, marked `(conntrack)`. -timeout bounds the connection (default 1s); a dropped packet " +
		"makes the trace wait that long. -json prints the result as JSON instead (what `labrun diagram -trace` draws).\n\n" +
		"Only the traced connection's packets are marked (by the source port the trace binds, or the echo's " +
		"identifier), with a table of the trace's own in each namespace, `table inet labrun-trace-XXXX`, which is " +
		"removed before the command returns: the rule sets are exactly as before. docs/trace.md explains how to read a trace.",
	Negatable: true,
	Run:       runTrace,
}

func runTrace(e *Env, args []string) error {
	reply, asJSON := false, false
	rest, timeout, err := probeFlags(args, traceTimeout, func(fs *dockercli.FlagSet) {
		fs.Bool(&reply, "", "reply")
		fs.Bool(&asJSON, "", "json")
	})
	if err != nil {
		return err
	}
	if len(rest) < 2 {
		return ErrUsage
	}
	target, err := trace.ParseTarget(rest[1:])
	if err != nil {
		return usagef("trace: %v", err)
	}
	lab, err := e.Lab()
	if err != nil {
		return err
	}
	if _, err := lab.Node(rest[0]); err != nil {
		return err
	}
	res, err := Trace(e.Context(), lab, rest[0], target, trace.Options{Timeout: timeout, Reply: reply})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.Stdout())
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		enc.Encode(res.Record())
	} else {
		fmt.Fprint(e.Stdout(), res.String())
	}
	if res.Err != nil {
		return probeFail(e, "trace", res.Err)
	}
	return nil
}

// Trace traces one connection from node from to target in lab (see
// package checks/trace): every world node and running container is
// watched. o's Nodes, From and Target are filled in; its Timeout, when
// zero, is trace's default.
func Trace(ctx context.Context, lab *netkit.Lab, from string, target trace.Target, o trace.Options) (*trace.Result, error) {
	o.Nodes, o.From, o.Target = TraceNodes(lab), from, target
	if o.Timeout <= 0 {
		o.Timeout = traceTimeout
	}
	return trace.Run(ctx, o)
}

// TraceNodes are the namespaces a trace watches: the world's nodes, then
// the running containers (one that shares a node's namespace is that
// node).
func TraceNodes(lab *netkit.Lab) []trace.Node {
	var out []trace.Node
	for _, name := range lab.Nodes() {
		if n, err := lab.Node(name); err == nil {
			out = append(out, trace.Node{Name: name, NS: n.NS()})
		}
	}
	for _, e := range lab.Engines() { // every Docker host's
		for _, c := range e.Containers(false) {
			if n := c.Node(); n != nil {
				out = append(out, trace.Node{Name: c.Name, NS: n.NS()})
			}
		}
	}
	return out
}
