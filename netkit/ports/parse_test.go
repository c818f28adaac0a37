package ports

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func tcp(n uint16) Port  { return Port{Num: n, Proto: TCP} }
func udp(n uint16) Port  { return Port{Num: n, Proto: UDP} }
func sctp(n uint16) Port { return Port{Num: n, Proto: SCTP} }

var (
	lo4    = netip.MustParseAddr("127.0.0.1")
	any4   = netip.IPv4Unspecified()
	any6   = netip.IPv6Unspecified()
	lo6    = netip.IPv6Loopback()
	someIP = netip.MustParseAddr("192.168.1.100")
)

// parseCase is a spec a parser takes and what it gives for it.
type parseCase[T any] struct {
	spec string
	want []T
}

// testParses runs parse on each case's spec, a subtest each.
func testParses[T any](t *testing.T, parse func(string) ([]T, error), tests []parseCase[T]) {
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := parse(tt.spec)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// requireSpecError checks that a parser gave nothing and the SpecError
// msg, found (fromDaemon) by the daemon or not.
func requireSpecError[T any](t *testing.T, got []T, err error, msg string, fromDaemon bool) {
	t.Helper()
	require.Nil(t, got)
	require.EqualError(t, err, msg)
	require.ErrorIs(t, err, ErrInvalidSpec)
	var se *SpecError
	require.True(t, errors.As(err, &se))
	require.Equal(t, fromDaemon, se.FromDaemon)
}

func TestParsePublish(t *testing.T) {
	tests := []parseCase[Binding]{
		// Ephemeral host port on all addresses; ":80" and "::80" leave the
		// address and host port fields empty, which is the same thing.
		{"80", []Binding{{Container: tcp(80)}}},
		{":80", []Binding{{Container: tcp(80)}}},
		{"::80", []Binding{{Container: tcp(80)}}},
		{"0:80", []Binding{{Container: tcp(80)}}},
		{"8080:80", []Binding{{Container: tcp(80), HostPort: 8080}}},
		{"8080:80/udp", []Binding{{Container: udp(80), HostPort: 8080}}},
		{"8080:80/UDP", []Binding{{Container: udp(80), HostPort: 8080}}},
		{"80/", []Binding{{Container: tcp(80)}}},
		{"80/sctp", []Binding{{Container: sctp(80)}}},
		{"192.168.1.100:8080:80", []Binding{{Container: tcp(80), HostIP: someIP, HostPort: 8080}}},
		{"0.0.0.0:8080:80", []Binding{{Container: tcp(80), HostIP: any4, HostPort: 8080}}},
		{"127.0.0.1::80", []Binding{{Container: tcp(80), HostIP: lo4}}},
		{"8000-8010:80", []Binding{{Container: tcp(80), HostPort: 8000, HostPortEnd: 8010}}},
		{"8000-8000:80", []Binding{{Container: tcp(80), HostPort: 8000}}},
		{"8000-08000:80", []Binding{{Container: tcp(80), HostPort: 8000}}},
		{"9800-9803:80-83", []Binding{
			{Container: tcp(80), HostPort: 9800},
			{Container: tcp(81), HostPort: 9801},
			{Container: tcp(82), HostPort: 9802},
			{Container: tcp(83), HostPort: 9803},
		}},
		{"127.0.0.1:9800-9801:80-81/udp", []Binding{
			{Container: udp(80), HostIP: lo4, HostPort: 9800},
			{Container: udp(81), HostIP: lo4, HostPort: 9801},
		}},
		{"8000-8002", []Binding{{Container: tcp(8000)}, {Container: tcp(8001)}, {Container: tcp(8002)}}},
		{"80-80", []Binding{{Container: tcp(80)}}},
		{"[::1]:8080:80", []Binding{{Container: tcp(80), HostIP: lo6, HostPort: 8080}}},
		{"[::]::80", []Binding{{Container: tcp(80), HostIP: any6}}},
		{"::1:8080:80", []Binding{{Container: tcp(80), HostIP: lo6, HostPort: 8080}}},
		{"::::80", []Binding{{Container: tcp(80), HostIP: any6}}},
		{"2001:db8::1::80", []Binding{{Container: tcp(80), HostIP: netip.MustParseAddr("2001:db8::1")}}},
		{"[1.2.3.4]:80:80", []Binding{{Container: tcp(80), HostIP: netip.MustParseAddr("1.2.3.4"), HostPort: 80}}},
		{"::ffff:1.2.3.4:80:80", []Binding{{Container: tcp(80), HostIP: netip.MustParseAddr("::ffff:1.2.3.4"), HostPort: 80}}},
		// Empty brackets are no address at all, as in Docker.
		{"[]:80:80", []Binding{{Container: tcp(80), HostPort: 80}}},
		// go-connections v0.6.0 parses ports with strconv.ParseInt: a
		// leading "+" and leading zeros pass.
		{"+8080:+80", []Binding{{Container: tcp(80), HostPort: 8080}}},
		{"08080:0080", []Binding{{Container: tcp(80), HostPort: 8080}}},
		{"65535:65535", []Binding{{Container: tcp(65535), HostPort: 65535}}},
	}
	testParses(t, ParsePublish, tests)
}

func TestParsePublishWholeRange(t *testing.T) {
	got, err := ParsePublish("1-65535/udp")
	require.NoError(t, err)
	require.Len(t, got, 65535)
	require.Equal(t, Binding{Container: udp(65535)}, got[65534])
}

func TestParsePublishErrors(t *testing.T) {
	tests := []struct {
		spec       string
		msg        string
		fromDaemon bool
	}{
		{"", "no port specified: <empty>", false},
		{"8080:", "no port specified: 8080:<empty>", false},
		{"8080:/udp", "no port specified: 8080:/udp<empty>", false},
		{"1.2.3.4::", "no port specified: 1.2.3.4::<empty>", false},
		// The protocol is checked before the address and the ports.
		{"80/sctpx", "invalid proto: sctpx", false},
		{"80/UDPX", "invalid proto: udpx", false},
		{"80/tcp/x", "invalid proto: tcp/x", false},
		{"1.2.3:abc:80/foo", "invalid proto: foo", false},
		{"1.2.3:80:80", "invalid IP address: 1.2.3", false},
		{"localhost:80:80", "invalid IP address: localhost", false},
		{"80:80:80", "invalid IP address: 80", false},
		{"01.2.3.4:80:80", "invalid IP address: 01.2.3.4", false},
		{"1.2.3.4:80:80:80", "invalid IP address: 1.2.3.4:80", false},
		{"[fe80::1%eth0]:80:80", "invalid IP address: fe80::1%eth0", false},
		{"1.2.3:abc:80", "invalid IP address: 1.2.3", false},
		// Brackets go through net.SplitHostPort, whose error is quoted.
		{"[::1:80:80", "invalid IP address [::1: address [::1:: missing ']' in address", false},
		{"[::1]x:80:80", "invalid IP address [::1]x: address [::1]x:: missing port in address", false},
		{"[::1]:80", "invalid IP address [:: address [::: missing ']' in address", false},
		{"abc:80", "invalid hostPort: abc", false},
		{"70000:80", "invalid hostPort: 70000", false},
		{"9090-9089:80", "invalid hostPort: 9090-9089", false},
		{"-9090:80", "invalid hostPort: -9090", false},
		{"9090-:80", "invalid hostPort: 9090-", false},
		{"8000-8010-9000:80", "invalid hostPort: 8000-8010-9000", false},
		{"1.2.3.4:-1:80", "invalid hostPort: -1", false},
		{"8080:abc", "invalid containerPort: abc", false},
		{"abc:xyz", "invalid containerPort: xyz", false},
		{"70000", "invalid containerPort: 70000", false},
		{"80-79", "invalid containerPort: 80-79", false},
		{"-1", "invalid containerPort: -1", false},
		{" 80", "invalid containerPort:  80", false},
		{"8000-8001:80-82", "invalid ranges specified for container and host Ports: 80-82 and 8000-8001", false},
		{"8080:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8080", false},
		// Container port 0 passes the CLI and is refused by the daemon.
		{"0", `invalid port specification: "0/tcp"`, true},
		{"8080:0/udp", `invalid port specification: "0/udp"`, true},
		{"0-2/SCTP", `invalid port specification: "0/sctp"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParsePublish(tt.spec)
			requireSpecError(t, got, err, tt.msg, tt.fromDaemon)
		})
	}
}

func TestParseExpose(t *testing.T) {
	tests := []parseCase[Port]{
		{"80", []Port{tcp(80)}},
		{"80/udp", []Port{udp(80)}},
		{"80/UDP", []Port{udp(80)}},
		{"80/", []Port{tcp(80)}},
		{"53/sctp", []Port{sctp(53)}},
		{"7000-7002", []Port{tcp(7000), tcp(7001), tcp(7002)}},
		{"7000-7001/udp", []Port{udp(7000), udp(7001)}},
		{"80-80", []Port{tcp(80)}},
		{"0", []Port{tcp(0)}},
	}
	testParses(t, ParseExpose, tests)
}

func TestParseExposeErrors(t *testing.T) {
	const p = "invalid range format for --expose: "
	tests := []struct{ spec, msg string }{
		{"", p + "invalid port range: value is empty"},
		{"/udp", p + "invalid start port '': value is empty"},
		{"abc", p + "invalid start port 'abc': invalid syntax"},
		{"+80", p + "invalid start port '+80': invalid syntax"},
		{"70000", p + "invalid start port '70000': value out of range"},
		{"80:90", p + "invalid start port '80:90': invalid syntax"},
		{"-80", p + "invalid start port '': value is empty"},
		{"80-", p + "invalid end port '': value is empty"},
		{"80-x/udp", p + "invalid end port 'x': invalid syntax"},
		{"80-70000", p + "invalid end port '70000': value out of range"},
		{"90-80/udp", p + "invalid port range: 90-80/udp"},
		// labrun's own refusal: Docker lets any protocol through --expose.
		{"80/foo", "invalid proto: foo"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseExpose(tt.spec)
			requireSpecError(t, got, err, tt.msg, false)
		})
	}
}
