package trace

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/netns"
)

// listener is a netlink socket subscribed to one namespace's trace events.
//
// The kernel queues an event on the socket as it happens, while the packet
// passes the hook, so once the traced connection's outcome is known (its
// handshake done, refused, or timed out) every event of its first packets
// is already in the queue: drain reads them without waiting.
type listener struct {
	fd int
}

// listenBuf is the socket's receive buffer: room for thousands of events,
// far more than a traced connection makes.
const listenBuf = 8 << 20

// listen subscribes to the trace events of ns. Only the socket is made
// inside the namespace; reading it happens outside.
//
// Equivalent to: ip netns exec NS nft monitor trace
func listen(ns *netns.NS) (*listener, error) {
	l := &listener{fd: -1}
	err := ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
		if err != nil {
			return fmt.Errorf("opening a netfilter netlink socket: %w", err)
		}
		l.fd = fd
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(l.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		l.close()
		return nil, fmt.Errorf("binding the netfilter netlink socket: %w", err)
	}
	if err := unix.SetsockoptInt(l.fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, unix.NFNLGRP_NFTRACE); err != nil {
		l.close()
		return nil, fmt.Errorf("subscribing to nftables trace events: %w", err)
	}
	// Forcing the size needs CAP_NET_ADMIN; the ordinary limit is the
	// fallback.
	if unix.SetsockoptInt(l.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, listenBuf) != nil {
		unix.SetsockoptInt(l.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, listenBuf)
	}
	return l, nil
}

// errLost reports that the kernel dropped trace events because the
// socket's queue was full.
var errLost = errors.New("trace events lost: the receive queue overflowed")

// drain reads every event queued on the socket, without waiting, and
// returns them in the order the kernel sent them.
func (l *listener) drain() ([]Event, error) {
	var out []Event
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(l.fd, buf, unix.MSG_DONTWAIT)
		switch {
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EWOULDBLOCK):
			return out, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOBUFS):
			return out, errLost
		case err != nil:
			return out, fmt.Errorf("reading trace events: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return out, fmt.Errorf("reading trace events: %w", err)
		}
		for _, m := range msgs {
			ev, err := decodeEvent(m.Header.Type, m.Data)
			if errors.Is(err, errNotTrace) {
				continue
			}
			if err != nil {
				return out, err
			}
			out = append(out, ev)
		}
	}
}

func (l *listener) close() {
	if l.fd >= 0 {
		unix.Close(l.fd)
		l.fd = -1
	}
}
