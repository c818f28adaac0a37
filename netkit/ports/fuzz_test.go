package ports

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// formatPublish writes b back as a -p value.
func formatPublish(b Binding) string {
	var s strings.Builder
	if b.HostIP.IsValid() {
		if b.HostIP.Is4() {
			s.WriteString(b.HostIP.String() + ":")
		} else {
			s.WriteString("[" + b.HostIP.String() + "]:")
		}
	}
	if b.HostPort != 0 || b.HostPortEnd != 0 {
		s.WriteString(strconv.Itoa(int(b.HostPort)))
		if b.HostPortEnd != 0 {
			s.WriteString("-" + strconv.Itoa(int(b.HostPortEnd)))
		}
	}
	if s.Len() > 0 {
		s.WriteString(":")
	}
	s.WriteString(b.Container.String())
	return s.String()
}

func FuzzParsePublish(f *testing.F) {
	for _, s := range []string{
		"80", ":80", "::80", "8080:80", "8080:80/udp", "192.168.1.100:8080:80",
		"127.0.0.1::80", "8000-8010:80", "9800-9803:80-83", "[::1]:8080:80",
		"[::]::80", "80/sctp", "8000-8002", "::1:8080:80", "[]:80:80",
		"+8080:+80", "0", "9090-9089:80", "-9090:80", "1.2.3:80:80",
		"80/sctpx", "70000:80", "abc:80", "8080:", "[::1:80:80", "",
		"[fe80::1%eth0]:80:80", "::ffff:1.2.3.4:80:80", "0-10:80",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		bs, err := ParsePublish(spec)
		if err != nil {
			var se *SpecError
			require.ErrorAs(t, err, &se, "ParsePublish(%q): error is not a *SpecError", spec)
			require.NotEmpty(t, se.Msg, "ParsePublish(%q): *SpecError without a message", spec)
			require.ErrorIs(t, err, ErrInvalidSpec, "ParsePublish(%q)", spec)
			require.Nil(t, bs, "ParsePublish(%q): bindings with error %v", spec, err)
			return
		}
		require.NotEmpty(t, bs, "ParsePublish(%q): no bindings and no error", spec)
		first := bs[0]
		for i, b := range bs {
			require.True(t, publishable(b.Container.Proto), "ParsePublish(%q): binding %d has protocol %q", spec, i, b.Container.Proto)
			require.Equal(t, first.Container.Proto, b.Container.Proto, "ParsePublish(%q): binding %d protocol", spec, i)
			require.NotZero(t, b.Container.Num, "ParsePublish(%q): binding %d container port", spec, i)
			require.Equal(t, int(first.Container.Num)+i, int(b.Container.Num), "ParsePublish(%q): binding %d container port", spec, i)
			require.Equal(t, first.HostIP, b.HostIP, "ParsePublish(%q): binding %d host address", spec, i)
			if b.HostPortEnd != 0 {
				require.Len(t, bs, 1, "ParsePublish(%q): binding %d has host range %d-%d", spec, i, b.HostPort, b.HostPortEnd)
				require.Greater(t, b.HostPortEnd, b.HostPort, "ParsePublish(%q): binding %d host range", spec, i)
			}
			require.False(t, first.HostPort == 0 && b.HostPort != 0 && first.HostPortEnd == 0, "ParsePublish(%q): ephemeral and exact host ports mixed", spec)
			if first.HostPort != 0 {
				require.Equal(t, int(first.HostPort)+i, int(b.HostPort), "ParsePublish(%q): binding %d host port", spec, i)
			}
			// Each binding, written back, parses to itself.
			again, err := ParsePublish(formatPublish(b))
			require.NoError(t, err, "ParsePublish(%q): binding %d %+v written as %q", spec, i, b, formatPublish(b))
			require.Equal(t, []Binding{b}, again, "ParsePublish(%q): binding %d written as %q", spec, i, formatPublish(b))
		}
	})
}

func FuzzParseExpose(f *testing.F) {
	for _, s := range []string{"80", "80/udp", "7000-7002", "", "80-", "90-80", "+80", "80/foo"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ps, err := ParseExpose(spec)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidSpec, "ParseExpose(%q)", spec)
			require.Nil(t, ps, "ParseExpose(%q): ports with error %v", spec, err)
			return
		}
		for i, p := range ps {
			require.True(t, publishable(p.Proto), "ParseExpose(%q): port %d is %v", spec, i, p)
			require.Equal(t, int(ps[0].Num)+i, int(p.Num), "ParseExpose(%q): port %d number", spec, i)
		}
	})
}
