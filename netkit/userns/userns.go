// Package userns lets labrun run as an ordinary user: it runs the program
// again in a user namespace of its own (the invoking user mapped to root
// inside) with a mount namespace for its state, where it builds every lab
// exactly as root does, and it says in one message which setting of the
// machine forbids that when one does. It is not a sandbox for programs of
// the lab (they run as that same user) and gives no privilege on the
// machine: every namespace labrun makes inside is owned by the user's, and
// labrun itself lives in an empty network namespace of its own.
package userns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// envUID names the variable that tells the program run again who ran it:
// the invoking user's ID outside the user namespace.
const envUID = "LABRUN_ROOTLESS_UID"

// ErrBlocked is the error of a machine that forbids ordinary users user
// namespaces; its message names the setting and how to allow it.
var ErrBlocked = errors.New("unprivileged user namespaces are not allowed")

// Rootless reports whether this process is labrun run again by Reexec,
// and the invoking user's ID outside.
func Rootless() (uid int, ok bool) {
	s, set := os.LookupEnv(envUID)
	if !set {
		return 0, false
	}
	uid, err := strconv.Atoi(s)
	return uid, err == nil
}

// Environ is what a process that labrun starts in its user namespace and
// that may run labrun itself (a lab's shell, its docker command) keeps
// of labrun's environment to find the same labs: nil for root.
func Environ() []string {
	if _, ok := Rootless(); !ok {
		return nil
	}
	out := []string{envUID + "=" + os.Getenv(envUID)}
	for _, k := range []string{"XDG_RUNTIME_DIR", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// ErrNeedsRoot refuses what only root can do: what must outlive labrun,
// or be seen from the machine's own namespaces (docs/rootless.md).
var ErrNeedsRoot = errors.New("needs root: an ordinary user's labrun lives in a user and mount namespace of its own, which go with it")

// Needed reports whether this process must run again in a user namespace:
// it is not root and was not run again already.
func Needed() bool {
	_, in := Rootless()
	return os.Geteuid() != 0 && !in
}

// sysctls are the settings that forbid an ordinary user's user namespace,
// with the value that forbids and what to say. Where a file is missing
// the kernel has no such setting.
var sysctls = []struct{ file, blocking, name, allow string }{
	{"/proc/sys/kernel/unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone=0",
		"allow them as root with: sysctl -w kernel.unprivileged_userns_clone=1"},
	{"/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1", "kernel.apparmor_restrict_unprivileged_userns=1 (AppArmor)",
		"allow them as root with: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give labrun an AppArmor profile with the userns permission"},
	{"/proc/sys/user/max_user_namespaces", "0", "user.max_user_namespaces=0",
		"allow them as root with: sysctl -w user.max_user_namespaces=15000"},
}

// Blocked says which setting of the machine forbids an ordinary user's
// user namespace, reading root (normally "/"); nil when none does.
func Blocked(root string) error {
	for _, s := range sysctls {
		b, err := os.ReadFile(root + s.file)
		if err == nil && strings.TrimSpace(string(b)) == s.blocking {
			return fmt.Errorf("%w: this machine has %s; %s", ErrBlocked, s.name, s.allow)
		}
	}
	return nil
}

// Reexec runs this program again with args in a new user namespace, where
// the invoking user is root (and its subordinate IDs, where /etc/subuid
// grants them and newuidmap is installed, are 1 and up), a new mount namespace, and a network
// namespace of its own with nothing in it (labrun's threads come back to it
// from the lab's namespaces, which they may not do to the machine's), and
// returns its
// exit status; a signal that ends the parent is passed on (terminal
// signals reach both through the terminal already), and the child dies
// with the parent. The error says why it could not start, naming the
// setting that forbids it where one does (ErrBlocked).
//
// Equivalent to: unshare --user --map-root-user --mount --net labrun ARGS...
func Reexec(args []string) (int, error) {
	if err := Blocked(""); err != nil {
		return 2, err
	}
	// The child's parent-death signal follows this thread, not the process.
	runtime.LockOSThread()
	self, err := os.Executable()
	if err != nil {
		return 2, fmt.Errorf("finding labrun's own program: %w", err)
	}
	cmd := exec.Command(self, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envUID+"="+strconv.Itoa(os.Getuid()))
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET,
		Pdeathsig:  syscall.SIGKILL,
	}
	// The user's subordinate IDs where the machine grants them (so that
	// programs that change user, as tcpdump does, can); else the user alone.
	uidArgs, gidArgs, sub := subMaps()
	var wait *os.File
	if sub {
		r, w, err := os.Pipe()
		if err != nil {
			return 2, err
		}
		defer r.Close()
		wait = w
		cmd.ExtraFiles = []*os.File{r}
		cmd.Env = append(cmd.Env, envWait+"=1")
	} else {
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) && (errno == syscall.EPERM || errno == syscall.ENOSPC || errno == syscall.EACCES) {
			return 2, fmt.Errorf("%w: making one failed (%v), as a seccomp profile or a container's runtime forbids it; run labrun as root, or where user namespaces are allowed", ErrBlocked, errno)
		}
		return 2, fmt.Errorf("running labrun in a user namespace: %w", err)
	}
	if sub {
		err := writeMaps(cmd.Process.Pid, uidArgs, gidArgs)
		wait.Close()
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return 2, fmt.Errorf("mapping the user's subordinate IDs: %w", err)
		}
	}
	go func() {
		for s := range sigs {
			if (s == syscall.SIGINT || s == syscall.SIGQUIT) && foreground() {
				continue // the terminal sent it to the child too
			}
			cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		if ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ws.ExitStatus(), nil
	}
	return 2, err
}

// foreground reports whether this process's group is the foreground group
// of its terminal, which sends the terminal's signals to the whole group.
func foreground() bool {
	pgrp, err := unix.IoctlGetInt(int(os.Stdin.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}
