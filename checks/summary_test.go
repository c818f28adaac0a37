package checks

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readPcap reads testdata/pcap/NAME.pcap.
func readPcap(t testing.TB, name string) []Packet {
	t.Helper()
	f, err := os.Open(filepath.Join(pcapDir, name+".pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkts, err := ReadPcap(f)
	if err != nil {
		t.Fatal(err)
	}
	return pkts
}

// recordings lists the committed pcaps by name.
func recordings(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(pcapDir, "*.pcap"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no recordings in %s: %v", pcapDir, err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".pcap"))
	}
	return names
}

// compareLines reports each line where got differs from want. A summary
// may hold several lines (tcpdump's hex dumps).
func compareLines(t *testing.T, what string, got []string, want string) {
	t.Helper()
	got = strings.Split(strings.Join(got, "\n"), "\n")
	wantLines := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	if len(got) != len(wantLines) {
		t.Errorf("%s: %d lines, want %d", what, len(got), len(wantLines))
	}
	for i := range min(len(got), len(wantLines)) {
		if got[i] != wantLines[i] {
			t.Errorf("%s line %d:\n got: %s\nwant: %s", what, i+1, got[i], wantLines[i])
		}
	}
}

// TestSummariesGolden compares Summaries and Summary with tcpdump's own
// renderings of the recordings, stored next to them.
func TestSummariesGolden(t *testing.T) {
	for _, name := range recordings(t) {
		t.Run(name, func(t *testing.T) {
			pkts := readPcap(t, name)
			rel, err := os.ReadFile(filepath.Join(pcapDir, name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			compareLines(t, "tcpdump -n -t", Summaries(pkts), string(rel))
			abs, err := os.ReadFile(filepath.Join(pcapDir, name+".S.txt"))
			if err != nil {
				t.Fatal(err)
			}
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
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("skipping: tcpdump not installed")
	}
	sets := map[string][]Packet{"synthetic": syntheticPackets(t)}
	for _, name := range recordings(t) {
		sets[name] = readPcap(t, name)
	}
	for name, pkts := range sets {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name+".pcap")
			var buf bytes.Buffer
			if err := WritePcap(&buf, pkts); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			compareLines(t, "tcpdump -n -t", Summaries(pkts), string(tcpdumpRead(t, path, "-n", "-t")))
		})
	}
}

// TestSyntheticMatchesRecording guards the synthetic packets' golden: the
// generator must still produce the frames that were rendered.
func TestSyntheticMatchesRecording(t *testing.T) {
	rec := readPcap(t, "synthetic")
	gen := syntheticPackets(t)
	if len(rec) != len(gen) {
		t.Fatalf("synthetic packets: %d generated, %d recorded; re-record with -record", len(gen), len(rec))
	}
	for i := range gen {
		if !bytes.Equal(rec[i].Data, gen[i].Data) {
			t.Errorf("synthetic packet %d differs from the recording; re-record with -record", i+1)
		}
	}
}

func TestSummaryExamples(t *testing.T) {
	pkts := syntheticPackets(t)
	for i, want := range map[int]string{
		0:  "IP 192.168.190.1.40312 > 172.17.0.2.80: Flags [S], seq 1000000, win 64240, options [mss 1460,sackOK,TS val 12345 ecr 0,nop,wscale 7], length 0",
		18: "IP 192.168.190.1.40000 > 172.17.0.2.7777: UDP, length 5",
		19: "IP 192.168.190.1 > 172.17.0.2: ICMP echo request, id 4660, seq 1, length 64",
	} {
		if got := Summary(pkts[i]); got != want {
			t.Errorf("Summary(packet %d):\n got: %s\nwant: %s", i, got, want)
		}
	}
	var arp string
	for _, s := range Summaries(readPcap(t, "dnat_r0")) {
		if strings.HasPrefix(s, "ARP, Request") {
			arp = s
			break
		}
	}
	if want := "ARP, Request who-has 192.168.190.128 tell 192.168.190.1, length 28"; arp != want {
		t.Errorf("ARP request:\n got: %s\nwant: %s", arp, want)
	}
}
