package checks

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/testkit"
)

func TestParseFilterErrors(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"host 1.2.3", `filter "host 1.2.3": bad address "1.2.3"`},
		{"port", `filter "port": expected a port number after "port"`},
		{"host", `filter "host": expected an address after "host"`},
		{"net", `filter "net": expected a network after "net"`},
		{"host port 80", `filter "host port 80": expected an address after "host", found "port"`},
		{"port 99999", `filter "port 99999": bad port "99999"`},
		{"port http", `filter "port http": bad port "http"`},
		{"port -1", `filter "port -1": bad port "-1"`},
		{"net 10.0.0.0/33", `filter "net 10.0.0.0/33": bad network "10.0.0.0/33"`},
		{"net 10.0.0.1/8", `filter "net 10.0.0.1/8": bad network "10.0.0.1/8": non-network bits set`},
		{"tcp and", `filter "tcp and": expected an expression after "and"`},
		{"tcp ||", `filter "tcp ||": expected an expression after "||"`},
		{"not", `filter "not": expected an expression after "not"`},
		{"(tcp", `filter "(tcp": missing ")"`},
		{"(", `filter "(": expected an expression after "("`},
		{"tcp)", `filter "tcp)": unexpected ")"`},
		{"()", `filter "()": unexpected ")"`},
		{"and tcp", `filter "and tcp": unexpected "and"`},
		{"tcp udp", `filter "tcp udp": unexpected "udp" (missing "and" or "or"?)`},
		{"(tcp udp)", `filter "(tcp udp)": unexpected "udp" (missing "and" or "or"?)`},
		{"foo", `filter "foo": unknown word "foo"`},
		{"src", `filter "src": expected host, net, port or a value after "src"`},
		{"src and tcp", `filter "src and tcp": expected host, net, port or a value after "src"`},
		{"tcp host 1.2.3.4", `filter "tcp host 1.2.3.4": "host" cannot follow "tcp"`},
		{"ip port 80", `filter "ip port 80": "port" cannot follow "ip"`},
		{"ip6 host 1.2.3.4", `filter "ip6 host 1.2.3.4": "1.2.3.4" is not an IPv6 address, which "ip6" needs`},
		{"arp host ::1", `filter "arp host ::1": "::1" is not an IPv4 address, which "arp" needs`},
		{"tcp & udp", `filter "tcp & udp": unexpected "&"`},
		{"tcp | udp", `filter "tcp | udp": unexpected "|"`},
		{"port 80 or http", `filter "port 80 or http": bad port "http"`},
		{"host fe80::1%eth0", `filter "host fe80::1%eth0": bad address "fe80::1%eth0"`},
	} {
		_, err := ParseFilter(c.expr)
		assert.Equal(t, c.want, errText(err), "ParseFilter(%q)", c.expr)
	}
}

// filterExprs are the expressions TestFilterMatches checks on every
// recording, against the counts that tcpdump's own filter (compiled to BPF)
// gave, stored in testdata/pcap/filters.txt when recording.
var filterExprs = []string{
	"",
	"tcp", "udp", "icmp", "arp", "ip", "ip6",
	"host 172.17.0.2", "src host 192.168.190.1", "dst host 192.168.190.1",
	"port 80", "src port 80", "dst port 80",
	"net 172.17.0.0/16", "net 172.17.0.2", "src net 192.168.190.0/24",
	"tcp and not port 80", "udp or icmp", "not arp", "!tcp && !udp",
	"tcp port 80 and (src host 172.17.0.2 or dst host 172.17.0.2)",
	"port 7777 or 9", "host 192.168.190.1 or 172.17.0.1", "arp host 172.17.0.1",
	"udp dst port 7777", "icmp or arp and host 172.17.0.2",
	"not host 172.17.0.2 and not arp", "src 192.168.190.1", "not (tcp or udp) and ip",
	"ip6 and tcp", "ip6 host fd00::1", "tcp src port 801 or dst port 801",
}

func TestFilterMatches(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join(pcapDir, "filters.txt"))
	require.NoError(t, err)
	pkts := map[string][]Packet{}
	checked := 0
	for _, line := range strings.Split(strings.TrimSuffix(string(golden), "\n"), "\n") {
		name, rest, _ := strings.Cut(line, "\t")
		count, expr, _ := strings.Cut(rest, "\t")
		if pkts[name] == nil {
			pkts[name] = readPcap(t, name)
		}
		got, err := FilterPackets(pkts[name], expr)
		if !assert.NoError(t, err, "FilterPackets(%q)", expr) {
			continue
		}
		want, _ := strconv.Atoi(count)
		assert.Len(t, got, want, "%s: filter %q, as many packets as tcpdump matched", name, expr)
		checked++
	}
	assert.Equal(t, len(filterExprs)*len(recordings(t)), checked, "cases in filters.txt; re-record with -record")
}

// TestFilterTcpdump checks each expression against the installed tcpdump
// on the synthetic packets, which change with the code (the recordings'
// counts are in filters.txt).
func TestFilterTcpdump(t *testing.T) {
	testkit.RequireBinary(t, "tcpdump")
	pkts := syntheticPackets(t)
	path := filepath.Join(t.TempDir(), "synthetic.pcap")
	var buf bytes.Buffer
	require.NoError(t, WritePcap(&buf, pkts))
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	for _, expr := range filterExprs {
		got, err := FilterPackets(pkts, expr)
		require.NoError(t, err)
		assert.Len(t, got, countLines(tcpdumpRead(t, path, "-n", "-t", expr)), "filter %q, as many packets as tcpdump matched", expr)
	}
}

// FuzzParseFilter: parsing never panics, and a parsed filter's canonical
// form reads back to itself and matches packets without panicking.
func FuzzParseFilter(f *testing.F) {
	for _, e := range filterExprs {
		f.Add(e)
	}
	for _, s := range []string{"host 1.2.3", "(", "!(", "&&", "port 80 or", "tcp src", "src or dst port 80", "net ::/0", "((((tcp))))"} {
		f.Add(s)
	}
	pkts := syntheticPackets(f)
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := ParseFilter(expr)
		if err != nil {
			return
		}
		again, err := ParseFilter(flt.String())
		require.NoError(t, err, "canonical form %q of %q does not parse", flt.String(), expr)
		require.Equal(t, flt.String(), again.String(), "canonical form of %q changed on reparse", expr)
		for _, p := range pkts {
			require.Equal(t, flt.Match(p), again.Match(p), "%q and its canonical form %q disagree on %s", expr, flt.String(), Summary(p))
		}
	})
}
