package trace

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/checks"
	"github.com/labrun/labrun/netkit/netns"
)

// TargetKind is what a trace connects to.
type TargetKind int

// The kinds of target.
const (
	TargetTCP  TargetKind = iota // ADDR:PORT: a TCP handshake
	TargetHTTP                   // a URL: a handshake, then GET
	TargetPing                   // ping ADDR: one ICMP echo
)

// Target is what a trace connects to.
type Target struct {
	Kind TargetKind
	// Addr is the address and port (port 0 for ping).
	Addr netip.AddrPort
	// URL is an HTTP target's URL.
	URL string
}

// String is the target as written: ADDR:PORT, the URL, or "ping ADDR".
func (t Target) String() string {
	switch t.Kind {
	case TargetHTTP:
		return t.URL
	case TargetPing:
		return "ping " + t.Addr.Addr().String()
	}
	return t.Addr.String()
}

// ParseTarget reads a trace's target: ADDR:PORT, an http or https URL
// whose host is an IP address, or "ping" and an address.
func ParseTarget(args []string) (Target, error) {
	switch {
	case len(args) == 2 && args[0] == "ping":
		a, err := netip.ParseAddr(args[1])
		if err != nil {
			return Target{}, fmt.Errorf("%q is not an IP address", args[1])
		}
		return Target{Kind: TargetPing, Addr: netip.AddrPortFrom(a, 0)}, nil
	case len(args) != 1:
		return Target{}, fmt.Errorf("want one target (ADDR:PORT, a URL, or ping ADDR), got %q", strings.Join(args, " "))
	}
	s := args[0]
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return Target{}, fmt.Errorf("%q is not an http or https URL", s)
		}
		a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]"))
		if err != nil {
			return Target{}, fmt.Errorf("the host of %q must be an IP address", s)
		}
		port := uint16(80)
		if u.Scheme == "https" {
			port = 443
		}
		if p := u.Port(); p != "" {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil || n == 0 {
				return Target{}, fmt.Errorf("%q has an invalid port", s)
			}
			port = uint16(n)
		}
		return Target{Kind: TargetHTTP, Addr: netip.AddrPortFrom(a, port), URL: s}, nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 {
		if _, aerr := netip.ParseAddr(s); aerr == nil {
			return Target{}, fmt.Errorf("%q has no port: write ADDR:PORT, or ping %s", s, s)
		}
		return Target{}, fmt.Errorf("%q is not ADDR:PORT, a URL or ping ADDR", s)
	}
	return Target{Kind: TargetTCP, Addr: ap}, nil
}

// probe is a connection prepared in the sender's namespace: its socket
// is made and bound, so that its source port (or echo identifier) is
// known before the packets are marked, and nothing has been sent.
type probe struct {
	t     Target
	match match
	// fd is the TCP socket; ping is the ICMP socket.
	fd   int
	ping *icmp.PacketConn
}

// prepare makes the probe's socket in ns and binds it.
func prepare(ns *netns.NS, t Target) (*probe, error) {
	p := &probe{t: t, fd: -1}
	dst := t.Addr.Addr().Unmap()
	if t.Kind == TargetPing {
		var idb [2]byte
		for binary.BigEndian.Uint16(idb[:]) == 0 {
			rand.Read(idb[:])
		}
		p.match = match{Proto: unix.IPPROTO_ICMP, EchoID: binary.BigEndian.Uint16(idb[:])}
		network, wildcard := "ip4:icmp", "0.0.0.0"
		if dst.Is6() {
			network, wildcard, p.match.Proto = "ip6:ipv6-icmp", "::", unix.IPPROTO_ICMPV6
		}
		err := ns.Do(func() error {
			var err error
			p.ping, err = icmp.ListenPacket(network, wildcard)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("opening an icmp socket: %w", err)
		}
		return p, nil
	}
	family := unix.AF_INET
	var sa unix.Sockaddr = &unix.SockaddrInet4{}
	if dst.Is6() {
		family, sa = unix.AF_INET6, &unix.SockaddrInet6{}
	}
	err := ns.Do(func() error {
		fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("creating socket: %w", err)
		}
		p.fd = fd
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Binding to port 0 picks the source port now, from the ephemeral
	// range, as connect would.
	if err := unix.Bind(p.fd, sa); err != nil {
		p.close()
		return nil, fmt.Errorf("binding the trace's socket: %w", err)
	}
	got, err := unix.Getsockname(p.fd)
	if err != nil {
		p.close()
		return nil, fmt.Errorf("reading the trace's source port: %w", err)
	}
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		p.match = match{Proto: unix.IPPROTO_TCP, Port: uint16(a.Port)}
	case *unix.SockaddrInet6:
		p.match = match{Proto: unix.IPPROTO_TCP, Port: uint16(a.Port)}
	}
	return p, nil
}

func (p *probe) close() {
	if p.fd >= 0 {
		unix.Close(p.fd)
		p.fd = -1
	}
	if p.ping != nil {
		p.ping.Close()
	}
}

// run makes the connection: the handshake (then, for a URL, a GET whose
// status line it returns), or one echo. It returns nil when the target
// answered, or why not: the kernel's reason (connection refused, no route
// to host) or a timeout.
func (p *probe) run(ctx context.Context) (status string, err error) {
	start := time.Now()
	defer func() {
		if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
			d := time.Since(start)
			if dl, ok := ctx.Deadline(); ok {
				d = dl.Sub(start)
			}
			err = &timeoutError{d.Round(10 * time.Millisecond)}
		}
	}()
	if p.t.Kind == TargetPing {
		return p.echo(ctx)
	}
	f := os.NewFile(uintptr(p.fd), "trace socket")
	p.fd = -1 // f owns it
	defer f.Close()
	if err := checks.Connect(ctx, f, p.t.Addr); err != nil {
		return "", err
	}
	if p.t.Kind != TargetHTTP {
		return "connected", nil
	}
	c, err := net.FileConn(f)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return get(ctx, c, p.t.URL)
}

// get sends GET rawURL over c (TLS for https, without verification, as
// curl -k) and returns the answer's status line.
func get(ctx context.Context, c net.Conn, rawURL string) (string, error) {
	u, _ := url.Parse(rawURL)
	if u.Scheme == "https" {
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: u.Hostname()})
		if err := tc.HandshakeContext(ctx); err != nil {
			return "", err
		}
		c = tc
	}
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", err
	}
	req.Close = true
	req.Header.Set("User-Agent", "labrun-trace")
	if err := req.Write(c); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Proto + " " + resp.Status, nil
}

// echo sends one echo request and waits for its reply (or an ICMP error
// about it).
func (p *probe) echo(ctx context.Context) (string, error) {
	dst := p.t.Addr.Addr().Unmap()
	var req icmp.Type = ipv4.ICMPTypeEcho
	var rep icmp.Type = ipv4.ICMPTypeEchoReply
	proto := 1
	if dst.Is6() {
		req, rep, proto = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58
	}
	if d, ok := ctx.Deadline(); ok {
		p.ping.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { p.ping.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	id := int(p.match.EchoID)
	msg := icmp.Message{Type: req, Body: &icmp.Echo{ID: id, Seq: 1, Data: []byte("labrun trace")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return "", err
	}
	if _, err := p.ping.WriteTo(b, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		return "", err
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := p.ping.ReadFrom(buf)
		if err != nil {
			return "", err
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil {
			continue
		}
		switch body := m.Body.(type) {
		case *icmp.Echo:
			if m.Type == rep && body.ID == id && body.Seq == 1 {
				return "echo reply from " + from.String(), nil
			}
		case *icmp.DstUnreach:
			if quotesEcho(body.Data, id) {
				return "", fmt.Errorf("destination unreachable (code %d) from %s", m.Code, from)
			}
		}
	}
}

// quotesEcho reports whether an ICMP error quotes our echo request.
func quotesEcho(quoted []byte, id int) bool {
	if len(quoted) < 1 {
		return false
	}
	hdr := 40
	if quoted[0]>>4 == 4 {
		hdr = int(quoted[0]&0x0f) * 4
	}
	return len(quoted) >= hdr+8 && int(binary.BigEndian.Uint16(quoted[hdr+4:hdr+6])) == id
}

// timeoutError reads "timed out after 1s" and is context.DeadlineExceeded
// to errors.Is.
type timeoutError struct{ after time.Duration }

func (e *timeoutError) Error() string { return "timed out after " + e.after.String() }
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }
