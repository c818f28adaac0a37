package main

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// seccompEnv has the test binary, run again, refuse new user namespaces to
// itself and what it runs, then run the command in its arguments.
const seccompEnv = "LABRUN_TEST_NO_USERNS"

func init() {
	if os.Getenv(seccompEnv) == "" || len(os.Args) < 2 {
		return
	}
	if err := refuseUserns(); err != nil {
		os.Stderr.WriteString("refusing user namespaces: " + err.Error() + "\n")
		os.Exit(3)
	}
	path, err := exec.LookPath(os.Args[1])
	if err == nil {
		err = syscall.Exec(path, os.Args[1:], os.Environ())
	}
	os.Stderr.WriteString(err.Error() + "\n")
	os.Exit(3)
}

// refuseUserns installs a seccomp filter, as a container runtime's default
// profile does, that refuses clone and unshare with CLONE_NEWUSER
// (EPERM), and clone3, whose flags it cannot read (ENOSYS, so that
// callers fall back to clone). x86-64 only.
func refuseUserns() error {
	const (
		sysClone, sysUnshare, sysClone3 = 56, 272, 435
		retAllow                        = 0x7fff0000
		retErrno                        = 0x00050000
	)
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 0, Size: 4}, // nr
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: sysClone3, SkipFalse: 1},
		bpf.RetConstant{Val: retErrno | uint32(unix.ENOSYS)},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: sysClone, SkipTrue: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: sysUnshare, SkipFalse: 3},
		bpf.LoadAbsolute{Off: 16, Size: 4}, // args[0], low half
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: unix.CLONE_NEWUSER, SkipFalse: 1},
		bpf.RetConstant{Val: retErrno | uint32(unix.EPERM)},
		bpf.RetConstant{Val: retAllow},
	})
	if err != nil {
		return err
	}
	filter := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		filter[i] = unix.SockFilter{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, 1 /* SECCOMP_SET_MODE_FILTER */, 1 /* TSYNC */, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return errno
	}
	return nil
}

// TestRootlessRefused: where a seccomp profile refuses new user
// namespaces (a container runtime's default), an ordinary user's labrun
// says so and how to go on, exits 2, and builds nothing.
func TestRootlessRefused(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("skipping: the test's seccomp filter is for x86-64")
	}
	bin, dir := rootlessSetup(t)
	cmd := exec.Command(os.Args[0], "runuser", "-u", rootlessUsers[0], "--", bin, "scenarios/host-mode.txt")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), seccompEnv+"=1")
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	assert.Equal(t, 2, code, "labrun under a profile that refuses user namespaces:\n%s", out)
	assert.Contains(t, string(out), "unprivileged user namespaces are not allowed: making one failed (operation not permitted), as a seccomp profile")
	assert.NotContains(t, string(out), "PASS")
}
