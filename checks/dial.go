package checks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
)

// ErrNoReply is wrapped by a UDP Reach that got neither a datagram nor an
// ICMP error before its deadline: the port may be open and silent, or the
// datagram was dropped on the way. Callers that accept "open or filtered"
// test for it with errors.Is.
var ErrNoReply = errors.New("no reply")

// socketIn creates a non-blocking socket inside ns and, when addr carries an
// IPv6 zone (an interface name), resolves the zone to an interface index
// there too, since interface names only mean something inside their
// namespace. This is the only thing the dial path does inside a namespace:
// the socket keeps the namespace it was created in, so connect, send and
// receive work from any goroutine afterwards.
func socketIn(ns *netns.NS, family, typ, proto int, addr netip.Addr) (fd int, zoneID uint32, err error) {
	fd = -1
	err = ns.Do(func() error {
		if z := addr.Zone(); z != "" {
			if n, err := strconv.ParseUint(z, 10, 32); err == nil {
				zoneID = uint32(n)
			} else {
				ifi, err := net.InterfaceByName(z)
				if err != nil {
					return fmt.Errorf("resolving zone %q: %w", z, err)
				}
				zoneID = uint32(ifi.Index)
			}
		}
		s, err := unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return fmt.Errorf("creating socket: %w", err)
		}
		fd = s
		return nil
	})
	return fd, zoneID, err
}

// sockaddr converts addr to the kernel's form.
func sockaddr(addr netip.AddrPort, zoneID uint32) (family int, sa unix.Sockaddr) {
	a := addr.Addr().Unmap()
	if a.Is4() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(addr.Port()), Addr: a.As4()}
	}
	return unix.AF_INET6, &unix.SockaddrInet6{Port: int(addr.Port()), Addr: a.As16(), ZoneId: zoneID}
}

// dial connects a TCP or UDP socket created inside ns to addr and returns it
// as an ordinary net.Conn.
//
// The connect is non-blocking and runs outside the namespace: a TCP
// handshake that takes seconds waits in Go's poller on an ordinary goroutine,
// bounded by ctx, instead of holding a thread inside the namespace (which a
// net.Dialer called within ns.Do would do). net.Dialer cannot be used
// directly, because it creates its socket in the calling thread's namespace
// and its Control hook runs too late to change that.
func dial(ctx context.Context, ns *netns.NS, network string, addr netip.AddrPort) (net.Conn, error) {
	start := time.Now()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("connecting to %s %s: %w", network, addr, ctxErr(ctx, start))
	}
	var typ int
	switch network {
	case "tcp":
		typ = unix.SOCK_STREAM
	case "udp":
		typ = unix.SOCK_DGRAM
	default:
		return nil, fmt.Errorf("dialing %s %s: unknown network %q (want tcp or udp)", network, addr, network)
	}
	if !addr.IsValid() {
		return nil, fmt.Errorf("dialing %s: invalid address %q", network, addr)
	}
	family, _ := sockaddr(addr, 0)
	fd, zoneID, err := socketIn(ns, family, typ, 0, addr.Addr())
	if err != nil {
		return nil, fmt.Errorf("connecting to %s %s: %w", network, addr, err)
	}
	_, sa := sockaddr(addr, zoneID)
	f := os.NewFile(uintptr(fd), network+" socket") // f owns fd from here
	defer f.Close()                                 // FileConn below keeps its own duplicate

	if err := connect(ctx, f, fd, sa); err != nil {
		return nil, fmt.Errorf("connecting to %s %s: %w", network, addr, probeErr(ctx, start, err))
	}
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s %s: %w", network, addr, err)
	}
	return c, nil
}

// connect starts a non-blocking connect on fd and waits, in the poller, for
// it to finish or for ctx to end.
// Connect connects f, a non-blocking stream socket made and bound by the
// caller (a trace binds it first, to know its source port), to addr,
// waiting in Go's poller for the handshake's end or ctx's.
func Connect(ctx context.Context, f *os.File, addr netip.AddrPort) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	fd := -1
	if err := rc.Control(func(raw uintptr) { fd = int(raw) }); err != nil {
		return err
	}
	_, sa := sockaddr(addr, 0)
	return connect(ctx, f, fd, sa)
}

func connect(ctx context.Context, f *os.File, fd int, sa unix.Sockaddr) error {
	switch err := unix.Connect(fd, sa); err {
	case nil:
		return nil // UDP, or a TCP connect that completed at once
	case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
		// The handshake is under way: wait below.
	default:
		return os.NewSyscallError("connect", err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	stop := watch(ctx, f.SetWriteDeadline)
	defer stop()
	var cerr error
	// A connecting socket turns writable when the handshake ends either way;
	// SO_ERROR then tells which way. The callback also runs once before any
	// wait, when the socket may still be connecting (getpeername says so).
	werr := rc.Write(func(fd uintptr) bool {
		v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			cerr = os.NewSyscallError("getsockopt", err)
			return true
		}
		if v != 0 {
			cerr = unix.Errno(v)
			return true
		}
		if _, err := unix.Getpeername(int(fd)); err != nil {
			if err == unix.ENOTCONN {
				return false // still connecting: wait for writability
			}
			cerr = os.NewSyscallError("getpeername", err)
		}
		return true
	})
	if werr != nil {
		return werr
	}
	return cerr
}

// watch applies ctx to a descriptor through its deadline setter: the
// deadline becomes ctx's deadline, and cancelling ctx moves it into the past
// so that a blocked operation returns at once. The returned stop undoes the
// cancellation hook.
func watch(ctx context.Context, setDeadline func(time.Time) error) (stop func() bool) {
	if d, ok := ctx.Deadline(); ok {
		setDeadline(d)
	}
	return context.AfterFunc(ctx, func() { setDeadline(time.Unix(1, 0)) })
}

// probeErr turns the ways an operation can run out of time (a deadline on
// the descriptor, or ctx ending) into one readable error: "timed out after
// 1s", wrapping context.DeadlineExceeded, or ctx's own error when it was
// cancelled. Other errors are reduced to the kernel's errno when there is one,
// so that messages read "connection refused" rather than a stack of
// operation names; errors.Is still finds the errno.
func probeErr(ctx context.Context, start time.Time, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return ctxErr(ctx, start)
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

// ctxErr reports how ctx ended, measuring a deadline from start.
func ctxErr(ctx context.Context, start time.Time) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	d := time.Since(start)
	if dl, ok := ctx.Deadline(); ok {
		d = dl.Sub(start)
	}
	return &timeoutError{d.Round(10 * time.Millisecond)}
}

// timeoutError reads "timed out after 1s" and is context.DeadlineExceeded
// to errors.Is.
type timeoutError struct{ after time.Duration }

func (e *timeoutError) Error() string   { return "timed out after " + e.after.String() }
func (e *timeoutError) Unwrap() error   { return context.DeadlineExceeded }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
