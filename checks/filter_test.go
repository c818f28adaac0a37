package checks

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"
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
		if got := errText(err); got != c.want {
			t.Errorf("ParseFilter(%q):\n got: %s\nwant: %s", c.expr, got, c.want)
		}
	}
}

// filterCases are expressions and how many packets of all recordings each
// matches, as counted by tcpdump itself (which compiles them to BPF).
var filterCases = []struct {
	expr string
	n    int
}{
	{"", 137},
	{"tcp", 85},
	{"udp", 8},
	{"icmp", 24},
	{"arp", 16},
	{"ip", 116},
	{"ip6", 4},
	{"host 172.17.0.2", 96},
	{"src host 192.168.190.1", 41},
	{"dst host 192.168.190.1", 42},
	{"port 80", 64},
	{"src port 80", 29},
	{"dst port 80", 35},
	{"net 172.17.0.0/16", 96},
	{"net 172.17.0.2", 96},
	{"tcp and not port 80", 21},
	{"udp or icmp", 32},
	{"not arp", 121},
	{"!tcp && !udp", 44},
	{"tcp port 80 and (src host 172.17.0.2 or dst host 172.17.0.2)", 53},
	{"port 7777 or 9", 8},
	{"host 192.168.190.1 or 172.17.0.1", 90},
	{"arp host 172.17.0.1", 7},
	{"udp dst port 7777", 4},
	{"icmp or arp and host 172.17.0.2", 29},
	{"not host 172.17.0.2 and not arp", 32},
	{"src 192.168.190.1", 41},
}

func TestFilterMatches(t *testing.T) {
	var all []Packet
	for _, name := range recordings(t) {
		all = append(all, readPcap(t, name)...)
	}
	for _, c := range filterCases {
		got, err := FilterPackets(all, c.expr)
		if err != nil {
			t.Errorf("FilterPackets(%q): %v", c.expr, err)
			continue
		}
		if len(got) != c.n {
			t.Errorf("filter %q matched %d packets, want %d", c.expr, len(got), c.n)
		}
	}
}

// TestFilterTcpdump checks each expression against tcpdump's own reading
// of each recording, packet by packet.
func TestFilterTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("skipping: tcpdump not installed")
	}
	for _, name := range recordings(t) {
		pkts := readPcap(t, name)
		path := filepath.Join(pcapDir, name+".pcap")
		for _, c := range filterCases {
			got, err := FilterPackets(pkts, c.expr)
			if err != nil {
				t.Fatal(err)
			}
			out := tcpdumpRead(t, path, "-n", "-t", c.expr)
			var want []string
			for _, l := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
				if len(l) > 0 && l[0] != '\t' {
					want = append(want, string(l))
				}
			}
			if len(got) != len(want) {
				t.Errorf("%s, filter %q: %d packets, tcpdump %d", name, c.expr, len(got), len(want))
			}
		}
	}
}

func TestFilterString(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"", ""},
		{"tcp", "tcp"},
		{"host 1.2.3.4", "host 1.2.3.4"},
		{"1.2.3.4", "host 1.2.3.4"},
		{"10.0.0.0/8", "net 10.0.0.0/8"},
		{"src 1.2.3.4", "src host 1.2.3.4"},
		{"tcp src 80", "tcp src port 80"},
		{"port 80 or 443", "(port 80 or port 443)"},
		{"tcp port 80 or 443 and not src host 10.0.0.1 or 10.0.0.2",
			"(((tcp port 80 or tcp port 443) and not src host 10.0.0.1) or src host 10.0.0.2)"},
		{"!tcp && (udp || icmp)", "(not tcp and (udp or icmp))"},
		{"ip6 dst net fd00::/8", "ip6 dst net fd00::/8"},
		{"arp src host 10.0.0.1", "arp src host 10.0.0.1"},
		{"net 10.0.0.1", "net 10.0.0.1/32"},
	} {
		f, err := ParseFilter(c.expr)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", c.expr, err)
			continue
		}
		if got := f.String(); got != c.want {
			t.Errorf("ParseFilter(%q).String() = %q, want %q", c.expr, got, c.want)
		}
		g, err := ParseFilter(f.String())
		if err != nil || g.String() != f.String() {
			t.Errorf("canonical form %q does not read back: %v", f.String(), err)
		}
	}
}

// FuzzParseFilter: parsing never panics, and a parsed filter's canonical
// form reads back to itself and matches packets without panicking.
func FuzzParseFilter(f *testing.F) {
	for _, c := range filterCases {
		f.Add(c.expr)
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
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", flt.String(), expr, err)
		}
		if again.String() != flt.String() {
			t.Fatalf("canonical form of %q changed on reparse: %q, then %q", expr, flt.String(), again.String())
		}
		for _, p := range pkts {
			if flt.Match(p) != again.Match(p) {
				t.Fatalf("%q and its canonical form %q disagree on %s", expr, flt.String(), Summary(p))
			}
		}
	})
}
