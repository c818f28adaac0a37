package checks

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/testkit"
)

// readPcap reads testdata/pcap/NAME.pcap.
func readPcap(t testing.TB, name string) []Packet {
	t.Helper()
	f, err := os.Open(filepath.Join(pcapDir, name+".pcap"))
	require.NoError(t, err)
	defer f.Close()
	pkts, err := ReadPcap(f)
	require.NoError(t, err)
	return pkts
}

// recordings lists the committed pcaps by name.
func recordings(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(pcapDir, "*.pcap"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "recordings in %s", pcapDir)
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".pcap"))
	}
	return names
}

// compareLines reports, as a diff, where the summaries got differ from
// what's rendering want. A summary may hold several lines (tcpdump's hex
// dumps).
func compareLines(t *testing.T, what string, got []string, want string) {
	t.Helper()
	if d := testkit.TextDiff(what, strings.TrimSuffix(want, "\n")+"\n", "summaries", strings.Join(got, "\n")+"\n"); d != "" {
		t.Errorf("the summaries differ from %s:\n%s", what, d)
	}
}

// TestSummariesGolden compares Summaries and Summary with tcpdump's own
// renderings of the recordings, stored next to them.
func TestSummariesGolden(t *testing.T) {
	for _, name := range recordings(t) {
		t.Run(name, func(t *testing.T) {
			pkts := readPcap(t, name)
			rel, err := os.ReadFile(filepath.Join(pcapDir, name+".txt"))
			require.NoError(t, err)
			compareLines(t, "tcpdump -n -t", Summaries(pkts), string(rel))
			abs, err := os.ReadFile(filepath.Join(pcapDir, name+".S.txt"))
			require.NoError(t, err)
			var got []string
			for _, p := range pkts {
				got = append(got, Summary(p))
			}
			compareLines(t, "tcpdump -n -t -S", got, string(abs))
		})
	}
}

// TestSummariesTcpdump writes the recordings and the synthetic packets anew
// with WritePcap and has the installed tcpdump read them: tcpdump must
// accept the file and print what Summaries prints.
func TestSummariesTcpdump(t *testing.T) {
	testkit.RequireBinary(t, "tcpdump")
	sets := map[string][]Packet{"synthetic": syntheticPackets(t)}
	for _, name := range recordings(t) {
		sets[name] = readPcap(t, name)
	}
	for name, pkts := range sets {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name+".pcap")
			var buf bytes.Buffer
			require.NoError(t, WritePcap(&buf, pkts))
			require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
			compareLines(t, "tcpdump -n -t", Summaries(pkts), string(tcpdumpRead(t, path, "-n", "-t")))
		})
	}
}

// TestSyntheticMatchesRecording guards the synthetic packets' golden: the
// generator must still produce the frames that were rendered.
func TestSyntheticMatchesRecording(t *testing.T) {
	rec := readPcap(t, "synthetic")
	gen := syntheticPackets(t)
	require.Len(t, gen, len(rec), "synthetic packets generated, as many as recorded; re-record with -record")
	for i := range gen {
		assert.Equal(t, rec[i].Data, gen[i].Data, "synthetic packet %d differs from the recording; re-record with -record", i+1)
	}
}

func TestSummaryExamples(t *testing.T) {
	pkts := syntheticPackets(t)
	for i, want := range map[int]string{
		0:  "IP 192.168.190.1.40312 > 172.17.0.2.80: Flags [S], seq 1000000, win 64240, options [mss 1460,sackOK,TS val 12345 ecr 0,nop,wscale 7], length 0",
		18: "IP 192.168.190.1.40000 > 172.17.0.2.7777: UDP, length 5",
		19: "IP 192.168.190.1 > 172.17.0.2: ICMP echo request, id 4660, seq 1, length 64",
	} {
		assert.Equal(t, want, Summary(pkts[i]), "Summary(packet %d)", i)
	}
	var arp string
	for _, s := range Summaries(readPcap(t, "dnat_r0")) {
		if strings.HasPrefix(s, "ARP, Request") {
			arp = s
			break
		}
	}
	assert.Equal(t, "ARP, Request who-has 192.168.190.128 tell 192.168.190.1, length 28", arp)
}
