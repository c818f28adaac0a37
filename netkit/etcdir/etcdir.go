// Package etcdir is a lab's directory of the files that its nodes and
// containers see in /etc instead of the machine's: each container's
// resolv.conf, hosts and hostname, as Docker keeps them in
// /var/lib/docker/containers/ID and bind-mounts them (moby/moby
// daemon/container_operations_unix.go, v28.5.2), and the world nodes'
// resolv.conf. labrun's commands bind-mount them (initproc.Bind).
//
// It is not what the files say (netkit/etcfiles writes them) nor how they
// are mounted (netkit/initproc). A directory belongs to one labrun process:
// it is removed when the lab closes, and one left by a process that died
// (kill -9) is removed by the next lab made on the machine.
package etcdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// prefix names every lab's directory in the machine's temporary directory:
// labrun-etc-PID-RANDOM.
const prefix = "labrun-etc-"

// shm is the machine's shared-memory tmpfs.
const shm = "/dev/shm"

// Dir is one lab's directory.
type Dir struct{ path string }

// New makes a lab's directory, after removing those of labrun processes
// that are gone: in /dev/shm (a tmpfs, where writing a container's files
// costs a quarter of what it does on disk) where the machine has it,
// otherwise in the temporary directory.
func New() (*Dir, error) {
	base := os.TempDir()
	if st, err := os.Stat(shm); err == nil && st.IsDir() && unix.Access(shm, unix.W_OK) == nil {
		base = shm
	}
	sweep(base)
	p, err := os.MkdirTemp(base, prefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("making the lab's /etc files directory: %w", err)
	}
	// Readable by every user of the lab's nodes, as /etc is.
	if err := os.Chmod(p, 0o755); err != nil {
		os.RemoveAll(p)
		return nil, fmt.Errorf("making the lab's /etc files directory: %w", err)
	}
	return &Dir{path: p}, nil
}

// sweep removes the directories in tmp whose labrun process is gone.
func sweep(tmp string) {
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || alive(pid) {
			continue
		}
		os.RemoveAll(filepath.Join(tmp, e.Name()))
	}
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// File returns the path of file name of owner (a container's ID, a node's
// name) in the directory.
func (d *Dir) File(owner, name string) string { return filepath.Join(d.path, owner, name) }

// Write writes file name of owner, in place: a file already bind-mounted
// keeps its inode, so that every command of the owner sees the new text.
func (d *Dir) Write(owner, name string, data []byte) (string, error) {
	if err := os.MkdirAll(filepath.Join(d.path, owner), 0o755); err != nil {
		return "", fmt.Errorf("writing %s of %s: %w", name, owner, err)
	}
	p := d.File(owner, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return "", fmt.Errorf("writing %s of %s: %w", name, owner, err)
	}
	return p, nil
}

// Read returns file name of owner as it is now (a user may have edited it).
func (d *Dir) Read(owner, name string) ([]byte, error) { return os.ReadFile(d.File(owner, name)) }

// Remove removes owner's files.
func (d *Dir) Remove(owner string) error { return os.RemoveAll(filepath.Join(d.path, owner)) }

// Close removes the directory.
func (d *Dir) Close() error { return os.RemoveAll(d.path) }
