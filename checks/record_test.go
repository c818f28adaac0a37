package checks

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The recordings under testdata/pcap are made by this test, on the natLab
// topology, and committed; the unit tests read them back. Re-record with
//
//	go test ./checks -run TestRecordPcaps -record
//
// (as root, with iptables and tcpdump installed). Each NAME.pcap gets two
// golden renderings made by the real tcpdump: NAME.txt (tcpdump -n -t -r)
// and NAME.S.txt (tcpdump -n -t -S -r).
var record = flag.Bool("record", false, "re-record testdata/pcap (needs root, iptables, tcpdump)")

const pcapDir = "../testdata/pcap"

func TestRecordPcaps(t *testing.T) {
	if !*record {
		t.Skip("skipping: re-records testdata/pcap only with -record")
	}
	_, err := exec.LookPath("tcpdump")
	require.NoError(t, err, "recording needs tcpdump for the golden renderings")
	t.Run("dnat", func(t *testing.T) {
		// Client → router:801, published as server:80; plus traffic that
		// the router forwards unchanged (UDP, ping, an ICMP error).
		l := newNATLab(t)
		l.dnat(t)
		l.masquerade(t)
		serveHTTP(t, l.server, "172.17.0.2:80")
		serveUDPEcho(t, l.server, "172.17.0.2:7777")
		recordPair(t, l, "dnat", "r0", "r1", func(ctx context.Context) {
			_, body, err := HTTP(ctx, l.client, "http://192.168.190.128:801/")
			require.NoError(t, err, "HTTP through DNAT")
			require.Equal(t, "hello from 172.17.0.2:80\n", body, "HTTP through DNAT")
			require.NoError(t, Reach(ctx, l.client, "udp", netip.MustParseAddrPort("172.17.0.2:7777")))
			_, err = Ping(ctx, l.client, serverAddr)
			require.NoError(t, err)
			require.Error(t, Reach(ctx, l.client, "udp", netip.MustParseAddrPort("172.17.0.2:9")), "udp to a closed port")
		})
	})
	t.Run("snat", func(t *testing.T) {
		// Server → "internet" 203.0.113.10:80, masqueraded as the router.
		l := newNATLab(t)
		l.dnat(t)
		l.masquerade(t)
		serveHTTP(t, l.client, "203.0.113.10:80")
		recordPair(t, l, "snat", "r1", "r0", func(ctx context.Context) {
			_, _, err := HTTP(ctx, l.server, "http://203.0.113.10/")
			require.NoError(t, err)
			_, err = Ping(ctx, l.server, internetAddr)
			require.NoError(t, err)
		})
	})
	t.Run("nonat", func(t *testing.T) {
		// No rules: the connection to the published port ends at the
		// router (refused), and the server's traffic leaves unmasqueraded.
		l := newNATLab(t)
		serveHTTP(t, l.client, "203.0.113.10:80")
		recordPair(t, l, "nonat", "r0", "r1", func(ctx context.Context) {
			require.Error(t, Reach(ctx, l.client, "tcp", netip.MustParseAddrPort("192.168.190.128:801")), "connect to an unpublished port")
			_, _, err := HTTP(ctx, l.server, "http://203.0.113.10/")
			require.NoError(t, err)
		})
	})
	t.Run("synthetic", func(t *testing.T) {
		writeGolden(t, "synthetic", syntheticPackets(t))
	})
	t.Run("filters", func(t *testing.T) {
		// How many packets of each recording tcpdump's own filter
		// (compiled to BPF) keeps, for TestFilterMatches.
		var b strings.Builder
		for _, name := range recordings(t) {
			for _, expr := range filterExprs {
				out := tcpdumpRead(t, filepath.Join(pcapDir, name+".pcap"), "-n", "-t", expr)
				fmt.Fprintf(&b, "%s\t%d\t%s\n", name, countLines(out), expr)
			}
		}
		require.NoError(t, os.WriteFile(filepath.Join(pcapDir, "filters.txt"), []byte(b.String()), 0o644))
	})
}

// countLines counts tcpdump's packet lines (hex dump lines start with a
// tab).
func countLines(out []byte) int {
	n := 0
	for _, l := range bytes.Split(out, []byte("\n")) {
		if len(l) > 0 && l[0] != '\t' {
			n++
		}
	}
	return n
}

// recordPair captures on two router interfaces while traffic runs, and
// writes NAME_IF.pcap and its goldens for each.
func recordPair(t *testing.T, l *natLab, name, first, second string, traffic func(ctx context.Context)) {
	c1, err := StartCapture(l.router, first, "")
	require.NoError(t, err)
	c2, err := StartCapture(l.router, second, "")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	traffic(ctx)
	writeGolden(t, name+"_"+first, mustStop(t, c1))
	writeGolden(t, name+"_"+second, mustStop(t, c2))
}

// writeGolden writes pkts as NAME.pcap and tcpdump's renderings of it.
func writeGolden(t *testing.T, name string, pkts []Packet) {
	var buf bytes.Buffer
	require.NoError(t, WritePcap(&buf, pkts))
	path := filepath.Join(pcapDir, name+".pcap")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	for suffix, args := range map[string][]string{".txt": {"-n", "-t"}, ".S.txt": {"-n", "-t", "-S"}} {
		out := tcpdumpRead(t, path, args...)
		require.NoError(t, os.WriteFile(filepath.Join(pcapDir, name+suffix), out, 0o644))
	}
	t.Logf("recorded %s: %d packets", path, len(pkts))
}

// tcpdumpRead runs tcpdump -r path with args and returns its stdout.
func tcpdumpRead(t *testing.T, path string, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("tcpdump", append(args, "-r", path)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "tcpdump -r %s\n%s", path, stderr.String())
	return stdout.Bytes()
}
