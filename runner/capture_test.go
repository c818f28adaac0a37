package runner

import (
	"bytes"
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
		assert.NoError(t, err, "parseCaptureArgs(%q)", tc.args)
		assert.Equal(t, tc.want, got, "parseCaptureArgs(%q)", tc.args)
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
		assertUsageError(t, err, tc.want, "parseCaptureArgs(%q)", tc.args)
	}
}

// assertUsageError asserts that err is a usage error whose text contains
// want, or the bare ErrUsage when want is "".
func assertUsageError(t *testing.T, err error, want string, msgAndArgs ...any) {
	t.Helper()
	if !assert.ErrorIs(t, err, ErrUsage, msgAndArgs...) {
		return
	}
	if want == "" {
		assert.Same(t, ErrUsage, err, msgAndArgs...)
		return
	}
	assert.ErrorContains(t, err, want, msgAndArgs...)
}

func TestParsePacketsArgs(t *testing.T) {
	name, filter, err := parsePacketsArgs([]string{"in", "src", "port", "801"})
	assert.NoError(t, err, "parsePacketsArgs(in src port 801)")
	assert.Equal(t, []string{"in", "src port 801"}, []string{name, filter}, "parsePacketsArgs(in src port 801)")
	name, filter, err = parsePacketsArgs([]string{"ctr"})
	assert.NoError(t, err, "parsePacketsArgs(ctr)")
	assert.Equal(t, []string{"ctr", ""}, []string{name, filter}, "parsePacketsArgs(ctr)")
	for _, args := range [][]string{nil, {"a/b"}, {"in", "port"}, {"in", "tcp", "or"}, {"in", "udp", "port", "x"}} {
		_, _, err := parsePacketsArgs(args)
		assert.ErrorIs(t, err, ErrUsage, "parsePacketsArgs(%q)", args)
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
		assertUsageError(t, err, tc.want, "parseNatArgs(%q)", tc.args)
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
		_, err := checks.ParseFilter(got)
		assert.NoError(t, err, "tupleFilter(%s, %v)", tc.proto, tc.tuple)
	}
}

// TestCaptureNames checks the messages of packets and nat before any
// capture, and of a capture stopped twice, which need no lab.
func TestCaptureNames(t *testing.T) {
	var stdout, stderr bytes.Buffer
	e := &Env{st: &scriptState{workdir: t.TempDir()}, stdout: &stdout, stderr: &stderr}
	assert.ErrorContains(t, runPackets(e, []string{"in"}), `no capture "in" (no capture was started)`, "packets in")
	cs := e.captures()
	cs.m["in"] = &namedCapture{where: "host eth0", stopped: true}
	cs.m["ctr"] = &namedCapture{where: "web eth0"}
	assert.ErrorContains(t, runNat(e, []string{"in", "ctr"}), `capture "ctr" is still running: stop it first (capture stop ctr)`, "nat in ctr")
	assert.ErrorContains(t, runNat(e, []string{"in", "out"}), `no capture "out" (captures: ctr, in)`, "nat in out")
	assert.ErrorContains(t, runCapture(e, []string{"stop", "in"}), "capture stop in: already stopped", "capture stop in")
	assert.ErrorContains(t, runNat(e, []string{"in", "in"}), "no TCP, UDP or ICMP flows", "nat in in")
}

func TestPcapPaths(t *testing.T) {
	cs := newCaptureSet("capture-dnat", "/work", "/pcaps")
	got := strings.Join(cs.pcapPaths("in"), " ")
	assert.Equal(t, "/work/in.pcap /pcaps/capture-dnat-in.pcap", got, "pcapPaths")
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
	p := scriptParams(t, testscript.Params{Files: files}, Options{PcapDir: dir})
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
		if !assert.NoError(t, err, "%s", name) {
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
