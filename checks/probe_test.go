package checks

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
)

var (
	addrA = netip.MustParseAddr("10.0.0.1")
	addrB = netip.MustParseAddr("10.0.0.2")
)

// pair returns two namespaces joined by a veth pair a0 (10.0.0.1/24) —
// b0 (10.0.0.2/24).
func pair(t testing.TB) (a, b *netns.NS) {
	t.Helper()
	a, b = newNS(t), newNS(t)
	vethPair(t, end{a, "a0", netip.PrefixFrom(addrA, 24)}, end{b, "b0", netip.PrefixFrom(addrB, 24)})
	return a, b
}

// addTypedRoute adds a route of a special type (unreachable, prohibit).
//
// Equivalent to: ip route add TYPE DST
func addTypedRoute(t testing.TB, ns *netns.NS, typ int, dst netip.Prefix) {
	t.Helper()
	r := &netlink.Route{
		Type: typ,
		Dst:  &net.IPNet{IP: dst.Addr().AsSlice(), Mask: net.CIDRMask(dst.Bits(), 32)},
	}
	if err := handle(t, ns).RouteAdd(r); err != nil {
		t.Fatalf("adding route: %v", err)
	}
}

func timeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestReachTCP(t *testing.T) {
	a, b := pair(t)
	listen(t, b, "tcp", "10.0.0.2:80")
	addTypedRoute(t, a, unix.RTN_UNREACHABLE, netip.MustParsePrefix("10.9.0.0/16"))

	if err := Reach(timeout(t, 2*time.Second), a, "tcp", netip.MustParseAddrPort("10.0.0.2:80")); err != nil {
		t.Errorf("open port: %v", err)
	}
	for _, c := range []struct {
		addr  string
		d     time.Duration
		want  string
		errno error
	}{
		{"10.0.0.2:81", 2 * time.Second, "connecting to tcp 10.0.0.2:81: connection refused", unix.ECONNREFUSED},
		{"10.9.0.1:80", 2 * time.Second, "connecting to tcp 10.9.0.1:80: no route to host", unix.EHOSTUNREACH},
		{"10.10.0.1:80", 2 * time.Second, "connecting to tcp 10.10.0.1:80: network is unreachable", unix.ENETUNREACH},
		// Nobody answers ARP for 10.0.0.3: the SYN never leaves.
		{"10.0.0.3:80", 300 * time.Millisecond, "connecting to tcp 10.0.0.3:80: timed out after 300ms", context.DeadlineExceeded},
	} {
		err := Reach(timeout(t, c.d), a, "tcp", netip.MustParseAddrPort(c.addr))
		if errText(err) != c.want || !errors.Is(err, c.errno) {
			t.Errorf("Reach tcp %s: %v, want %q (wrapping %v)", c.addr, err, c.want, c.errno)
		}
	}
	if err := Reach(context.Background(), a, "sctp", netip.MustParseAddrPort("10.0.0.2:80")); err == nil {
		t.Error("Reach sctp succeeded")
	}
	// A cancelled context is reported as such, not as a timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Reach(ctx, a, "tcp", netip.MustParseAddrPort("10.0.0.2:80")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Reach: %v", err)
	}
}

func TestReachUDP(t *testing.T) {
	a, b := pair(t)
	serveUDPEcho(t, b, "10.0.0.2:7")
	var silent net.PacketConn
	if err := b.Do(func() (err error) { silent, err = net.ListenPacket("udp", "10.0.0.2:8"); return err }); err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	if err := Reach(timeout(t, 2*time.Second), a, "udp", netip.MustParseAddrPort("10.0.0.2:7")); err != nil {
		t.Errorf("echo port: %v", err)
	}
	err := Reach(timeout(t, 2*time.Second), a, "udp", netip.MustParseAddrPort("10.0.0.2:9"))
	if want := "reaching udp 10.0.0.2:9: connection refused (icmp port unreachable)"; errText(err) != want || !errors.Is(err, unix.ECONNREFUSED) {
		t.Errorf("closed port: %v, want %q", err, want)
	}
	err = Reach(timeout(t, 200*time.Millisecond), a, "udp", netip.MustParseAddrPort("10.0.0.2:8"))
	if want := "reaching udp 10.0.0.2:8: no reply: timed out after 200ms"; errText(err) != want ||
		!errors.Is(err, ErrNoReply) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent port: %v, want %q", err, want)
	}
}

func TestWaitReach(t *testing.T) {
	a, b := pair(t)
	// The server starts only after the prober has been refused once, as
	// b's capture shows (its reset leaves from port 8080).
	c, err := StartCapture(b, "b0", "tcp and src port 8080")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- WaitReach(timeout(t, 10*time.Second), a, "tcp", netip.MustParseAddrPort("10.0.0.2:8080"))
	}()
	if err := c.Wait(timeout(t, 5*time.Second), 1); err != nil {
		t.Fatal(err)
	}
	mustStop(t, c)
	listen(t, b, "tcp", "10.0.0.2:8080")
	if err := <-done; err != nil {
		t.Errorf("WaitReach: %v", err)
	}

	err = WaitReach(timeout(t, 300*time.Millisecond), a, "tcp", netip.MustParseAddrPort("10.0.0.2:8081"))
	want := "waiting for tcp 10.0.0.2:8081: timed out after 300ms (last attempt: connecting to tcp 10.0.0.2:8081: connection refused)"
	if errText(err) != want || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, unix.ECONNREFUSED) {
		t.Errorf("WaitReach on a closed port: %v\nwant %s", err, want)
	}
}

func TestPing(t *testing.T) {
	a, b := pair(t)
	if rtt, err := Ping(timeout(t, 2*time.Second), a, addrB); err != nil || rtt <= 0 {
		t.Errorf("Ping: %v, %v", rtt, err)
	}
	// The unprivileged datagram socket, once the namespace allows it.
	if err := a.WriteSysctl("net/ipv4/ping_group_range", "0 2147483647"); err != nil {
		t.Fatal(err)
	}
	if _, err := ping(timeout(t, 2*time.Second), a, addrB, true); err != nil {
		t.Errorf("ping with a datagram socket: %v", err)
	}

	// b forwards 10.8.0.0/16 into an unreachable route: it answers with
	// ICMP host unreachable, which Ping reports.
	addRoute(t, a, netip.MustParsePrefix("10.8.0.0/16"), addrB)
	addTypedRoute(t, b, unix.RTN_UNREACHABLE, netip.MustParsePrefix("10.8.0.0/16"))
	if err := b.WriteSysctl("net/ipv4/ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	_, err := Ping(timeout(t, 2*time.Second), a, netip.MustParseAddr("10.8.0.1"))
	if want := "pinging 10.8.0.1: host unreachable from 10.0.0.2"; errText(err) != want {
		t.Errorf("Ping through an unreachable route: %v, want %q", err, want)
	}
	_, err = Ping(timeout(t, 2*time.Second), a, netip.MustParseAddr("10.10.0.1"))
	if want := "pinging 10.10.0.1: network is unreachable"; errText(err) != want {
		t.Errorf("Ping without a route: %v, want %q", err, want)
	}
	if err := b.WriteSysctl("net/ipv4/icmp_echo_ignore_all", "1"); err != nil {
		t.Fatal(err)
	}
	_, err = Ping(timeout(t, 200*time.Millisecond), a, addrB)
	if want := "pinging 10.0.0.2: timed out after 200ms"; errText(err) != want {
		t.Errorf("Ping to a silent host: %v, want %q", err, want)
	}
}

func TestHTTP(t *testing.T) {
	a, b := pair(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello\n") })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/", http.StatusFound) })
	srv := &http.Server{Handler: mux}
	go srv.Serve(listen(t, b, "tcp", "10.0.0.2:80"))
	t.Cleanup(func() { srv.Close() })
	// HTTPS with httptest's self-signed certificate, on a listener made in b.
	tlsSrv := &httptest.Server{Listener: listen(t, b, "tcp", "10.0.0.2:443"), Config: &http.Server{Handler: mux}}
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)

	for _, c := range []struct{ url, status, body string }{
		{"http://10.0.0.2/", "HTTP/1.1 200 OK", "hello\n"},
		{"https://10.0.0.2/", "HTTP/1.1 200 OK", "hello\n"},
		{"http://10.0.0.2/moved", "HTTP/1.1 302 Found", "<a href=\"/\">Found</a>.\n\n"},
	} {
		status, body, err := HTTP(timeout(t, 2*time.Second), a, c.url)
		if err != nil || status != c.status || body != c.body {
			t.Errorf("HTTP %s: %q, %q, %v; want %q, %q", c.url, status, body, err, c.status, c.body)
		}
	}
	for _, c := range []struct{ url, want string }{
		{"http://10.0.0.2:81/", "getting http://10.0.0.2:81/: connecting to tcp 10.0.0.2:81: connection refused"},
		{"http://server.lab/", `getting http://server.lab/: host "server.lab:80" is not an IP address (names are not resolved in lab namespaces)`},
	} {
		_, _, err := HTTP(timeout(t, 2*time.Second), a, c.url)
		if errText(err) != c.want {
			t.Errorf("HTTP %s: %v, want %q", c.url, err, c.want)
		}
	}
}

// serveSSH runs a tiny SSH server on addr inside ns: user "root" with
// password "secret"; "exec" requests print "ran CMD" (and "oops" on
// stderr) and exit with status 3 for the command "fail".
func serveSSH(t testing.TB, ns *netns.NS, addr string) {
	t.Helper()
	l := listen(t, ns, "tcp", addr)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
		if c.User() == "root" && string(pw) == "secret" {
			return nil, nil
		}
		return nil, errors.New("wrong password")
	}}
	cfg.AddHostKey(signer)
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
				if err != nil {
					return
				}
				go ssh.DiscardRequests(reqs)
				for nch := range chans {
					ch, creqs, err := nch.Accept()
					if err != nil {
						return
					}
					go func() {
						defer ch.Close()
						for req := range creqs {
							if req.Type != "exec" {
								req.Reply(false, nil)
								continue
							}
							var p struct{ Command string }
							ssh.Unmarshal(req.Payload, &p)
							req.Reply(true, nil)
							fmt.Fprintf(ch, "ran %s\n", p.Command)
							fmt.Fprintf(ch.Stderr(), "oops\n")
							status := uint32(0)
							if p.Command == "fail" {
								status = 3
							}
							ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
							return
						}
					}()
				}
			}()
		}
	}()
}

func TestSSH(t *testing.T) {
	a, b := pair(t)
	serveSSH(t, b, "10.0.0.2:22")
	addr := netip.MustParseAddrPort("10.0.0.2:22")
	for _, c := range []struct {
		cmd    string
		status int
	}{{"hostname", 0}, {"fail", 3}} {
		out, status, err := SSH(timeout(t, 5*time.Second), a, "root", "secret", addr, c.cmd)
		if err != nil || status != c.status || !strings.Contains(out, "ran "+c.cmd+"\n") || !strings.Contains(out, "oops\n") {
			t.Errorf("SSH %q: %q, %d, %v; want status %d", c.cmd, out, status, err, c.status)
		}
	}
	_, status, err := SSH(timeout(t, 5*time.Second), a, "root", "wrong", addr, "hostname")
	if err == nil || status != -1 || !strings.Contains(err.Error(), "ssh root@10.0.0.2:22: ssh: handshake failed: ssh: unable to authenticate") {
		t.Errorf("SSH with a wrong password: %d, %v", status, err)
	}
	_, _, err = SSH(timeout(t, 5*time.Second), a, "root", "secret", netip.MustParseAddrPort("10.0.0.2:23"), "hostname")
	if want := "ssh root@10.0.0.2:23: connecting to tcp 10.0.0.2:23: connection refused"; errText(err) != want {
		t.Errorf("SSH to a closed port: %v, want %q", err, want)
	}
}
