package firewall

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labrun/labrun/netkit/batch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKernelConcurrentApply: plain batches of concurrent callers are applied
// together, and each caller still gets its own outcome: a batch that cannot
// apply fails alone, and leaves nothing behind, while the others land.
func TestKernelConcurrentApply(t *testing.T) {
	t.Parallel()
	p, c := withDocker0(t)
	const n = 40
	bad := Op{Kind: Append, Rule: Rule{Table: TableFilter, Chain: "NO-SUCH-CHAIN", Spec: []string{"-j", "ACCEPT"}}}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ops := addPubs(c, docker0, benchPort(i))
			if i%10 == 7 {
				ops = append(ops, bad)
			}
			errs[i] = p.Apply(ops)
		})
	}
	wg.Wait()
	var good []pub
	for i, err := range errs {
		if i%10 == 7 {
			if assert.Error(t, err, "batch %d with a rule in a missing chain applied", i) {
				assert.ErrorContains(t, err, "NO-SUCH-CHAIN", "batch %d: error does not name its failing rule", i)
			}
			continue
		}
		if assert.NoError(t, err, "batch %d", i) {
			good = append(good, benchPort(i))
		}
	}
	// Exactly the good ports' rules are there, once each: the order of
	// concurrent batches is not defined, so compare sorted rule sets.
	want := newProgrammer(t)
	apply(t, want, [][]Op{c.Start(), c.AddNetwork(docker0), addPubs(c, docker0, good...)})
	if got, exp := sortedLines(save(t, p)), sortedLines(save(t, want)); got != exp {
		t.Errorf("rules after concurrent batches:\n%s", diff(exp, got))
	}
	// Removing concurrently, with some rules already gone, leaves the
	// engine's rules only.
	for i := range n {
		wg.Go(func() {
			errs[i] = p.Apply(removePubs(c, docker0, benchPort(i)))
		})
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "removing batch %d", i)
	}
	clean := newProgrammer(t)
	apply(t, clean, [][]Op{c.Start(), c.AddNetwork(docker0)})
	if got, exp := save(t, p), save(t, clean); got != exp {
		t.Errorf("rules after concurrent removal:\n%s", diff(exp, got))
	}
}

func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	// A stable order that keeps the table boundaries: sort within runs
	// of -A lines only.
	start := -1
	for i := 0; i <= len(lines); i++ {
		if i < len(lines) && strings.HasPrefix(lines[i], "-A ") {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			sortStrings(lines[start:i])
			start = -1
		}
	}
	return strings.Join(lines, "\n")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// BenchmarkApplyPortParallel publishes one port per operation from many
// goroutines at once, as a lab starting containers in parallel does: the
// batches of concurrent callers share one iptables-restore.
func BenchmarkApplyPortParallel(b *testing.B) {
	for _, par := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("callers=%d", par), func(b *testing.B) {
			p, c := withDocker0(b)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range par {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						// assert, not require: FailNow must not run off the benchmark's goroutine.
						if !assert.NoError(b, p.Apply(addPubs(c, docker0, benchPort(int(i))))) {
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestKernelAnnouncedApply: calls that containers starting together
// announced (Expect) go in one iptables-restore, even when they come one
// after the other, and land as if applied alone.
func TestKernelAnnouncedApply(t *testing.T) {
	t.Parallel()
	p, c := withDocker0(t)
	var restores atomic.Int64
	run := p.plain.Run
	p.plain.Run = func(b [][]cmd) []error {
		restores.Add(1)
		return run(b)
	}
	p.plain.Gather = time.Minute
	const n = 6
	tickets := make([]*batch.Ticket, n)
	for i := range n {
		tickets[i] = p.Expect(1)
	}
	errs := make(chan error, n)
	for i := range n {
		go func() {
			defer tickets[i].Release()
			errs <- p.ApplyAnnounced(addPubs(c, docker0, benchPort(i)), tickets[i])
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	assert.EqualValues(t, 1, restores.Load(), "restores taken by %d announced calls", n)
	var ports []pub
	for i := range n {
		ports = append(ports, benchPort(i))
	}
	want := newProgrammer(t)
	apply(t, want, [][]Op{c.Start(), c.AddNetwork(docker0), addPubs(c, docker0, ports...)})
	if got, exp := sortedLines(save(t, p)), sortedLines(save(t, want)); got != exp {
		t.Errorf("rules after announced batches:\n%s", diff(exp, got))
	}
}
