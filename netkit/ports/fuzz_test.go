package ports

import (
	"errors"
	"strconv"
	"strings"
	"testing"
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
			if !errors.As(err, &se) || se.Msg == "" || !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("ParsePublish(%q): error %#v is not a *SpecError with a message", spec, err)
			}
			if bs != nil {
				t.Fatalf("ParsePublish(%q): bindings %v with error %v", spec, bs, err)
			}
			return
		}
		if len(bs) == 0 {
			t.Fatalf("ParsePublish(%q): no bindings and no error", spec)
		}
		first := bs[0]
		for i, b := range bs {
			if !publishable(b.Container.Proto) || b.Container.Proto != first.Container.Proto {
				t.Fatalf("ParsePublish(%q): binding %d has protocol %q", spec, i, b.Container.Proto)
			}
			if b.Container.Num == 0 || int(b.Container.Num) != int(first.Container.Num)+i {
				t.Fatalf("ParsePublish(%q): binding %d has container port %d", spec, i, b.Container.Num)
			}
			if b.HostIP != first.HostIP {
				t.Fatalf("ParsePublish(%q): binding %d has host address %v", spec, i, b.HostIP)
			}
			if b.HostPortEnd != 0 && (len(bs) != 1 || b.HostPortEnd <= b.HostPort) {
				t.Fatalf("ParsePublish(%q): binding %d has host range %d-%d", spec, i, b.HostPort, b.HostPortEnd)
			}
			if first.HostPort == 0 && b.HostPort != 0 && first.HostPortEnd == 0 {
				t.Fatalf("ParsePublish(%q): ephemeral and exact host ports mixed", spec)
			}
			if first.HostPort != 0 && int(b.HostPort) != int(first.HostPort)+i {
				t.Fatalf("ParsePublish(%q): binding %d has host port %d", spec, i, b.HostPort)
			}
			// Each binding, written back, parses to itself.
			again, err := ParsePublish(formatPublish(b))
			if err != nil || len(again) != 1 || again[0] != b {
				t.Fatalf("ParsePublish(%q): binding %d %+v written as %q parses to %+v, %v",
					spec, i, b, formatPublish(b), again, err)
			}
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
			if !errors.Is(err, ErrInvalidSpec) || ps != nil {
				t.Fatalf("ParseExpose(%q): %v, %v", spec, ps, err)
			}
			return
		}
		for i, p := range ps {
			if !publishable(p.Proto) || int(p.Num) != int(ps[0].Num)+i {
				t.Fatalf("ParseExpose(%q): port %d is %v", spec, i, p)
			}
		}
	})
}
