package userns

import (
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// ErrNotYours refuses a request from another user than the server's.
var ErrNotYours = errors.New("not your lab: a live lab is its maker's alone")

// SameUser checks the credentials of the peer of c (SO_PEERCRED): it must
// be this process's own user, as its user namespace sees both (root for
// root; for labrun run by an ordinary user, that user, whom its user
// namespace maps to root, and no one else).
//
// Equivalent to: getsockopt(fd, SOL_SOCKET, SO_PEERCRED)
func SameUser(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return fmt.Errorf("reading the caller's credentials: %w", credErr)
	}
	if int(cred.Uid) != os.Geteuid() {
		return ErrNotYours
	}
	return nil
}
