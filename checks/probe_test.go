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
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/testkit"
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
	require.NoError(t, testkit.Handle(t, ns).RouteAdd(r), "adding route")
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

	assert.NoError(t, Reach(timeout(t, 2*time.Second), a, "tcp", netip.MustParseAddrPort("10.0.0.2:80")), "open port")
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
		assert.EqualError(t, err, c.want, "Reach tcp %s", c.addr)
		assert.ErrorIs(t, err, c.errno, "Reach tcp %s", c.addr)
	}
	assert.Error(t, Reach(context.Background(), a, "sctp", netip.MustParseAddrPort("10.0.0.2:80")), "Reach sctp")
	// A cancelled context is reported as such, not as a timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, Reach(ctx, a, "tcp", netip.MustParseAddrPort("10.0.0.2:80")), context.Canceled, "cancelled Reach")
}

func TestReachUDP(t *testing.T) {
	a, b := pair(t)
	serveUDPEcho(t, b, "10.0.0.2:7")
	var silent net.PacketConn
	require.NoError(t, b.Do(func() (err error) { silent, err = net.ListenPacket("udp", "10.0.0.2:8"); return err }))
	defer silent.Close()

	assert.NoError(t, Reach(timeout(t, 2*time.Second), a, "udp", netip.MustParseAddrPort("10.0.0.2:7")), "echo port")
	err := Reach(timeout(t, 2*time.Second), a, "udp", netip.MustParseAddrPort("10.0.0.2:9"))
	assert.EqualError(t, err, "reaching udp 10.0.0.2:9: connection refused (icmp port unreachable)", "closed port")
	assert.ErrorIs(t, err, unix.ECONNREFUSED, "closed port")
	err = Reach(timeout(t, 200*time.Millisecond), a, "udp", netip.MustParseAddrPort("10.0.0.2:8"))
	assert.EqualError(t, err, "reaching udp 10.0.0.2:8: no reply: timed out after 200ms", "silent port")
	assert.ErrorIs(t, err, ErrNoReply, "silent port")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "silent port")
}

func TestWaitReach(t *testing.T) {
	a, b := pair(t)
	// The server starts only after the prober has been refused once, as
	// b's capture shows (its reset leaves from port 8080).
	c, err := StartCapture(b, "b0", "tcp and src port 8080")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		done <- WaitReach(timeout(t, 10*time.Second), a, "tcp", netip.MustParseAddrPort("10.0.0.2:8080"))
	}()
	require.NoError(t, c.Wait(timeout(t, 5*time.Second), 1))
	mustStop(t, c)
	listen(t, b, "tcp", "10.0.0.2:8080")
	assert.NoError(t, <-done, "WaitReach")

	err = WaitReach(timeout(t, 300*time.Millisecond), a, "tcp", netip.MustParseAddrPort("10.0.0.2:8081"))
	want := "waiting for tcp 10.0.0.2:8081: timed out after 300ms (last attempt: connecting to tcp 10.0.0.2:8081: connection refused)"
	assert.EqualError(t, err, want, "WaitReach on a closed port")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "WaitReach on a closed port")
	assert.ErrorIs(t, err, unix.ECONNREFUSED, "WaitReach on a closed port")
}

func TestPing(t *testing.T) {
	a, b := pair(t)
	rtt, err := Ping(timeout(t, 2*time.Second), a, addrB)
	assert.NoError(t, err, "Ping")
	assert.Positive(t, rtt, "Ping's round trip")
	// The unprivileged datagram socket, once the namespace allows it.
	require.NoError(t, a.WriteSysctl("net/ipv4/ping_group_range", "0 2147483647"))
	_, err = ping(timeout(t, 2*time.Second), a, addrB, true)
	assert.NoError(t, err, "ping with a datagram socket")

	// b forwards 10.8.0.0/16 into an unreachable route: it answers with
	// ICMP host unreachable, which Ping reports.
	addRoute(t, a, netip.MustParsePrefix("10.8.0.0/16"), addrB)
	addTypedRoute(t, b, unix.RTN_UNREACHABLE, netip.MustParsePrefix("10.8.0.0/16"))
	require.NoError(t, b.WriteSysctl("net/ipv4/ip_forward", "1"))
	_, err = Ping(timeout(t, 2*time.Second), a, netip.MustParseAddr("10.8.0.1"))
	assert.EqualError(t, err, "pinging 10.8.0.1: host unreachable from 10.0.0.2", "Ping through an unreachable route")
	_, err = Ping(timeout(t, 2*time.Second), a, netip.MustParseAddr("10.10.0.1"))
	assert.EqualError(t, err, "pinging 10.10.0.1: network is unreachable", "Ping without a route")
	require.NoError(t, b.WriteSysctl("net/ipv4/icmp_echo_ignore_all", "1"))
	_, err = Ping(timeout(t, 200*time.Millisecond), a, addrB)
	assert.EqualError(t, err, "pinging 10.0.0.2: timed out after 200ms", "Ping to a silent host")
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
		assert.NoError(t, err, "HTTP %s", c.url)
		assert.Equal(t, c.status, status, "HTTP %s", c.url)
		assert.Equal(t, c.body, body, "HTTP %s", c.url)
	}
	for _, c := range []struct{ url, want string }{
		{"http://10.0.0.2:81/", "getting http://10.0.0.2:81/: connecting to tcp 10.0.0.2:81: connection refused"},
		{"http://server.lab/", `getting http://server.lab/: host "server.lab:80" is not an IP address (names are not resolved in lab namespaces)`},
	} {
		_, _, err := HTTP(timeout(t, 2*time.Second), a, c.url)
		assert.EqualError(t, err, c.want, "HTTP %s", c.url)
	}
}

// serveSSH runs a tiny SSH server on addr inside ns: user "root" with
// password "secret"; "exec" requests print "ran CMD" (and "oops" on
// stderr) and exit with status 3 for the command "fail".
func serveSSH(t testing.TB, ns *netns.NS, addr string) {
	t.Helper()
	l := listen(t, ns, "tcp", addr)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(key)
	require.NoError(t, err)
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
		assert.NoError(t, err, "SSH %q", c.cmd)
		assert.Equal(t, c.status, status, "SSH %q", c.cmd)
		assert.Contains(t, out, "ran "+c.cmd+"\n", "SSH %q: stdout", c.cmd)
		assert.Contains(t, out, "oops\n", "SSH %q: stderr", c.cmd)
	}
	_, status, err := SSH(timeout(t, 5*time.Second), a, "root", "wrong", addr, "hostname")
	assert.ErrorContains(t, err, "ssh root@10.0.0.2:22: ssh: handshake failed: ssh: unable to authenticate", "SSH with a wrong password")
	assert.Equal(t, -1, status, "SSH with a wrong password")
	_, _, err = SSH(timeout(t, 5*time.Second), a, "root", "secret", netip.MustParseAddrPort("10.0.0.2:23"), "hostname")
	assert.EqualError(t, err, "ssh root@10.0.0.2:23: connecting to tcp 10.0.0.2:23: connection refused", "SSH to a closed port")
}
