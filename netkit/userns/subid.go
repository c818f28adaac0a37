package userns

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// envWait names the variable that has the program run again wait on
// descriptor 3 until its ID maps are written, then run itself once more,
// so that it starts as root of its namespace with every capability.
const envWait = "LABRUN_USERNS_WAIT"

// subRange is a range of subordinate IDs, as /etc/subuid grants one.
type subRange struct{ start, count int }

// subIDs returns the first range that file (/etc/subuid, /etc/subgid)
// grants the user (by name or by ID), if any.
func subIDs(file, name string, id int) (subRange, bool) {
	f, err := os.Open(file)
	if err != nil {
		return subRange{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(p) != 3 || (p[0] != name && p[0] != strconv.Itoa(id)) {
			continue
		}
		start, err1 := strconv.Atoi(p[1])
		count, err2 := strconv.Atoi(p[2])
		if err1 == nil && err2 == nil && count > 0 {
			return subRange{start, count}, true
		}
	}
	return subRange{}, false
}

// subMaps returns the arguments of newuidmap and newgidmap that map the
// user to root and its subordinate IDs from 1, when the machine grants
// the user subordinate IDs and has the two programs (Debian's uidmap).
func subMaps() (uidArgs, gidArgs []string, ok bool) {
	u, err := user.Current()
	if err != nil {
		return nil, nil, false
	}
	uids, ok1 := subIDs("/etc/subuid", u.Username, os.Getuid())
	gids, ok2 := subIDs("/etc/subgid", u.Username, os.Getuid())
	_, err1 := exec.LookPath("newuidmap")
	_, err2 := exec.LookPath("newgidmap")
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		return nil, nil, false
	}
	m := func(own int, r subRange) []string {
		return []string{"0", strconv.Itoa(own), "1", "1", strconv.Itoa(r.start), strconv.Itoa(r.count)}
	}
	return m(os.Getuid(), uids), m(os.Getgid(), gids), true
}

// writeMaps gives the child its ID maps through the setuid helpers.
//
// Equivalent to: newuidmap PID 0 UID 1 1 SUBUID N; newgidmap PID 0 GID 1 1 SUBGID N
func writeMaps(pid int, uidArgs, gidArgs []string) error {
	for _, c := range []struct {
		prog string
		args []string
	}{{"newuidmap", uidArgs}, {"newgidmap", gidArgs}} {
		out, err := exec.Command(c.prog, append([]string{strconv.Itoa(pid)}, c.args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", c.prog, err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// MaybeWait is what the program run again does first, where Reexec writes
// its ID maps with newuidmap: it waits until they are written, then runs
// itself once more, now as root of its namespace, and there asks again to
// die with its parent (the kernel forgets that when a program gains
// capabilities). It returns at once in any other process.
func MaybeWait() {
	switch os.Getenv(envWait) {
	case "":
		return
	case "again":
		os.Unsetenv(envWait)
		unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0)
		if os.Getppid() == 1 {
			os.Exit(2) // the parent is gone already
		}
		return
	}
	os.Setenv(envWait, "again")
	pipe := os.NewFile(3, "userns-wait")
	io.Copy(io.Discard, pipe)
	pipe.Close()
	self, err := os.Executable()
	if err == nil {
		err = syscall.Exec(self, os.Args, os.Environ())
	}
	fmt.Fprintf(os.Stderr, "labrun: starting in the user namespace: %v\n", err)
	os.Exit(2)
}
