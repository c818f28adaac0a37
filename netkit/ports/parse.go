package ports

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ErrInvalidSpec is matched, with errors.Is, by every *SpecError.
var ErrInvalidSpec = errors.New("invalid port spec")

// SpecError is a -p or --expose value that Docker rejects.
//
// Msg is Docker's own text, bare: without the "docker: " and "Error response
// from daemon: " prefixes and without the trailing "." that the CLI adds
// when it prints the error (then "See 'docker run --help'." and exit status
// 125, as in docs/docker.md §2.3).
//
// FromDaemon tells which layer of Docker 29 rejects the value. False: the
// CLI does, while parsing flags, and prints "docker: <Msg>.". True: the CLI
// lets it through and the daemon refuses the container create, so the CLI
// prints "docker: Error response from daemon: <Msg>.".
type SpecError struct {
	Msg        string
	FromDaemon bool
}

// Error returns Msg.
func (e *SpecError) Error() string { return e.Msg }

// Is reports whether target is ErrInvalidSpec.
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

func cliErr(format string, args ...any) error {
	return &SpecError{Msg: fmt.Sprintf(format, args...)}
}

// ParsePublish parses one "docker run -p" value the way Docker 29 does: the
// CLI's go-connections v0.6.0 nat.ParsePortSpec, then the daemon's
// validatePortBindings. The form is [[ip:][hostPort]:]containerPort[/proto],
// where either port may be a range "a-b" and an IPv6 ip may be bracketed.
//
// It returns one Binding per container port, in container port order:
//
//	80                      80/tcp, ephemeral host port, all addresses
//	:80, ::80               the same (empty ip and host port fields)
//	8080:80/udp             80/udp on host port 8080
//	127.0.0.1::80           80/tcp, ephemeral port on 127.0.0.1 only
//	[::1]:8080:80           80/tcp on [::1]:8080
//	8000-8010:80            one Binding, HostPort 8000, HostPortEnd 8010
//	9800-9803:80-83         four Bindings, paired 9800→80 … 9803→83
//	8000-8002               three Bindings, ephemeral host ports
//
// A host port of 0 means ephemeral, as an empty one does. A rejected value
// yields a *SpecError carrying Docker's message.
func ParsePublish(spec string) ([]Binding, error) {
	ipField, hostField, ctrField := splitPublish(spec)

	// The checks run in the order of nat.ParsePortSpec, since the first
	// failure decides the message.
	ctrPorts, protoField, _ := strings.Cut(ctrField, "/")
	if ctrPorts == "" {
		// Docker: "no port specified: %s<empty>" (nat.ParsePortSpec).
		return nil, cliErr("no port specified: %s<empty>", spec)
	}
	proto := strings.ToLower(protoField)
	if proto == "" {
		proto = string(TCP)
	}
	if !publishable(Proto(proto)) {
		// Docker: "invalid proto: %s" (nat validateProto), lowercased.
		return nil, cliErr("invalid proto: %s", proto)
	}
	ip, err := parseHostIP(ipField)
	if err != nil {
		return nil, err
	}
	cLo, cHi, ok := parseRange(ctrPorts)
	if !ok {
		// Docker: "invalid containerPort: %s" (nat.ParsePortSpec).
		return nil, cliErr("invalid containerPort: %s", ctrPorts)
	}
	var hLo, hHi int
	if hostField != "" {
		if hLo, hHi, ok = parseRange(hostField); !ok {
			// Docker: "invalid hostPort: %s" (nat.ParsePortSpec).
			return nil, cliErr("invalid hostPort: %s", hostField)
		}
		// A host range with a single container port is a range to pick
		// one host port from; otherwise the sizes must match.
		if cHi-cLo != hHi-hLo && cHi != cLo {
			// Docker: "invalid ranges specified for container and host
			// Ports: %s and %s" (nat.ParsePortSpec).
			return nil, cliErr("invalid ranges specified for container and host Ports: %s and %s", ctrPorts, hostField)
		}
	}
	if cLo == 0 {
		// The CLI accepts container port 0; the daemon refuses it.
		// Docker: `invalid port specification: "0/tcp"` (daemon
		// container.go validatePortBindings, 29.x).
		return nil, &SpecError{Msg: fmt.Sprintf("invalid port specification: %q", "0/"+proto), FromDaemon: true}
	}

	n := cHi - cLo + 1
	bs := make([]Binding, 0, n)
	for i := range n {
		b := Binding{Container: Port{Num: uint16(cLo + i), Proto: Proto(proto)}, HostIP: ip}
		if hostField != "" {
			b.HostPort = uint16(hLo + i)
			if n == 1 && hLo != hHi {
				b.HostPortEnd = uint16(hHi)
			}
		}
		bs = append(bs, b)
	}
	return bs, nil
}

// splitPublish splits a -p value at its colons into host address, host port
// and container port. With more than two colons the last two separate the
// ports and everything before them is the address, so an IPv6 address may
// appear bare ("::1:80:80") or bracketed ("[::1]:80:80").
func splitPublish(spec string) (ip, host, ctr string) {
	last := strings.LastIndexByte(spec, ':')
	if last < 0 {
		return "", "", spec
	}
	ctr = spec[last+1:]
	rest := spec[:last]
	prev := strings.LastIndexByte(rest, ':')
	if prev < 0 {
		return "", rest, ctr
	}
	return rest[:prev], rest[prev+1:], ctr
}

// parseHostIP validates the address field of a -p value. An empty field, or
// empty brackets, means no address: the engine's default.
func parseHostIP(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	if s[0] == '[' {
		// Docker strips the brackets with net.SplitHostPort(s+":") and
		// reports its error as is.
		host, _, err := net.SplitHostPort(s + ":")
		if err != nil {
			// Docker: "invalid IP address %v: %w" (nat.ParsePortSpec).
			return netip.Addr{}, cliErr("invalid IP address %s: %v", s, err)
		}
		if host == "" {
			return netip.Addr{}, nil
		}
		s = host
	}
	// Docker accepts what net.ParseIP accepts (no zones).
	if net.ParseIP(s) != nil {
		if a, err := netip.ParseAddr(s); err == nil {
			return a, nil
		}
	}
	// Docker: "invalid IP address: %s" (nat.ParsePortSpec).
	return netip.Addr{}, cliErr("invalid IP address: %s", s)
}

// parseRange parses "n" or "lo-hi" as go-connections v0.6.0 parsePortRange
// does: numbers are base-10 int64s in 0–65535 (so a leading "+" passes),
// the first "-" separates the bounds, and "n-n" is n.
func parseRange(s string) (lo, hi int, ok bool) {
	a, b, dash := strings.Cut(s, "-")
	if lo, ok = parsePortNum(a); !ok {
		return 0, 0, false
	}
	if !dash || a == b {
		return lo, lo, true
	}
	if hi, ok = parsePortNum(b); !ok || hi < lo {
		return 0, 0, false
	}
	return lo, hi, true
}

func parsePortNum(s string) (int, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 65535 {
		return 0, false
	}
	return int(n), true
}

// publishable reports whether Docker can publish a port of protocol p.
func publishable(p Proto) bool {
	return p == TCP || p == UDP || p == SCTP
}

// ParseExpose parses one "docker run --expose" value the way the Docker 29
// CLI does (moby api network.ParsePortRange): "80", "80/udp", "7000-7002".
// It returns one Port per port of the range.
//
// Every error is the CLI's "invalid range format for --expose: ..." except
// one: Docker 29 lets any protocol name through --expose, while Port only
// holds tcp, udp and sctp, so another protocol is refused here with the
// text Docker uses for -p ("invalid proto: %s"). Real Docker would create
// the container.
func ParseExpose(spec string) ([]Port, error) {
	// Docker: "invalid range format for --expose: %w" (CLI opts.go) around
	// network.ParsePortRange's errors.
	fail := func(format string, args ...any) error {
		return cliErr("invalid range format for --expose: "+format, args...)
	}
	if spec == "" {
		return nil, fail("invalid port range: value is empty")
	}
	ports, protoField, _ := strings.Cut(spec, "/")
	a, b, dash := strings.Cut(ports, "-")
	lo, why := parseExposeNum(a)
	if why != "" {
		return nil, fail("invalid start port '%s': %s", a, why)
	}
	hi := lo
	if dash && a != b {
		if hi, why = parseExposeNum(b); why != "" {
			return nil, fail("invalid end port '%s': %s", b, why)
		}
		if hi < lo {
			return nil, fail("invalid port range: %s", spec)
		}
	}
	proto := Proto(strings.ToLower(protoField))
	if proto == "" {
		proto = TCP
	}
	if !publishable(proto) {
		// labrun's own refusal (see above); text as nat validateProto.
		return nil, cliErr("invalid proto: %s", proto)
	}
	ps := make([]Port, 0, hi-lo+1)
	for n := lo; n <= hi; n++ {
		ps = append(ps, Port{Num: uint16(n), Proto: proto})
	}
	return ps, nil
}

// parseExposeNum parses a port number as the moby api's parsePortNumber
// does (unsigned, base 10, 16 bits); the reason is strconv's bare error
// text, or "value is empty".
func parseExposeNum(s string) (int, string) {
	if s == "" {
		return 0, "value is empty"
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			return 0, ne.Err.Error()
		}
		return 0, err.Error()
	}
	return int(n), ""
}
