package ports

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSort(t *testing.T) {
	tests := []struct {
		name     string
		in, want []Binding
	}{{
		name: "ascending container port, so -P with EXPOSE 443 80 gives 80 the first port",
		in:   []Binding{{Container: tcp(443)}, {Container: tcp(80)}},
		want: []Binding{{Container: tcp(80)}, {Container: tcp(443)}},
	}, {
		name: "exact host ports before ephemeral ports and ranges",
		in: []Binding{
			{Container: tcp(80)},
			{Container: tcp(81), HostPort: 9000, HostPortEnd: 9010},
			{Container: tcp(443), HostPort: 8443},
			{Container: tcp(444), HostPort: 9005, HostPortEnd: 9005},
		},
		want: []Binding{
			{Container: tcp(443), HostPort: 8443},
			{Container: tcp(444), HostPort: 9005, HostPortEnd: 9005},
			{Container: tcp(80)},
			{Container: tcp(81), HostPort: 9000, HostPortEnd: 9010},
		},
	}, {
		name: "protocol tcp < udp < sctp",
		in:   []Binding{{Container: sctp(53)}, {Container: udp(53)}, {Container: tcp(53)}},
		want: []Binding{{Container: tcp(53)}, {Container: udp(53)}, {Container: sctp(53)}},
	}, {
		name: "host port, then range end",
		in: []Binding{
			{Container: tcp(80), HostPort: 9000, HostPortEnd: 9020},
			{Container: tcp(80), HostPort: 9000, HostPortEnd: 9010},
			{Container: tcp(80), HostPort: 8000, HostPortEnd: 8100},
		},
		want: []Binding{
			{Container: tcp(80), HostPort: 8000, HostPortEnd: 8100},
			{Container: tcp(80), HostPort: 9000, HostPortEnd: 9010},
			{Container: tcp(80), HostPort: 9000, HostPortEnd: 9020},
		},
	}, {
		name: "host address: none, then IPv4 (0.0.0.0 first), then IPv6",
		in: []Binding{
			{Container: tcp(80), HostIP: lo6, HostPort: 8080},
			{Container: tcp(80), HostIP: any6, HostPort: 8080},
			{Container: tcp(80), HostIP: lo4, HostPort: 8080},
			{Container: tcp(80), HostIP: any4, HostPort: 8080},
			{Container: tcp(80), HostPort: 8080},
		},
		want: []Binding{
			{Container: tcp(80), HostPort: 8080},
			{Container: tcp(80), HostIP: any4, HostPort: 8080},
			{Container: tcp(80), HostIP: lo4, HostPort: 8080},
			{Container: tcp(80), HostIP: any6, HostPort: 8080},
			{Container: tcp(80), HostIP: lo6, HostPort: 8080},
		},
	}, {
		name: "container port outranks host port and protocol",
		in: []Binding{
			{Container: udp(80), HostPort: 1},
			{Container: tcp(81), HostPort: 2},
			{Container: tcp(80), HostPort: 3},
		},
		want: []Binding{
			{Container: tcp(80), HostPort: 3},
			{Container: udp(80), HostPort: 1},
			{Container: tcp(81), HostPort: 2},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Sort(tt.in)
			require.Equal(t, tt.want, tt.in)
		})
	}
}

func TestSortParsedSpecs(t *testing.T) {
	var bs []Binding
	for _, spec := range []string{"443", "127.0.0.1:8080:80", "53/udp", "53", "9000-9010:8000"} {
		b, err := ParsePublish(spec)
		require.NoError(t, err)
		bs = append(bs, b...)
	}
	Sort(bs)
	require.Equal(t, []Binding{
		{Container: tcp(80), HostIP: lo4, HostPort: 8080},
		{Container: tcp(53)},
		{Container: udp(53)},
		{Container: tcp(443)},
		{Container: tcp(8000), HostPort: 9000, HostPortEnd: 9010},
	}, bs)
}

// TestSortPortMap: Docker before 27 orders -p 9800-9803:80-83 from the
// highest port down, -P with EXPOSE 80 and 443 443 first, and -p
// 10111:22 -p 801:80 in the reverse of its input (the comparator is not
// strict there; the daemon's input order is a Go map's).
func TestSortPortMap(t *testing.T) {
	tcpB := func(host, ctr uint16) Binding { return Binding{Container: Port{Num: ctr, Proto: TCP}, HostPort: host} }
	for _, tc := range []struct {
		name     string
		in, want []Binding
	}{
		{"range pairs", []Binding{tcpB(9800, 80), tcpB(9801, 81), tcpB(9802, 82), tcpB(9803, 83)},
			[]Binding{tcpB(9803, 83), tcpB(9802, 82), tcpB(9801, 81), tcpB(9800, 80)}},
		{"publish all", []Binding{tcpB(0, 80), tcpB(0, 443)}, []Binding{tcpB(0, 443), tcpB(0, 80)}},
		{"article", []Binding{tcpB(10111, 22), tcpB(801, 80)}, []Binding{tcpB(801, 80), tcpB(10111, 22)}},
		{"one port twice: the higher host port first", []Binding{tcpB(8080, 80), tcpB(8081, 80)}, []Binding{tcpB(8081, 80), tcpB(8080, 80)}},
		{"tcp before udp", []Binding{{Container: Port{Num: 53, Proto: UDP}}, tcpB(0, 53)},
			[]Binding{tcpB(0, 53), {Container: Port{Num: 53, Proto: UDP}}}},
	} {
		got := append([]Binding(nil), tc.in...)
		SortPortMap(got)
		assert.Equal(t, tc.want, got, tc.name)
	}
}
