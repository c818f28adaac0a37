package runner

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/checks"
	"github.com/labrun/labrun/netkit/testkit"
)

func TestParseCaptureArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want captureReq
	}{
		{[]string{"start", "in", "host", "eth0"}, captureReq{start: true, name: "in", node: "host", iface: "eth0"}},
		{[]string{"start", "ctr", "web", "eth0", "tcp and port 80"}, captureReq{start: true, name: "ctr", node: "web", iface: "eth0", filter: "tcp and port 80"}},
		{[]string{"start", "in", "host", "eth0", "tcp", "and", "port", "801"}, captureReq{start: true, name: "in", node: "host", iface: "eth0", filter: "tcp and port 801"}},
		{[]string{"start", "x.1_a-b", "internet", "eth0", "(", "icmp", "or", "arp", ")"}, captureReq{start: true, name: "x.1_a-b", node: "internet", iface: "eth0", filter: "( icmp or arp )"}},
		{[]string{"stop", "in"}, captureReq{name: "in"}},
	} {
		got, err := parseCaptureArgs(tc.args)
		if err != nil || got != tc.want {
			t.Errorf("parseCaptureArgs(%q) = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string // in the error; "" for the bare ErrUsage
	}{
		{nil, ""},
		{[]string{"begin", "in"}, `unknown subcommand "begin"`},
		{[]string{"start", "in", "host"}, "want NAME NODE IFACE"},
		{[]string{"stop"}, "want NAME only"},
		{[]string{"stop", "in", "out"}, "want NAME only"},
		{[]string{"start", "../x", "host", "eth0"}, `"../x" is not a capture name`},
		{[]string{"stop", ".hidden"}, `".hidden" is not a capture name`},
		{[]string{"start", "in", "host", "eth0", "port", "http"}, `"http"`},
		{[]string{"start", "in", "host", "eth0", "host", "10.0.0.1", "tcp"}, `unexpected "tcp" (missing "and" or "or"?)`},
		{[]string{"start", "in", "host", "eth0", "host", "1.2.3"}, `bad address "1.2.3"`},
	} {
		_, err := parseCaptureArgs(tc.args)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("parseCaptureArgs(%q): error %v, want a usage error", tc.args, err)
			continue
		}
		if tc.want == "" && err != ErrUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseCaptureArgs(%q): error %q, want one containing %q", tc.args, err, tc.want)
		}
	}
}

func TestParsePacketsArgs(t *testing.T) {
	name, filter, err := parsePacketsArgs([]string{"in", "src", "port", "801"})
	if name != "in" || filter != "src port 801" || err != nil {
		t.Errorf("parsePacketsArgs(in src port 801) = %q, %q, %v", name, filter, err)
	}
	if name, filter, err := parsePacketsArgs([]string{"ctr"}); name != "ctr" || filter != "" || err != nil {
		t.Errorf("parsePacketsArgs(ctr) = %q, %q, %v", name, filter, err)
	}
	for _, args := range [][]string{nil, {"a/b"}, {"in", "port"}, {"in", "tcp", "or"}, {"in", "udp", "port", "x"}} {
		if _, _, err := parsePacketsArgs(args); !errors.Is(err, ErrUsage) {
			t.Errorf("parsePacketsArgs(%q): error %v, want a usage error", args, err)
		}
	}
}

func TestParseNatArgs(t *testing.T) {
	const dnat = "DNAT tcp * > 192.168.190.128:801 => * > 172.17.0.2:80"
	for _, tc := range []struct {
		args []string
		want natReq
	}{
		{[]string{"in", "ctr"}, natReq{first: "in", second: "ctr"}},
		{[]string{"-v", "in", "ctr"}, natReq{verbose: true, first: "in", second: "ctr"}},
		{[]string{"-expect", dnat, "in", "ctr"}, natReq{expects: []string{dnat}, first: "in", second: "ctr"}},
		{[]string{"--expect=" + dnat, "-expect", "none *", "--v", "in", "ctr"}, natReq{verbose: true, expects: []string{dnat, "none *"}, first: "in", second: "ctr"}},
		{[]string{"--", "in", "ctr"}, natReq{first: "in", second: "ctr"}},
	} {
		got, err := parseNatArgs(tc.args)
		if err != nil || got.verbose != tc.want.verbose || got.first != tc.want.first || got.second != tc.want.second ||
			strings.Join(got.expects, "|") != strings.Join(tc.want.expects, "|") {
			t.Errorf("parseNatArgs(%q) = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"in"}, ""},
		{[]string{"in", "ctr", "out"}, ""},
		{[]string{"-expect"}, "-expect needs a rewrite"},
		{[]string{"-expect", " ", "in", "ctr"}, "-expect needs a rewrite"},
		{[]string{"-x", "in", "ctr"}, "unknown flag -x"},
		{[]string{"-v=1", "in", "ctr"}, "-v takes no value"},
		{[]string{"in", "../ctr"}, `"../ctr" is not a capture name`},
	} {
		_, err := parseNatArgs(tc.args)
		if !errors.Is(err, ErrUsage) || tc.want == "" && err != ErrUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseNatArgs(%q): error %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestTupleFilter(t *testing.T) {
	ap := func(s string) checks.Tuple {
		src, dst, _ := strings.Cut(s, " ")
		return checks.Tuple{Src: mustAddrPort(t, src), Dst: mustAddrPort(t, dst)}
	}
	for _, tc := range []struct {
		proto string
		tuple checks.Tuple
		want  string
	}{
		{"tcp", ap("203.0.113.10:80 172.17.0.2:39060"), "tcp and src host 203.0.113.10 and dst host 172.17.0.2 and src port 80 and dst port 39060"},
		{"icmp", ap("203.0.113.10:0 172.17.0.2:7"), "icmp and src host 203.0.113.10 and dst host 172.17.0.2"},
	} {
		got := tupleFilter(tc.proto, tc.tuple)
		assert.Equal(t, tc.want, got, "tupleFilter(%s, %v)", tc.proto, tc.tuple)
		if _, err := checks.ParseFilter(got); err != nil {
			t.Errorf("tupleFilter(%s, %v): %v", tc.proto, tc.tuple, err)
		}
	}
}

// TestCaptureNames checks the messages of packets and nat before any
// capture, and of a capture stopped twice, which need no lab.
func TestCaptureNames(t *testing.T) {
	var stdout, stderr bytes.Buffer
	e := &Env{st: &scriptState{workdir: t.TempDir()}, stdout: &stdout, stderr: &stderr}
	if err := runPackets(e, []string{"in"}); err == nil || !strings.Contains(err.Error(), `no capture "in" (no capture was started)`) {
		t.Errorf("packets in: error %v", err)
	}
	cs := e.captures()
	cs.m["in"] = &namedCapture{where: "host eth0", stopped: true}
	cs.m["ctr"] = &namedCapture{where: "web eth0"}
	if err := runNat(e, []string{"in", "ctr"}); err == nil || !strings.Contains(err.Error(), `capture "ctr" is still running: stop it first (capture stop ctr)`) {
		t.Errorf("nat in ctr: error %v", err)
	}
	if err := runNat(e, []string{"in", "out"}); err == nil || !strings.Contains(err.Error(), `no capture "out" (captures: ctr, in)`) {
		t.Errorf("nat in out: error %v", err)
	}
	if err := runCapture(e, []string{"stop", "in"}); err == nil || !strings.Contains(err.Error(), "capture stop in: already stopped") {
		t.Errorf("capture stop in: error %v", err)
	}
	if err := runNat(e, []string{"in", "in"}); err == nil || !strings.Contains(err.Error(), "no TCP, UDP or ICMP flows") {
		t.Errorf("nat in in: error %v", err)
	}
}

func TestPcapPaths(t *testing.T) {
	cs := newCaptureSet("capture-dnat", "/work", "/pcaps")
	got := strings.Join(cs.pcapPaths("in"), " ")
	if want := "/work/in.pcap /pcaps/capture-dnat-in.pcap"; got != want {
		t.Errorf("pcapPaths = %q, want %q", got, want)
	}
	assert.Equal(t, "/work/in.pcap", strings.Join(newCaptureSet("x", "/work", "").pcapPaths("in"), " "), "pcapPaths without -pcap-dir")
}

// captureStart finds the scenarios that write pcaps.
var captureStart = regexp.MustCompile(`(?m)^[ \t]*(\[[^\]]*\][ \t]*)*capture[ \t]+start[ \t]`)

// TestPcapsTcpdump runs every scenario that captures packets, with their
// pcap files gathered in one directory (labrun's -pcap-dir), and checks that
// tcpdump -r reads each one without error and prints the lines that
// `packets` prints for it. It is the Go form of an [exec:tcpdump] condition:
// skipped where tcpdump is not installed.
func TestPcapsTcpdump(t *testing.T) {
	testkit.RequireLab(t)
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("skipping: needs tcpdump")
	}
	all, err := filepath.Glob("../scenarios/*.txt")
	require.NoError(t, err)
	var files []string
	for _, f := range all {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		if captureStart.Match(b) {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		t.Fatal("no scenario under scenarios/ captures packets")
	}
	dir := t.TempDir()
	p := testscript.Params{Files: files, RequireExplicitExec: true, RequireUniqueNames: true}
	if d, ok := t.Deadline(); ok {
		p.Deadline = d
	}
	require.NoError(t, SetupWith(&p, Options{PcapDir: dir}))
	// The scenarios run in parallel subtests; t.Run returns when all
	// have finished.
	t.Run("scenarios", func(t *testing.T) { testscript.Run(t, p) })

	pcaps, err := filepath.Glob(filepath.Join(dir, "*.pcap"))
	require.NoError(t, err)
	for _, f := range files {
		if m, _ := filepath.Glob(filepath.Join(dir, strings.TrimSuffix(filepath.Base(f), ".txt")+"-*.pcap")); len(m) == 0 && !t.Failed() {
			t.Errorf("%s: captures packets but wrote no pcap in -pcap-dir", f)
		}
	}
	lines, excused := 0, 0
	for _, pcap := range pcaps {
		name := filepath.Base(pcap)
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(tcpdump, "-n", "-t", "-r", pcap)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: tcpdump -r: %v\n%s", name, err, stderr.String())
			continue
		}
		if s := strings.TrimSpace(stderr.String()); !strings.HasPrefix(s, "reading from file ") || strings.Contains(s, "\n") {
			t.Errorf("%s: tcpdump -r complained:\n%s", name, s)
		}
		f, err := os.Open(pcap)
		require.NoError(t, err)
		pkts, err := checks.ReadPcap(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// What the packets command prints for this capture.
		got := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
		want := strings.Split(strings.Join(checks.Summaries(pkts), "\n"), "\n")
		if len(pkts) == 0 {
			got, want = nil, nil
		}
		if len(got) != len(want) {
			t.Errorf("%s: tcpdump -n -t -r prints %d lines, packets %d:\n%s\npackets prints\n%s",
				name, len(got), len(want), strings.Join(got, "\n"), strings.Join(want, "\n"))
			continue
		}
		for i := range got {
			switch {
			case got[i] == want[i]:
				lines++
			case notReproduced.MatchString(want[i]):
				// checks.Summary says which packets it does not
				// print as tcpdump does.
				excused++
			default:
				t.Errorf("%s: line %d: tcpdump -n -t -r prints\n\t%s\npackets prints\n\t%s", name, i+1, got[i], want[i])
			}
		}
	}
	t.Logf("tcpdump read %d pcap files from %d scenarios: %d lines as packets prints them, %d of protocols packets does not decode",
		len(pcaps), len(files), lines, excused)
}

// notReproduced matches the lines of packets that checks.Summary documents
// as not printed as tcpdump does: ICMP types it does not know (MLD reports,
// behind an IPv6 hop-by-hop header) and IP protocols it does not decode
// (IGMP).
var notReproduced = regexp.MustCompile(`^IP6? [^ ]+ > [^ ]+:\s+(ICMP6, type-#\d+,|ip-proto-\d+ )`)

func mustAddrPort(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	require.NoError(t, err)
	return ap
}
