package firewall

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/netkit/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tier 2: tests against the kernel, each in a fresh network namespace made
// by netns.New, never in the caller's.

// newProgrammer returns a Programmer on a fresh namespace, or skips the test
// when namespaces cannot be created (not root) or iptables is missing.
func newProgrammer(tb testing.TB) *Programmer { return newFamilyProgrammer(tb, IPv4) }

// newFamilyProgrammer is newProgrammer for rules of family f (ip6tables
// for IPv6).
func newFamilyProgrammer(tb testing.TB, f Family) *Programmer {
	tb.Helper()
	ipt := f.Command()
	testkit.RequireBinary(tb, ipt, ipt+"-restore", ipt+"-save")
	ns := testkit.NewNS(tb, testkit.NSOptions{})
	return NewProgrammer(ns, Options{Family: f, Logf: tb.Logf})
}

func apply(tb testing.TB, p *Programmer, batches [][]Op) {
	tb.Helper()
	for _, ops := range batches {
		require.NoError(tb, p.Apply(ops))
	}
}

// save is p's iptables-save, or iptables-save -t TABLE of each of tables.
func save(tb testing.TB, p *Programmer, tables ...string) string {
	tb.Helper()
	s, err := p.Save(tables...)
	require.NoError(tb, err)
	return s
}

// goldenMu serialises golden writes of parallel subtests (distinct files,
// but keep the directory creation simple).
var goldenMu sync.Mutex

// compareGolden compares got with a golden, or with -update writes it,
// except a golden written from a real engine (engineGolden): the kernel
// must match that one.
func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	if *update && !engineGolden(t, name) {
		goldenMu.Lock()
		defer goldenMu.Unlock()
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(goldenPath(name), []byte(got), 0o644))
		return
	}
	if want := readGolden(t, name); got != want {
		t.Errorf("%s:\n%s", name, diff(want, got))
	}
}

func concat(batches [][]Op) []Op {
	var all []Op
	for _, b := range batches {
		all = append(all, b...)
	}
	return all
}

// TestKernelGoldens applies every scenario in a fresh namespace and compares
// iptables-save with the goldens; -update rewrites those that no real engine
// wrote (era 27's).
func TestKernelGoldens(t *testing.T) {
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			p := newFamilyProgrammer(t, s.fam)
			add := s.phase1()
			apply(t, p, add)
			compareGolden(t, s.name, save(t, p, goldenTables(t, s.name)...))
			// The per-container rules are in place (ports and endpoints).
			assert.NoError(t, p.Check(concat(add[1+len(s.nets):])))

			del := s.phase2()
			apply(t, p, del)
			compareGolden(t, s.name+"_removed", save(t, p, goldenTables(t, s.name+"_removed")...))
			assert.NoError(t, p.Check(concat(del)))

			apply(t, p, s.phase3())
			base := newFamilyProgrammer(t, s.fam)
			apply(t, base, s.baseline())
			// A table once created stays: compared table by table.
			if got, want := save(t, p, DefaultTables...), save(t, base, DefaultTables...); got != want {
				t.Errorf("after removing networks:\n%s", diff(want, got))
			}
		})
	}
}

// TestKernelIdempotent: starting the engine and creating a network twice
// changes nothing (Docker's checks before it acts).
func TestKernelIdempotent(t *testing.T) {
	for _, era := range []release.Era{release.Era27, release.Era28, release.Era29} {
		t.Run(era.String(), func(t *testing.T) {
			t.Parallel()
			p := newProgrammer(t)
			c := Config{Release: release.Release{Era: era}, IPForwardFlipped: true}
			apply(t, p, [][]Op{c.Start(), c.AddNetwork(docker0), c.AddNetwork(userNet)})
			before := save(t, p)
			apply(t, p, [][]Op{c.Start(), c.AddNetwork(docker0), c.AddNetwork(userNet)})
			if after := save(t, p); after != before {
				t.Errorf("second start changed the rules:\n%s", diff(before, after))
			}
			assert.NoError(t, p.Check(concat([][]Op{c.Start(), c.AddNetwork(docker0), c.AddNetwork(userNet)})))
		})
	}
}

// TestKernelRemoveTolerant: removing a container whose rules were already
// (partly) deleted succeeds and leaves no stale rule.
func TestKernelRemoveTolerant(t *testing.T) {
	t.Parallel()
	p, c := withDocker0(t)
	clean := save(t, p)
	apply(t, p, [][]Op{c.AddBindings(docker0, ctr1, web)})
	// Someone deleted the filter ACCEPT behind our back.
	add := c.AddBindings(docker0, ctr1, web)
	apply(t, p, [][]Op{{{Kind: Delete, Rule: add[1].Rule}}})
	require.NoError(t, p.Apply(c.RemoveBindings(docker0, ctr1, web)), "removing with a rule already gone")
	if got := save(t, p); got != clean {
		t.Errorf("stale rules:\n%s", diff(clean, got))
	}
	// Removing again (everything gone) is fine too.
	require.NoError(t, p.Apply(c.RemoveBindings(docker0, ctr1, web)), "removing twice")
}

// TestKernelRollback: when a later table of a batch fails, what the earlier
// tables added is taken back, and the error carries iptables-restore's
// stderr and the failing command.
func TestKernelRollback(t *testing.T) {
	t.Parallel()
	p, c := withDocker0(t)
	clean := save(t, p)
	ops := append(c.AddBindings(docker0, ctr1, web), rule(Append, TableFilter, "NO-SUCH-CHAIN", "-j", "ACCEPT"))
	err := p.Apply(ops)
	require.Error(t, err, "batch with a missing chain succeeded")
	var ee *exec.ExitError
	assert.ErrorAs(t, err, &ee, "error does not wrap the exit status")
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "applying firewall rules: iptables-restore: exit status"), "error text: %v", err)
	assert.Contains(t, msg, "line", "error text")
	assert.Contains(t, msg, "-A NO-SUCH-CHAIN -j ACCEPT", "error text")
	if got := save(t, p); got != clean {
		t.Errorf("not rolled back:\n%s", diff(clean, got))
	}
}

// TestKernelCheckDrift: Check reports a rule that went missing.
func TestKernelCheckDrift(t *testing.T) {
	t.Parallel()
	p := newProgrammer(t)
	c := Config{IPForwardFlipped: true}
	apply(t, p, [][]Op{c.Start(), c.AddNetwork(docker0), c.AddBindings(docker0, ctr1, web)})
	dnat := c.AddBindings(docker0, ctr1, web)[0]
	apply(t, p, [][]Op{{{Kind: Delete, Rule: dnat.Rule}}})
	err := p.Check(c.AddBindings(docker0, ctr1, web))
	assert.ErrorIs(t, err, ErrDrift, "Check")
	assert.ErrorContains(t, err, "DNAT", "Check")
}

// BenchmarkApplyPort publishes one port per iteration (one iptables-restore)
// on top of a growing number of existing rules.
func BenchmarkApplyPort(b *testing.B) {
	for _, existing := range []int{0, 1000, 5000} {
		b.Run(fmt.Sprintf("rules=%d", 3*existing), func(b *testing.B) {
			p, c := benchProgrammer(b, existing)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				require.NoError(b, p.Apply(addPubs(c, docker0, benchPort(existing+i))))
			}
		})
	}
}

// BenchmarkRemovePort unpublishes one port per iteration among many.
func BenchmarkRemovePort(b *testing.B) {
	for _, existing := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("rules=%d", 3*existing), func(b *testing.B) {
			p, c := benchProgrammer(b, existing)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				j := i % existing
				require.NoError(b, p.Apply(removePubs(c, docker0, benchPort(j))))
				b.StopTimer()
				require.NoError(b, p.Apply(addPubs(c, docker0, benchPort(j))))
				b.StartTimer()
			}
		})
	}
}

// withDocker0 is a new programmer, with the rules of a started daemon and
// of docker0 applied, and its Config.
func withDocker0(tb testing.TB) (*Programmer, Config) {
	p := newProgrammer(tb)
	c := Config{IPForwardFlipped: true}
	apply(tb, p, [][]Op{c.Start(), c.AddNetwork(docker0)})
	return p, c
}

// benchProgrammer is a programmer with docker0 and the first existing
// benchPort bindings applied.
func benchProgrammer(b *testing.B, existing int) (*Programmer, Config) {
	p, c := withDocker0(b)
	var pre []pub
	for i := range existing {
		pre = append(pre, benchPort(i))
	}
	apply(b, p, [][]Op{addPubs(c, docker0, pre...)})
	return p, c
}

// benchPort is the i-th distinct binding: container 172.17.x.y, host port
// 10000+i.
func benchPort(i int) pub {
	a := netip.AddrFrom4([4]byte{172, 17, byte((i + 2) >> 8), byte(i + 2)})
	return pub{ctr: a, b: tcp(uint16(10000+i), 80)}
}
