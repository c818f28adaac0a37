package runner

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/labrun/labrun/checks"
	"github.com/labrun/labrun/netkit/names"
)

var captureCmd = Cmd{
	Name:  "capture",
	Usage: "start NAME NODE IFACE [FILTER...] | stop NAME",
	Summary: "Start capturing the packets that cross interface IFACE of node NODE, or stop the capture NAME " +
		"and write it to NAME.pcap in the scenario's work directory.",
	Detail: "NODE is host, client, gateway, internet, or a running container's name (`capture start ctr web eth0`). " +
		"`capture start` returns once the capture is live, so every packet of the next command is in it. " +
		"FILTER is a tcpdump expression: `host`, `src|dst host`, `net`, `port`, `src|dst port`, " +
		"`tcp|udp|icmp|icmp6|arp|ip|ip6`, `and|or|not`, parentheses; its words may be given as separate " +
		"arguments (`capture start in host eth0 tcp and port 801`). An invalid filter is a usage error " +
		"that names the bad token.\n\n" +
		"`capture stop` prints `NAME: N packets in NAME.pcap`, a file that `tcpdump -r` and Wireshark read; " +
		"with `labrun -pcap-dir DIR` the file is also written there as `SCENARIO-NAME.pcap`. It fails when " +
		"the kernel dropped packets the capture should have had (the file is still written). A capture " +
		"still running when the scenario ends is stopped and written then. A NAME may be started again once " +
		"stopped; the new capture replaces the old one.",
	Negatable: true,
	Run:       runCapture,
}

var packetsCmd = Cmd{
	Name:  "packets",
	Usage: "NAME [FILTER...]",
	Summary: "Print the packets of the stopped capture NAME, one line each, as tcpdump -n -t -r NAME.pcap " +
		"prints them, so that stdout can check them.",
	Detail: "With FILTER (a tcpdump expression, as for capture), only the packets that match. TCP sequence numbers " +
		"are relative to each connection's first packets, as tcpdump prints them. A capture with no " +
		"(matching) packets prints nothing: `! stdout .` checks that. It fails when NAME was never started " +
		"or is still running.",
	Run: runPackets,
}

var natCmd = Cmd{
	Name:  "nat",
	Usage: "[-v] [-expect REWRITE]... FIRST SECOND",
	Summary: "Match the flows of the stopped captures FIRST (where a connection's packets pass first) and SECOND " +
		"(where they pass next) and print, one line each, what happened to each flow in between: " +
		"DNAT, SNAT, SNAT+DNAT, none, lost or extra.",
	Detail: "Lines read\n\n" +
		"    DNAT tcp 192.168.190.1:40312 > 192.168.190.128:801 => 192.168.190.1:40312 > 172.17.0.2:80\n" +
		"    SNAT icmp 172.17.0.2 > 203.0.113.10 id 3 => 192.168.190.128 > 203.0.113.10 id 3\n" +
		"    none tcp 192.168.190.1:40312 > 192.168.190.128:80\n\n" +
		"Packets are paired by what NAT leaves alone (TCP sequence numbers, IP identification and payload, " +
		"ICMP echo sequence), and the replies are checked too: each must carry the reverse rewrite. A flow " +
		"with a problem has it after `; ` on its line: a reply not translated back (`broken reverse " +
		"mapping`), packets seen on one side only, or `reply lost`: replies seen in SECOND that never " +
		"reached FIRST.\n\n" +
		"Without -expect, nat fails when a flow has a problem or the captures hold no TCP, UDP or ICMP " +
		"flow at all. With -expect (repeatable), it fails unless each REWRITE matches a flow without " +
		"problems, and the message shows the packets seen; REWRITE is a line as printed (without its problems), " +
		"in which `*` stands for any run of characters other than a space, such as an ephemeral port or, after " +
		"`id `, an ICMP identifier: `nat -expect 'DNAT tcp * > 192.168.190.128:801 => * > 172.17.0.2:80' in ctr`. " +
		"-v prints each flow's packets on both sides under its line.",
	Negatable: true,
	Run:       runNat,
}

// captureName is what NAME may be: a file name without a path.
var captureName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// captureReq is a parsed capture command line.
type captureReq struct {
	start  bool // start, else stop
	name   string
	node   string
	iface  string
	filter string // the filter words joined with spaces
}

// parseCaptureArgs parses `capture start NAME NODE IFACE [FILTER...]` and
// `capture stop NAME`. It checks the filter, so that a bad one is a usage
// error naming its bad token.
func parseCaptureArgs(args []string) (captureReq, error) {
	if len(args) == 0 {
		return captureReq{}, ErrUsage
	}
	var r captureReq
	switch args[0] {
	case "start":
		if len(args) < 4 {
			return r, usagef("capture start: want NAME NODE IFACE [FILTER...]")
		}
		r = captureReq{start: true, name: args[1], node: args[2], iface: args[3], filter: strings.Join(args[4:], " ")}
		if _, err := checks.ParseFilter(r.filter); err != nil {
			return r, usagef("capture start %s: %v", r.name, err)
		}
	case "stop":
		if len(args) != 2 {
			return r, usagef("capture stop: want NAME only")
		}
		r = captureReq{name: args[1]}
	default:
		return r, usagef("capture: unknown subcommand %q (want start or stop)", args[0])
	}
	if !captureName.MatchString(r.name) {
		return r, usagef("capture: %q is not a capture name (letters, digits, '.', '_', '-')", r.name)
	}
	return r, nil
}

// parsePacketsArgs parses `packets NAME [FILTER...]`.
func parsePacketsArgs(args []string) (name, filter string, err error) {
	if len(args) == 0 {
		return "", "", ErrUsage
	}
	name, filter = args[0], strings.Join(args[1:], " ")
	if !captureName.MatchString(name) {
		return "", "", usagef("packets: %q is not a capture name", name)
	}
	if _, err := checks.ParseFilter(filter); err != nil {
		return "", "", usagef("packets %s: %v", name, err)
	}
	return name, filter, nil
}

// natReq is a parsed nat command line.
type natReq struct {
	verbose       bool
	expects       []string
	first, second string
}

// parseNatArgs parses `nat [-v] [-expect REWRITE]... FIRST SECOND`. Flags
// take one or two dashes, and -expect its value as the next argument or
// after "=".
func parseNatArgs(args []string) (natReq, error) {
	var r natReq
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		a := args[0]
		args = args[1:]
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		switch name {
		case "v":
			if hasValue {
				return r, usagef("nat: -v takes no value")
			}
			r.verbose = true
		case "expect":
			if !hasValue {
				if len(args) == 0 {
					return r, usagef("nat: -expect needs a rewrite")
				}
				value, args = args[0], args[1:]
			}
			if strings.TrimSpace(value) == "" {
				return r, usagef("nat: -expect needs a rewrite")
			}
			r.expects = append(r.expects, value)
		default:
			return r, usagef("nat: unknown flag %s", a)
		}
	}
	if len(args) != 2 {
		return r, ErrUsage
	}
	r.first, r.second = args[0], args[1]
	for _, n := range args {
		if !captureName.MatchString(n) {
			return r, usagef("nat: %q is not a capture name", n)
		}
	}
	return r, nil
}

// captureSet is a script's captures by name, and where stopped ones are
// written.
type captureSet struct {
	scenario string // the scenario's name, for -pcap-dir's file names
	workdir  string // $WORK, where NAME.pcap goes
	pcapDir  string // -pcap-dir, or ""

	mu       sync.Mutex
	m        map[string]*namedCapture
	deferred bool // a Defer stops what still runs at the end
}

// namedCapture is one capture of a script: running while c is set, stopped
// once pkts is.
type namedCapture struct {
	where   string // "NODE IFACE", for messages
	c       *checks.Capture
	stopped bool
	pkts    []checks.Packet
}

func newCaptureSet(scenario, workdir, pcapDir string) *captureSet {
	return &captureSet{scenario: scenario, workdir: workdir, pcapDir: pcapDir, m: map[string]*namedCapture{}}
}

// captures returns the script's capture set, making one for an Env built
// without it (in tests).
func (e *Env) captures() *captureSet {
	if e.st.captures == nil {
		e.st.captures = newCaptureSet("", e.st.workdir, "")
	}
	return e.st.captures
}

func runCapture(e *Env, args []string) error {
	r, err := parseCaptureArgs(args)
	if err != nil {
		return err
	}
	cs := e.captures()
	if r.start {
		err = cs.start(e, r)
	} else {
		err = cs.stop(e, r.name)
	}
	if err != nil {
		fmt.Fprintf(e.Stderr(), "%v\n", err)
	}
	return err
}

// start starts capture r.name on r.node's r.iface. The first start of a
// script arranges for the captures still running at its end to be stopped
// and written.
func (cs *captureSet) start(e *Env, r captureReq) error {
	cs.mu.Lock()
	if old := cs.m[r.name]; old != nil && !old.stopped {
		cs.mu.Unlock()
		return fmt.Errorf("capture start %s: already running on %s", r.name, old.where)
	}
	cs.mu.Unlock()
	ns, err := nodeNS(e, r.node)
	if err != nil {
		return fmt.Errorf("capture start %s: %w", r.name, err)
	}
	c, err := checks.StartCapture(ns, r.iface, r.filter)
	if err != nil {
		var ni *checks.NoInterfaceError
		if errors.As(err, &ni) {
			if near := names.Nearest(ni.Name, ni.Have); near != "" {
				err = fmt.Errorf("%w; did you mean %q?", err, near)
			}
		}
		return fmt.Errorf("capture start %s on %s: %w", r.name, r.node, err)
	}
	cs.mu.Lock()
	cs.m[r.name] = &namedCapture{where: r.node + " " + r.iface, c: c}
	first := !cs.deferred
	cs.deferred = true
	cs.mu.Unlock()
	if first && e.ts != nil {
		e.ts.Defer(cs.stopAll)
	}
	return nil
}

// stop stops capture name, writes its pcap files and reports its size.
func (cs *captureSet) stop(e *Env, name string) error {
	cs.mu.Lock()
	nc := cs.m[name]
	cs.mu.Unlock()
	switch {
	case nc == nil:
		return fmt.Errorf("capture stop %s: no such capture (%s)", name, cs.names())
	case nc.stopped:
		return fmt.Errorf("capture stop %s: already stopped", name)
	}
	n, paths, err := cs.finish(name, nc)
	if len(paths) > 0 {
		fmt.Fprintf(e.Stdout(), "%s: %d packets in %s\n", name, n, filepath.Base(paths[0]))
	}
	if err != nil {
		return fmt.Errorf("capture stop %s: %w", name, err)
	}
	return nil
}

// finish stops nc and writes its packets to the work directory and the
// -pcap-dir. It returns the number of packets and the files written; the
// files are written even when the capture reports dropped packets.
func (cs *captureSet) finish(name string, nc *namedCapture) (int, []string, error) {
	pkts, stopErr := nc.c.Stop()
	cs.mu.Lock()
	nc.stopped, nc.pkts = true, pkts
	cs.mu.Unlock()
	var buf bytes.Buffer
	if err := checks.WritePcap(&buf, pkts); err != nil {
		return len(pkts), nil, errors.Join(stopErr, err)
	}
	var paths []string
	errs := []error{stopErr}
	for _, p := range cs.pcapPaths(name) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			errs = append(errs, fmt.Errorf("writing pcap: %w", err))
			continue
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("writing pcap: %w", err))
			continue
		}
		paths = append(paths, p)
	}
	return len(pkts), paths, errors.Join(errs...)
}

// pcapPaths are the files a capture is written to: NAME.pcap in the work
// directory, and SCENARIO-NAME.pcap in the -pcap-dir.
func (cs *captureSet) pcapPaths(name string) []string {
	paths := []string{filepath.Join(cs.workdir, name+".pcap")}
	if cs.pcapDir != "" {
		scen := unsafeName.ReplaceAllString(cs.scenario, "_")
		if scen == "" {
			scen = "lab"
		}
		paths = append(paths, filepath.Join(cs.pcapDir, scen+"-"+name+".pcap"))
	}
	return paths
}

// stopAll stops and writes the captures still running, at the end of a
// script; errors are dropped, since the script is over.
func (cs *captureSet) stopAll() {
	cs.mu.Lock()
	var running []string
	for name, nc := range cs.m {
		if !nc.stopped {
			running = append(running, name)
		}
	}
	cs.mu.Unlock()
	for _, name := range running {
		cs.finish(name, cs.m[name])
	}
}

// names lists the capture names, for messages.
func (cs *captureSet) names() string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.m) == 0 {
		return "no capture was started"
	}
	var ns []string
	for n := range cs.m {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return "captures: " + strings.Join(ns, ", ")
}

// stopped returns the packets of the stopped capture name.
func (cs *captureSet) stopped(cmd, name string) ([]checks.Packet, error) {
	cs.mu.Lock()
	nc := cs.m[name]
	cs.mu.Unlock()
	switch {
	case nc == nil:
		return nil, fmt.Errorf("%s: no capture %q (%s)", cmd, name, cs.names())
	case !nc.stopped:
		return nil, fmt.Errorf("%s: capture %q is still running: stop it first (capture stop %s)", cmd, name, name)
	}
	return nc.pkts, nil
}

func runPackets(e *Env, args []string) error {
	name, filter, err := parsePacketsArgs(args)
	if err != nil {
		return err
	}
	pkts, err := e.captures().stopped("packets", name)
	if err != nil {
		return err
	}
	if pkts, err = checks.FilterPackets(pkts, filter); err != nil {
		return err
	}
	for _, l := range checks.Summaries(pkts) {
		fmt.Fprintln(e.Stdout(), l)
	}
	return nil
}

func runNat(e *Env, args []string) error {
	r, err := parseNatArgs(args)
	if err != nil {
		return err
	}
	cs := e.captures()
	first, err := cs.stopped("nat", r.first)
	if err != nil {
		return err
	}
	second, err := cs.stopped("nat", r.second)
	if err != nil {
		return err
	}
	rws := checks.MatchNAT(first, second)
	for i := range rws {
		noteLostReplies(&rws[i])
	}
	if r.verbose {
		fmt.Fprint(e.Stdout(), checks.FormatRewrites(rws))
	} else {
		for _, rw := range rws {
			fmt.Fprintln(e.Stdout(), rw.String())
		}
	}
	if len(r.expects) > 0 {
		var errs []error
		for _, want := range r.expects {
			if err := checks.ExpectRewrite(rws, want); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			fmt.Fprintf(e.Stderr(), "%v\n", err)
			return fmt.Errorf("nat %s %s: %w", r.first, r.second, err)
		}
		return nil
	}
	if len(rws) == 0 {
		err := fmt.Errorf("nat %s %s: no TCP, UDP or ICMP flows in the captures (%d and %d packets)", r.first, r.second, len(first), len(second))
		fmt.Fprintf(e.Stderr(), "%v\n", err)
		return err
	}
	var bad []checks.Rewrite
	for _, rw := range rws {
		if len(rw.Problems) > 0 {
			bad = append(bad, rw)
		}
	}
	if len(bad) > 0 {
		err := fmt.Errorf("nat %s %s: %d of %d flows have problems:\n%s", r.first, r.second, len(bad), len(rws), checks.FormatRewrites(bad))
		fmt.Fprintf(e.Stderr(), "%v", err)
		return err
	}
	return nil
}

// noteLostReplies adds a "reply lost" problem to a flow whose replies were
// seen in the second capture and none in the first. checks.MatchNAT does
// not count such replies as a problem when they come after the last packet
// both captures saw, because a capture stopped a little early leaves the
// same trace; but nat's captures are stopped after the traffic has ended,
// so a reply that has not reached the first capture by then never will.
func noteLostReplies(r *checks.Rewrite) {
	switch r.Kind {
	case checks.RewriteLost, checks.RewriteExtra:
		return
	}
	if r.Replies > 0 || len(r.Problems) > 0 {
		return
	}
	inSecond := matching(r.SecondPackets, r.Proto, r.Second.Reverse())
	if len(inSecond) == 0 || len(matching(r.FirstPackets, r.Proto, r.First.Reverse())) > 0 {
		return
	}
	r.Problems = append(r.Problems, fmt.Sprintf("reply lost: %d reply packet(s) in second, none in first: %s",
		len(inSecond), strings.Join(checks.Summaries(inSecond[:1]), "")))
}

// matching returns the packets of pkts that go from t.Src to t.Dst over
// proto (for ICMP, by address only).
func matching(pkts []checks.Packet, proto string, t checks.Tuple) []checks.Packet {
	f, err := checks.ParseFilter(tupleFilter(proto, t))
	if err != nil {
		return nil
	}
	var out []checks.Packet
	for _, p := range pkts {
		if f.Match(p) {
			out = append(out, p)
		}
	}
	return out
}

// tupleFilter is a filter expression for one direction of a flow.
func tupleFilter(proto string, t checks.Tuple) string {
	hosts := func(a, b netip.Addr) string { return "src host " + a.String() + " and dst host " + b.String() }
	switch proto {
	case "tcp", "udp":
		return fmt.Sprintf("%s and %s and src port %d and dst port %d", proto, hosts(t.Src.Addr(), t.Dst.Addr()), t.Src.Port(), t.Dst.Port())
	}
	return proto + " and " + hosts(t.Src.Addr(), t.Dst.Addr())
}
