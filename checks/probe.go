package checks

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
)

// reachPayload is the datagram a UDP Reach sends.
var reachPayload = []byte("labrun reach\n")

// Reach reports whether ns can reach addr over network ("tcp" or "udp") now,
// in one attempt bounded by ctx.
//
// For "tcp" it completes a TCP handshake and closes the connection
// gracefully; the error is the kernel's reason ("connection refused", "no
// route to host") or "timed out after 1s" when no answer came.
//
// For "udp" it sends one datagram ("labrun reach\n") on a connected socket
// and waits for whatever comes back first: any datagram from addr means
// reachable (nil); an ICMP error means unreachable ("connection refused" for
// port unreachable, "no route to host" for host unreachable or filtered);
// silence until the deadline fails with an error wrapping both ErrNoReply
// and context.DeadlineExceeded, because UDP cannot tell a silent open port
// from a dropped datagram.
func Reach(ctx context.Context, ns *netns.NS, network string, addr netip.AddrPort) error {
	switch network {
	case "tcp":
		c, err := dial(ctx, ns, network, addr)
		if err != nil {
			return err
		}
		return c.Close()
	case "udp":
		return reachUDP(ctx, ns, addr)
	default:
		return fmt.Errorf("reaching %s %s: unknown network %q (want tcp or udp)", network, addr, network)
	}
}

func reachUDP(ctx context.Context, ns *netns.NS, addr netip.AddrPort) error {
	start := time.Now()
	c, err := dial(ctx, ns, "udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := watch(ctx, c.SetDeadline)
	defer stop()
	if _, err := c.Write(reachPayload); err != nil {
		return fmt.Errorf("reaching udp %s: %w", addr, udpErr(ctx, start, err))
	}
	// A connected UDP socket reports the first ICMP error for its peer as
	// the error of the next receive, so one Read sees a reply or the error.
	buf := make([]byte, 65536)
	if _, err := c.Read(buf); err != nil {
		return fmt.Errorf("reaching udp %s: %w", addr, udpErr(ctx, start, err))
	}
	return nil
}

// udpErr explains a UDP probe failure, naming the ICMP message behind the
// errno that the kernel turned it into.
func udpErr(ctx context.Context, start time.Time, err error) error {
	err = probeErr(ctx, start, err)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrNoReply, err)
	case errors.Is(err, unix.ECONNREFUSED):
		return fmt.Errorf("%w (icmp port unreachable)", err)
	}
	return err
}

// WaitReach repeats Reach until it succeeds or ctx ends, for readiness: a
// server that is still starting refuses connections for a while. Attempts
// are at most 1s each and are spaced by a backoff that starts at 10ms and
// doubles up to 500ms. On failure the error says how long it waited and
// wraps the last attempt's error.
func WaitReach(ctx context.Context, ns *netns.NS, network string, addr netip.AddrPort) error {
	const maxAttempt = time.Second
	start := time.Now()
	backoff := 10 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, maxAttempt)
		err := Reach(actx, ns, network, addr)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() == nil && !isRetryable(err) {
			return fmt.Errorf("waiting for %s %s: %w", network, addr, err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for %s %s: %w (last attempt: %w)", network, addr, ctxErr(ctx, start), err)
		case <-t.C:
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// isRetryable reports whether a failed Reach may succeed later without
// anything but time: everything except a mistake in the request itself.
func isRetryable(err error) bool {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno != unix.EAFNOSUPPORT && errno != unix.EINVAL
	}
	return true
}

// pingPayloadLen makes echo requests the size ping sends by default: 56
// bytes of data, 64 with the ICMP header.
const pingPayloadLen = 56

// Ping sends one ICMP echo request from ns to addr and returns the round-trip
// time of the matching reply.
//
// It uses a raw ICMP socket (as root or with CAP_NET_RAW) and falls back to
// an unprivileged ICMP datagram socket ("ping socket", allowed by
// net.ipv4.ping_group_range) where raw sockets are refused. With the raw
// socket Ping also sees the ICMP errors a router sends back about the
// request, and fails with their meaning ("host unreachable from
// 192.168.190.2"); with a datagram socket such errors are not delivered, and
// Ping times out instead. Either way the socket is created inside ns and the
// wait happens outside it.
func Ping(ctx context.Context, ns *netns.NS, addr netip.Addr) (time.Duration, error) {
	start := time.Now()
	rtt, err := ping(ctx, ns, addr, false)
	if err != nil {
		return 0, fmt.Errorf("pinging %s: %w", addr, probeErr(ctx, start, err))
	}
	return rtt, nil
}

// ping is Ping; onlyDgram skips the raw socket (for testing the fallback).
func ping(ctx context.Context, ns *netns.NS, addr netip.Addr, onlyDgram bool) (time.Duration, error) {
	if !addr.IsValid() {
		return 0, errors.New("invalid address")
	}
	addr = addr.Unmap()
	v6 := addr.Is6()
	rawNet, dgramNet, wildcard, proto := "ip4:icmp", "udp4", "0.0.0.0", 1
	var echoReq, echoRep icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	if v6 {
		rawNet, dgramNet, wildcard, proto = "ip6:ipv6-icmp", "udp6", "::", 58
		echoReq, echoRep = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}

	var c *icmp.PacketConn
	var dgram bool
	var dst net.Addr
	err := ns.Do(func() error {
		err := os.ErrPermission
		if !onlyDgram {
			c, err = icmp.ListenPacket(rawNet, wildcard)
		}
		if errors.Is(err, os.ErrPermission) {
			dgram = true
			c, err = icmp.ListenPacket(dgramNet, wildcard)
		}
		if err != nil {
			return fmt.Errorf("opening icmp socket: %w", err)
		}
		// Zones name interfaces, which only resolve inside the namespace.
		zone := ""
		if z := addr.Zone(); z != "" {
			ifi, err := net.InterfaceByName(z)
			if err != nil {
				c.Close()
				return fmt.Errorf("resolving zone %q: %w", z, err)
			}
			zone = fmt.Sprint(ifi.Index)
		}
		ip := net.IP(addr.AsSlice())
		if dgram {
			dst = &net.UDPAddr{IP: ip, Zone: zone}
		} else {
			dst = &net.IPAddr{IP: ip, Zone: zone}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	stop := watch(ctx, c.SetDeadline)
	defer stop()

	var idb [2]byte
	rand.Read(idb[:])
	id := int(binary.BigEndian.Uint16(idb[:]))
	const seq = 1
	data := make([]byte, pingPayloadLen)
	copy(data, "labrun ping ")
	rand.Read(data[12:])
	req := icmp.Message{Type: echoReq, Body: &icmp.Echo{ID: id, Seq: seq, Data: data}}
	b, err := req.Marshal(nil) // the kernel fills in the ICMPv6 checksum
	if err != nil {
		return 0, err
	}
	sent := time.Now()
	if _, err := c.WriteTo(b, dst); err != nil {
		return 0, err
	}
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return 0, err
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil {
			continue
		}
		switch body := m.Body.(type) {
		case *icmp.Echo:
			// A datagram socket only sees its own replies, with the ID the
			// kernel chose; a raw socket sees every ICMP message.
			if m.Type == echoRep && body.Seq == seq && bytes.Equal(body.Data, data) && (dgram || body.ID == id) {
				return time.Since(sent), nil
			}
		case *icmp.DstUnreach:
			if aboutOurEcho(body.Data, addr, id, seq, v6) {
				return 0, fmt.Errorf("%s from %s", unreachReason(m, v6), addrOf(from))
			}
		case *icmp.TimeExceeded:
			if aboutOurEcho(body.Data, addr, id, seq, v6) {
				return 0, fmt.Errorf("time to live exceeded from %s", addrOf(from))
			}
		}
	}
}

// aboutOurEcho reports whether the original datagram quoted in an ICMP error
// is our echo request to dst.
func aboutOurEcho(quoted []byte, dst netip.Addr, id, seq int, v6 bool) bool {
	var hdr int
	var qdst netip.Addr
	if v6 {
		if len(quoted) < 40+8 || quoted[6] != 58 {
			return false
		}
		hdr = 40
		qdst = netip.AddrFrom16([16]byte(quoted[24:40]))
	} else {
		if len(quoted) < 20 || quoted[9] != 1 {
			return false
		}
		hdr = int(quoted[0]&0x0f) * 4
		if len(quoted) < hdr+8 {
			return false
		}
		qdst = netip.AddrFrom4([4]byte(quoted[16:20]))
	}
	e := quoted[hdr:]
	return qdst == dst.WithZone("") &&
		int(binary.BigEndian.Uint16(e[4:6])) == id && int(binary.BigEndian.Uint16(e[6:8])) == seq
}

// unreachReason words an ICMP destination-unreachable code as ping does.
func unreachReason(m *icmp.Message, v6 bool) string {
	if v6 {
		switch m.Code {
		case 0:
			return "no route to destination"
		case 1:
			return "communication administratively prohibited"
		case 3:
			return "address unreachable"
		case 4:
			return "port unreachable"
		}
		return fmt.Sprintf("destination unreachable (code %d)", m.Code)
	}
	switch m.Code {
	case 0:
		return "network unreachable"
	case 1:
		return "host unreachable"
	case 2:
		return "protocol unreachable"
	case 3:
		return "port unreachable"
	case 9, 10, 13:
		return "communication administratively prohibited"
	}
	return fmt.Sprintf("destination unreachable (code %d)", m.Code)
}

func addrOf(a net.Addr) string {
	switch a := a.(type) {
	case *net.IPAddr:
		return a.IP.String()
	case *net.UDPAddr:
		return a.IP.String()
	}
	return a.String()
}

// maxBody bounds the body HTTP returns.
const maxBody = 8 << 20

// HTTP sends GET rawURL from ns, as curl -k would, and returns the status
// line ("HTTP/1.1 200 OK") and the body.
//
// The URL's host must be an IP address: names are not resolved, since the
// lab's namespaces have no resolver of their own. HTTPS is accepted without
// verifying the certificate. Redirects are not followed: a 3xx is returned
// as it is. Each request uses a new connection, dialed inside ns (see dial).
// Bodies larger than 8 MiB are an error.
func HTTP(ctx context.Context, ns *netns.NS, rawURL string) (status, body string, err error) {
	start := time.Now()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return nil, fmt.Errorf("host %q is not an IP address (names are not resolved in lab namespaces)", address)
			}
			return dial(ctx, ns, "tcp", ap)
		},
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		DisableKeepAlives: true,
		// Proxy stays nil: the environment's proxy means nothing in a lab.
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", "", fmt.Errorf("getting %s: %w", rawURL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", "", fmt.Errorf("getting %s: %w", rawURL, wholeErr(ctx, start, err))
	}
	defer resp.Body.Close()
	status = resp.Proto + " " + resp.Status
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return status, string(b), fmt.Errorf("reading body of %s: %w", rawURL, wholeErr(ctx, start, err))
	}
	if len(b) > maxBody {
		return status, string(b[:maxBody]), fmt.Errorf("reading body of %s: larger than %d bytes", rawURL, maxBody)
	}
	return status, string(b), nil
}

// wholeErr is probeErr for errors that name their operation (a dial error,
// an SSH handshake error): it keeps them whole, unless time ran out and they
// do not say so yet.
func wholeErr(ctx context.Context, start time.Time, err error) error {
	var te *timeoutError
	if errors.As(err, &te) {
		return err
	}
	if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return ctxErr(ctx, start)
	}
	return err
}

// SSH logs in to addr from ns as user with password (offered both as
// "password" and as "keyboard-interactive" authentication), runs command
// and returns its combined stdout and stderr and its exit status.
//
// A command that exits non-zero is not an error: err reports only failures
// to connect, authenticate or run (exitStatus is then -1). The host key is
// not verified. ctx bounds the whole exchange, command included.
func SSH(ctx context.Context, ns *netns.NS, user, password string, addr netip.AddrPort, command string) (output string, exitStatus int, err error) {
	start := time.Now()
	conn, err := dial(ctx, ns, "tcp", addr)
	if err != nil {
		return "", -1, fmt.Errorf("ssh %s@%s: %w", user, addr, err)
	}
	defer conn.Close()
	stop := watch(ctx, conn.SetDeadline)
	defer stop()
	cfg := &ssh.ClientConfig{
		User: user,
		Auth: []ssh.AuthMethod{
			ssh.Password(password),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = password
				}
				return answers, nil
			}),
		},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr.String(), cfg)
	if err != nil {
		return "", -1, fmt.Errorf("ssh %s@%s: %w", user, addr, wholeErr(ctx, start, err))
	}
	client := ssh.NewClient(sc, chans, reqs)
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return "", -1, fmt.Errorf("ssh %s@%s: opening session: %w", user, addr, wholeErr(ctx, start, err))
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(command)
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
		return string(out), 0, nil
	case errors.As(err, &exitErr):
		return string(out), exitErr.ExitStatus(), nil
	}
	return string(out), -1, fmt.Errorf("ssh %s@%s: running %q: %w", user, addr, command, wholeErr(ctx, start, err))
}
