package testkit

import (
	"os/exec"
	"sync"
	"testing"

	"github.com/labrun/labrun/netkit/netns"
	"github.com/labrun/labrun/netkit/prereq"
)

// netAdmin is the probe's answer, asked once per test binary: it makes a
// network namespace and closes it again.
var netAdmin = sync.OnceValue(netns.Available)

// RequireNetAdmin skips the test unless this process can make network
// namespaces (root, or CAP_SYS_ADMIN and CAP_NET_ADMIN).
//
// Equivalent to: unshare --net true
func RequireNetAdmin(t testing.TB) {
	t.Helper()
	if err := netAdmin(); err != nil {
		t.Skipf("skipping: cannot make network namespaces (needs root or CAP_SYS_ADMIN): %v", err)
	}
}

// RequireBinary skips the test unless every named program is in PATH.
//
// Equivalent to: command -v NAME
func RequireBinary(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			t.Skipf("skipping: %s not installed: %v", name, err)
		}
	}
}

// RequireLab skips the test unless this machine can build a whole lab:
// network namespaces, and everything package prereq checks (privileges, the
// iptables binaries, veth pairs, bridges, an iptables back end).
func RequireLab(t testing.TB) {
	t.Helper()
	RequireNetAdmin(t)
	if err := prereq.Err(); err != nil {
		t.Skipf("skipping: this machine cannot build labs:\n%v", err)
	}
}
