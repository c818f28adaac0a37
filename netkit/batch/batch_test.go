package batch

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a Run that records its batches and fails the items named
// "bad"; it blocks each batch until release is closed, if set.
type recorder struct {
	mu      sync.Mutex
	batches [][]string
	started chan struct{} // receives once per batch, if set
	release chan struct{}
}

func (r *recorder) run(items []string) []error {
	if r.started != nil {
		r.started <- struct{}{}
	}
	if r.release != nil {
		<-r.release
	}
	r.mu.Lock()
	r.batches = append(r.batches, append([]string(nil), items...))
	r.mu.Unlock()
	errs := make([]error, len(items))
	for i, it := range items {
		if it == "bad" {
			errs[i] = fmt.Errorf("item %s: %w", it, errBad)
		}
	}
	return errs
}

var errBad = errors.New("bad item")

func TestAloneIsOneBatch(t *testing.T) {
	r := &recorder{}
	g := &Group[string]{Run: r.run}
	require.NoError(t, g.Do("a", nil))
	require.ErrorIs(t, g.Do("bad", nil), errBad)
	assert.Equal(t, [][]string{{"a"}, {"bad"}}, r.batches)
}

// Requests made while a batch runs go together in the next one, and each
// caller gets its own error.
func TestMergesWhileRunning(t *testing.T) {
	r := &recorder{started: make(chan struct{}, 10), release: make(chan struct{})}
	g := &Group[string]{Run: r.run}
	errs := make(chan error, 10)
	go func() { errs <- g.Do("first", nil) }()
	<-r.started // the first batch runs and holds
	var wg sync.WaitGroup
	for _, it := range []string{"x", "bad", "y"} {
		wg.Go(func() { errs <- g.Do(it, nil) })
	}
	waitQueued(t, g, 3)
	close(r.release)
	wg.Wait()
	<-r.started
	var failed int
	for range 4 {
		if err := <-errs; err != nil {
			require.ErrorIs(t, err, errBad)
			failed++
		}
	}
	assert.Equal(t, 1, failed)
	require.Len(t, r.batches, 2)
	assert.Equal(t, []string{"first"}, r.batches[0])
	assert.ElementsMatch(t, []string{"x", "bad", "y"}, r.batches[1])
}

// A batch waits for announced requests, so they go in it.
func TestWaitsForAnnounced(t *testing.T) {
	r := &recorder{}
	g := &Group[string]{Run: r.run, Gather: time.Minute}
	tickets := []*Ticket{g.Expect(1), g.Expect(1), g.Expect(1)}
	done := make(chan error, 3)
	go func() { done <- g.Do("a", tickets[0]) }()
	waitQueued(t, g, 1) // the leader waits for the two others
	go func() { done <- g.Do("b", tickets[1]) }()
	go func() { done <- g.Do("c", tickets[2]) }()
	for range 3 {
		require.NoError(t, <-done)
	}
	require.Len(t, r.batches, 1)
	assert.ElementsMatch(t, []string{"a", "b", "c"}, r.batches[0])
}

// A released ticket is no longer waited for, nor is one past Gather.
func TestReleaseAndGather(t *testing.T) {
	r := &recorder{}
	g := &Group[string]{Run: r.run, Gather: time.Minute}
	t1, t2 := g.Expect(1), g.Expect(2)
	done := make(chan error, 1)
	go func() { done <- g.Do("a", t1) }()
	waitQueued(t, g, 1)
	t2.Release()
	require.NoError(t, <-done)
	assert.Equal(t, [][]string{{"a"}}, r.batches)

	g2 := &Group[string]{Run: r.run, Gather: time.Millisecond}
	g2.Expect(1) // never made, never released
	require.NoError(t, g2.Do("b", nil))
}

// A ticket of another group, or nil, announces nothing here.
func TestForeignTicket(t *testing.T) {
	r := &recorder{}
	g, other := &Group[string]{Run: r.run}, &Group[string]{Run: r.run}
	tk := other.Expect(1)
	require.NoError(t, g.Do("a", tk))
	assert.Equal(t, 1, tk.n)
	tk.Release()
	var nilT *Ticket
	nilT.Release()
	assert.Nil(t, g.Expect(0))
}

// waitQueued waits until the group holds n requests queued and not taken.
func waitQueued(t *testing.T, g *Group[string], n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		q := len(g.queue)
		g.mu.Unlock()
		if q >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued after 10 s, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}
