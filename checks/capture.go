package checks

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
)

// Snaplen is the most bytes kept of one packet, tcpdump's default. It is
// large on purpose: on veth and bridge ports, TCP segments travel as
// offloaded super-packets of up to 64 KiB.
const Snaplen = 262144

// captureRcvbuf is the receive buffer asked of a capture socket. The kernel
// charges the buffer with each queued packet's whole memory footprint
// (several hundred bytes even for a small packet), so the default (208 KiB)
// holds only a few hundred packets and a burst overflows it (see
// docs/captures.md); 32 MiB holds tens of thousands while the reader catches
// up. Memory is used only while packets wait.
const captureRcvbuf = 32 << 20

// ErrDropped is wrapped by Stop's error when the kernel dropped packets
// because the capture socket's buffer was full.
var ErrDropped = errors.New("capture dropped packets")

// Packet is one captured Ethernet frame.
type Packet struct {
	// Time is when the kernel received or sent the frame.
	Time time.Time
	// Data is the frame from its Ethernet header, at most Snaplen bytes.
	// A VLAN tag the kernel had moved out of the frame is put back.
	Data []byte
	// Length is the frame's length on the wire; len(Data) when zero.
	Length int
}

// wireLen is Length, defaulting to len(Data).
func (p Packet) wireLen() int {
	if p.Length < len(p.Data) {
		return len(p.Data)
	}
	return p.Length
}

// CaptureStats counts what a capture saw.
type CaptureStats struct {
	// Received is the packets the kernel passed to the socket, including
	// those it then dropped.
	Received int
	// Dropped is the packets the kernel dropped because the socket's
	// receive buffer was full: packets on the wire that the capture lost.
	Dropped int
	// Kept is the packets that matched the filter and were kept.
	Kept int
}

// Capture is a running packet capture on one interface; see StartCapture.
// Its methods are safe for concurrent use.
type Capture struct {
	iface  string
	filter *Filter
	f      *os.File
	rc     syscall.RawConn

	done     chan struct{} // closed when the reader goroutine ends
	stopOnce sync.Once
	stopErr  error

	mu      sync.Mutex
	pkts    []Packet
	stats   CaptureStats
	changed chan struct{} // closed and replaced whenever pkts grows
	readErr error
}

// StartCapture starts capturing, inside ns, the packets that interface iface
// sends and receives and that match filter (see Filter; "" keeps all). It
// returns once the capture socket is bound to the interface, so every packet
// that crosses iface after StartCapture returns is captured.
//
// The AF_PACKET socket is created inside ns (its only step there) with no
// protocol, so that it receives nothing until it is bound to iface: a
// socket opened for all protocols first and bound after would queue other
// interfaces' packets in between. Its receive buffer is enlarged to 32 MiB
// (SO_RCVBUFFORCE, or SO_RCVBUF capped by net.core.rmem_max without
// CAP_NET_ADMIN) so that a burst is queued rather than dropped while the
// reader catches up; drops that happen anyway are counted by the kernel and
// reported by Stop.
//
// Equivalent to: ip netns exec NS tcpdump -i IFACE -s 262144 -B 32768 -w - FILTER
func StartCapture(ns *netns.NS, iface string, filter string) (*Capture, error) {
	return startCapture(ns, iface, filter, captureRcvbuf)
}

// NoInterfaceError is a capture on an interface that the namespace does
// not have; Have lists those it has.
type NoInterfaceError struct {
	Name string
	Have []string
}

func (e *NoInterfaceError) Error() string {
	return fmt.Sprintf("no interface %q (interfaces: %s)", e.Name, strings.Join(e.Have, ", "))
}

// noInterface returns the NoInterfaceError of name, in the calling
// thread's namespace.
func noInterface(name string) error {
	ifs, _ := net.Interfaces()
	e := &NoInterfaceError{Name: name}
	for _, i := range ifs {
		e.Have = append(e.Have, i.Name)
	}
	return e
}

// startCapture is StartCapture with the receive buffer size as a parameter,
// for measuring what the size buys (see docs/captures.md).
func startCapture(ns *netns.NS, iface string, filter string, rcvbuf int) (*Capture, error) {
	flt, err := ParseFilter(filter)
	if err != nil {
		return nil, err
	}
	fd := -1
	var ifindex int
	err = ns.Do(func() error {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return noInterface(iface)
		}
		ifindex = ifi.Index
		s, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening packet socket: %w", err)
		}
		fd = s
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("capturing on %q: %w", iface, err)
	}
	if err := setupCaptureSocket(fd, ifindex, rcvbuf); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("capturing on %q: %w", iface, err)
	}
	f := os.NewFile(uintptr(fd), "capture "+iface)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("capturing on %q: %w", iface, err)
	}
	c := &Capture{
		iface:   iface,
		filter:  flt,
		f:       f,
		rc:      rc,
		done:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	go c.run()
	return c, nil
}

// setupCaptureSocket sizes the buffer, asks for the ancillary data the
// reader uses, and binds the socket to the interface for all protocols. The
// socket starts receiving when bind returns.
func setupCaptureSocket(fd, ifindex, rcvbuf int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf); err != nil {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf); err != nil {
			return fmt.Errorf("setting receive buffer: %w", err)
		}
	}
	// Auxiliary data carries the wire length and any VLAN tag the device
	// took out of the frame.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		return fmt.Errorf("asking for packet auxdata: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fmt.Errorf("asking for timestamps: %w", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("binding packet socket: %w", err)
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// run reads packets until Stop moves the read deadline into the past. Each
// time the socket turns readable it drains everything queued, without
// blocking, then waits in the poller again.
func (c *Capture) run() {
	defer close(c.done)
	r := newReader(c.filter)
	var derr error
	err := c.rc.Read(func(fd uintptr) bool {
		derr = r.drain(int(fd), c)
		return derr != unix.EAGAIN
	})
	if err == nil {
		err = derr // drain failed with something other than EAGAIN
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		c.mu.Lock()
		c.readErr = err
		c.mu.Unlock()
	}
}

// reader holds one goroutine's buffers and decoder.
type reader struct {
	buf    []byte
	oob    []byte
	fr     *frame
	filter *Filter
}

func newReader(f *Filter) *reader {
	return &reader{
		buf:    make([]byte, Snaplen),
		oob:    make([]byte, 256),
		fr:     newFrame(),
		filter: f,
	}
}

// drain reads every packet queued on fd and returns EAGAIN once the queue is
// empty, or the error that ended reading. It hands packets to c in batches,
// so that a long burst does not keep Wait and Packets waiting.
func (r *reader) drain(fd int, c *Capture) error {
	const batchSize = 256
	var batch []Packet
	seen := 0
	flush := func() {
		if seen == 0 {
			return
		}
		c.mu.Lock()
		c.pkts = append(c.pkts, batch...)
		c.stats.Kept += len(batch)
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		batch, seen = batch[:0], 0
	}
	defer flush()
	for {
		if seen >= batchSize {
			flush()
		}
		// MSG_TRUNC makes recvmsg return the packet's full length even
		// when the buffer held only part of it.
		n, oobn, _, _, err := unix.Recvmsg(fd, r.buf, r.oob, unix.MSG_TRUNC|unix.MSG_DONTWAIT)
		switch err {
		case nil:
		case unix.EINTR:
			continue
		case unix.ENETDOWN:
			// The interface went down (the kernel reports it once); the
			// socket receives again when it comes back up.
			continue
		default:
			return err
		}
		seen++
		p, ok := r.packet(n, r.oob[:oobn])
		if !ok {
			continue
		}
		r.fr.decode(p.Data)
		if !r.filter.matchFrame(r.fr) {
			continue
		}
		p.Data = append([]byte(nil), p.Data...)
		batch = append(batch, p)
	}
}

// packet builds a Packet from the n-byte frame in r.buf and its ancillary
// data. The returned Data aliases r.buf.
func (r *reader) packet(n int, oob []byte) (Packet, bool) {
	p := Packet{Length: n, Data: r.buf[:min(n, len(r.buf))]}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return p, len(p.Data) > 0
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
			p.Time = time.Unix(int64(ts.Sec), int64(ts.Nsec))
		case m.Header.Level == unix.SOL_PACKET && m.Header.Type == unix.PACKET_AUXDATA && len(m.Data) >= int(unsafe.Sizeof(unix.TpacketAuxdata{})):
			aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&m.Data[0]))
			p.Length = int(aux.Len)
			if aux.Status&unix.TP_STATUS_VLAN_VALID != 0 && len(p.Data) >= 12 && len(p.Data)+4 <= len(r.buf) {
				tpid := uint16(layers.EthernetTypeDot1Q)
				if aux.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
					tpid = aux.Vlan_tpid
				}
				// Put the tag back where it was on the wire, after the
				// two MAC addresses, as libpcap does.
				d := r.buf[:len(p.Data)+4]
				copy(d[16:], d[12:len(p.Data)])
				binary.BigEndian.PutUint16(d[12:], tpid)
				binary.BigEndian.PutUint16(d[14:], aux.Vlan_tci)
				p.Data = d
				p.Length += 4
			}
		}
	}
	if p.Time.IsZero() {
		p.Time = time.Now()
	}
	return p, len(p.Data) > 0
}

// Wait blocks until the capture holds at least n packets, ctx ends, or the
// capture stops. It is how a test waits for traffic without sleeping.
func (c *Capture) Wait(ctx context.Context, n int) error {
	start := time.Now()
	for {
		c.mu.Lock()
		got, ch := len(c.pkts), c.changed
		c.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-c.done:
			c.mu.Lock()
			got = len(c.pkts)
			c.mu.Unlock()
			if got >= n {
				return nil
			}
			return fmt.Errorf("waiting for %d packets on %q: capture stopped after %d", n, c.iface, got)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d packets on %q: got %d: %w", n, c.iface, got, ctxErr(ctx, start))
		}
	}
}

// Packets returns a copy of the packets captured so far.
func (c *Capture) Packets() []Packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Packet(nil), c.pkts...)
}

// Stats returns the capture's counters. The kernel's counters are read
// (and added up) on each call while the capture runs, and once by Stop.
func (c *Capture) Stats() CaptureStats {
	select {
	case <-c.done:
	default:
		c.readKernelStats()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// readKernelStats adds the kernel's PACKET_STATISTICS to c.stats. Reading
// them resets them, so they are accumulated here.
func (c *Capture) readKernelStats() error {
	var st *unix.TpacketStats
	var gerr error
	err := c.rc.Control(func(fd uintptr) {
		st, gerr = unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
	})
	if err == nil {
		err = gerr
	}
	if err != nil {
		return fmt.Errorf("reading capture statistics: %w", err)
	}
	c.mu.Lock()
	// tp_packets counts the dropped packets too.
	c.stats.Received += int(st.Packets)
	c.stats.Dropped += int(st.Drops)
	c.mu.Unlock()
	return nil
}

// Stop ends the capture and returns the packets it kept, in the order the
// kernel queued them. Every packet queued on the socket before Stop is
// called is read first, so traffic that a caller saw complete (a reply
// received, a connect returned) is in the capture.
//
// The error, if any, still comes with the packets: it wraps ErrDropped when
// the kernel dropped packets (with the count), or reports the read error
// that ended the capture early. Stop may be called more than once.
func (c *Capture) Stop() ([]Packet, error) {
	c.stopOnce.Do(func() {
		// Wake the reader out of the poller and wait for it to finish.
		c.f.SetReadDeadline(time.Unix(1, 0))
		<-c.done
		var errs []error
		c.mu.Lock()
		if c.readErr != nil {
			errs = append(errs, fmt.Errorf("reading packets: %w", c.readErr))
		}
		c.mu.Unlock()
		// Then take what the kernel queued before this point.
		r := newReader(c.filter)
		var derr error
		if err := c.rc.Control(func(fd uintptr) { derr = r.drain(int(fd), c) }); err != nil {
			derr = err
		}
		if derr != nil && derr != unix.EAGAIN {
			errs = append(errs, fmt.Errorf("reading packets: %w", derr))
		}
		if err := c.readKernelStats(); err != nil {
			errs = append(errs, err)
		}
		if err := c.f.Close(); err != nil {
			errs = append(errs, err)
		}
		c.mu.Lock()
		if c.stats.Dropped > 0 {
			errs = append(errs, fmt.Errorf("%w: the kernel dropped %d of %d packets (socket buffer full)", ErrDropped, c.stats.Dropped, c.stats.Received))
		}
		c.mu.Unlock()
		if err := errors.Join(errs...); err != nil {
			c.stopErr = fmt.Errorf("capture on %q: %w", c.iface, err)
		}
	})
	return c.Packets(), c.stopErr
}

// WritePcap writes pkts as a classic pcap file (microsecond timestamps,
// link type Ethernet, snaplen 262144), the format tcpdump -r and Wireshark
// read.
func WritePcap(w io.Writer, pkts []Packet) error {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(Snaplen, layers.LinkTypeEthernet); err != nil {
		return fmt.Errorf("writing pcap header: %w", err)
	}
	for i, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: p.wireLen()}
		if err := pw.WritePacket(ci, p.Data); err != nil {
			return fmt.Errorf("writing packet %d to pcap: %w", i+1, err)
		}
	}
	return nil
}

// ReadPcap reads a pcap file of Ethernet frames (as WritePcap or tcpdump -w
// write them).
func ReadPcap(r io.Reader) ([]Packet, error) {
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading pcap: %w", err)
	}
	if lt := pr.LinkType(); lt != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("reading pcap: link type %v, want Ethernet", lt)
	}
	var pkts []Packet
	for {
		data, ci, err := pr.ReadPacketData()
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return pkts, fmt.Errorf("reading pcap packet %d: %w", len(pkts)+1, err)
		}
		pkts = append(pkts, Packet{Time: ci.Timestamp, Data: data, Length: ci.Length})
	}
}
