package checks

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/netns"
)

// TestCaptureFirstPacket: a connect made right after StartCapture returns
// has its SYN in the capture, every time.
func TestCaptureFirstPacket(t *testing.T) {
	a, b := pair(t)
	listen(t, b, "tcp", "10.0.0.2:80")
	for i := range 20 {
		c, err := StartCapture(a, "a0", "tcp")
		require.NoError(t, err)
		require.NoError(t, Reach(timeout(t, 2*time.Second), a, "tcp", netip.MustParseAddrPort("10.0.0.2:80")))
		pkts := mustStop(t, c)
		require.True(t, startsWithSYN(Summaries(pkts)), "attempt %d: the capture does not start with the SYN:\n%s", i+1, strings.Join(Summaries(pkts), "\n"))
		if i == 0 {
			checkTcpdumpReads(t, pkts)
		}
	}
}

// startsWithSYN reports whether the capture holds the SYN of a connection
// to 10.0.0.2:80 before any other packet of that connection. Packets of
// the previous attempt's connection (the server's last ACK, on a slow
// machine) may come first: they are another connection's.
func startsWithSYN(sums []string) bool {
	for i, s := range sums {
		src, rest, ok := strings.Cut(strings.TrimPrefix(s, "IP "), " > 10.0.0.2.80: ")
		if !ok || !strings.HasPrefix(rest, "Flags [S], seq ") {
			continue
		}
		for _, earlier := range sums[:i] {
			if strings.Contains(earlier, src+" ") || strings.Contains(earlier, src+":") {
				return false
			}
		}
		return true
	}
	return false
}

// checkTcpdumpReads writes pkts with WritePcap and has tcpdump read them
// back, when tcpdump is installed.
func checkTcpdumpReads(t *testing.T, pkts []Packet) {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Log("tcpdump not installed: not reading the capture back")
		return
	}
	path := filepath.Join(t.TempDir(), "capture.pcap")
	var buf bytes.Buffer
	require.NoError(t, WritePcap(&buf, pkts))
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	out := strings.TrimSuffix(string(tcpdumpRead(t, path, "-n", "-t")), "\n")
	assert.Equal(t, strings.Join(Summaries(pkts), "\n"), out, "tcpdump -r reads differently from Summaries")
}

func TestCaptureFilterAndStats(t *testing.T) {
	a, b := pair(t)
	serveUDPEcho(t, b, "10.0.0.2:7")
	c, err := StartCapture(b, "b0", "udp and src host 10.0.0.1")
	require.NoError(t, err)
	_, err = Ping(timeout(t, 2*time.Second), a, addrB)
	require.NoError(t, err)
	require.NoError(t, Reach(timeout(t, 2*time.Second), a, "udp", netip.MustParseAddrPort("10.0.0.2:7")))
	pkts := mustStop(t, c)
	require.Len(t, pkts, 1, "filtered capture:\n%s", strings.Join(Summaries(pkts), "\n"))
	assert.True(t, strings.HasPrefix(Summary(pkts[0]), "IP 10.0.0.1."), "filtered capture: %s", Summary(pkts[0]))
	st := c.Stats()
	// Received: echo request and reply, datagram and reply.
	assert.Equal(t, 1, st.Kept, "stats %+v", st)
	assert.GreaterOrEqual(t, st.Received, 4, "stats %+v", st)
	assert.Zero(t, st.Dropped, "stats %+v", st)
	assert.False(t, pkts[0].Time.IsZero(), "packet time")
	assert.Equal(t, len(pkts[0].Data), pkts[0].Length, "packet length")
}

// TestCaptureStop: Stop returns at once on a quiet interface, can be
// called again, and Wait reports a stopped capture.
func TestCaptureStop(t *testing.T) {
	a, _ := pair(t)
	c, err := StartCapture(a, "a0", "")
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Stop()
	require.NoError(t, err)
	assert.Less(t, time.Since(start), time.Second, "Stop on a quiet interface")
	_, err = c.Stop()
	assert.NoError(t, err, "second Stop")
	assert.ErrorContains(t, c.Wait(timeout(t, time.Second), 1), "capture stopped after 0", "Wait after Stop")
}

func TestCaptureErrors(t *testing.T) {
	a, _ := pair(t)
	_, err := StartCapture(a, "nope0", "")
	assert.ErrorContains(t, err, `capturing on "nope0": no interface "nope0" (interfaces: lo`, "unknown interface")
	var ni *NoInterfaceError
	assert.ErrorAs(t, err, &ni)
	_, err = StartCapture(a, "a0", "port")
	var fe *FilterError
	assert.ErrorAs(t, err, &fe, "bad filter")
	assert.EqualError(t, err, `filter "port": expected a port number after "port"`, "bad filter")
}

// busyCount is the burst TestCaptureBusy sends; -busy.n changes it for
// heavier measurements.
var busyCount = 5000

func init() {
	flag.IntVar(&busyCount, "busy.n", busyCount, "datagrams TestCaptureBusy sends")
}

// sendBurst sends n numbered UDP datagrams of 64 bytes from a to
// 10.0.0.2:9000 as fast as the socket takes them, and returns how long it
// took.
func sendBurst(t *testing.T, a *netns.NS, n int) time.Duration {
	t.Helper()
	conn, err := dial(timeout(t, 2*time.Second), a, "udp", netip.MustParseAddrPort("10.0.0.2:9000"))
	require.NoError(t, err)
	defer conn.Close()
	buf := make([]byte, 64)
	start := time.Now()
	for i := range n {
		binary.BigEndian.PutUint32(buf, uint32(i))
		_, err := conn.Write(buf)
		require.NoError(t, err, "sending datagram %d", i)
	}
	return time.Since(start)
}

// TestCaptureBusy: a burst of 5000 datagrams (-busy.n), sent as fast as possible, is
// captured whole on both ends of the veth, with no kernel drops. It logs
// the figures docs/captures.md quotes; run it with -v to see them, and
// with -count=N to repeat.
func TestCaptureBusy(t *testing.T) {
	a, b := pair(t)
	// A receiver that never reads: datagrams it cannot queue are dropped
	// by its socket, after the capture saw them, and no port-unreachable
	// errors come back to the sender.
	var sink net.PacketConn
	require.NoError(t, b.Do(func() (err error) { sink, err = net.ListenPacket("udp", "10.0.0.2:9000"); return err }))
	defer sink.Close()

	const filter = "udp and dst port 9000"
	tx, err := StartCapture(a, "a0", filter)
	require.NoError(t, err)
	rx, err := StartCapture(b, "b0", filter)
	require.NoError(t, err)
	took := sendBurst(t, a, busyCount)
	for name, c := range map[string]*Capture{"sender a0": tx, "receiver b0": rx} {
		// The datagrams are all sent; wait (bounded) for the reader to
		// take them, then stop.
		waitErr := c.Wait(timeout(t, 10*time.Second), busyCount)
		pkts, err := c.Stop()
		st := c.Stats()
		t.Logf("%s: sent %d datagrams in %v (%.0f/s); captured %d, kernel received %d, dropped %d",
			name, busyCount, took.Round(time.Millisecond), float64(busyCount)/took.Seconds(), len(pkts), st.Received, st.Dropped)
		if waitErr != nil || err != nil || len(pkts) != busyCount || st.Dropped != 0 {
			t.Errorf("%s: captured %d of %d (wait: %v, stop: %v)", name, len(pkts), busyCount, waitErr, err)
			continue
		}
		for i, p := range pkts {
			if p.Length != 14+20+8+64 || binary.BigEndian.Uint32(p.Data[42:]) != uint32(i) {
				t.Errorf("%s: packet %d is %s, want datagram %d in order", name, i, Summary(p), i)
				break
			}
		}
	}
}

// TestCaptureBusySmallBuffer measures the same burst with the kernel's
// default receive buffer (208 KiB), for comparison in docs/captures.md. It
// asserts nothing about loss: only that losses are counted, not hidden.
func TestCaptureBusySmallBuffer(t *testing.T) {
	a, b := pair(t)
	var sink net.PacketConn
	require.NoError(t, b.Do(func() (err error) { sink, err = net.ListenPacket("udp", "10.0.0.2:9000"); return err }))
	defer sink.Close()
	c, err := startCapture(b, "b0", "udp and dst port 9000", 212992)
	require.NoError(t, err)
	took := sendBurst(t, a, busyCount)
	pkts, err := c.Stop() // reads all that the kernel queued

	st := c.Stats()
	t.Logf("default buffer: sent %d in %v; captured %d, kernel received %d, dropped %d (stop: %v)",
		busyCount, took.Round(time.Millisecond), len(pkts), st.Received, st.Dropped, err)
	assert.Equal(t, busyCount, len(pkts)+st.Dropped, "captured %d + dropped %d: a loss went uncounted", len(pkts), st.Dropped)
	assert.Equal(t, st.Dropped > 0, errors.Is(err, ErrDropped), "%d drops, Stop error %v: want ErrDropped exactly when packets were dropped", st.Dropped, err)
}

// TestStartsWithSYN: the check above accepts a stale packet of another
// connection before the SYN, and nothing else.
func TestStartsWithSYN(t *testing.T) {
	syn := "IP 10.0.0.1.39290 > 10.0.0.2.80: Flags [S], seq 1, win 64240, length 0"
	ack := "IP 10.0.0.1.39290 > 10.0.0.2.80: Flags [.], ack 1, win 63, length 0"
	stale := "IP 10.0.0.2.80 > 10.0.0.1.39274: Flags [.], ack 2, win 64, length 0"
	own := "IP 10.0.0.2.80 > 10.0.0.1.39290: Flags [R.], seq 0, ack 1, win 0, length 0"
	for _, tc := range []struct {
		sums []string
		want bool
	}{
		{[]string{syn, ack}, true},
		{[]string{stale, syn, ack}, true},
		{[]string{ack}, false},
		{[]string{own, syn}, false},
		{[]string{ack, syn}, false},
		{nil, false},
	} {
		assert.Equal(t, tc.want, startsWithSYN(tc.sums), "startsWithSYN(%q)", tc.sums)
	}
}
