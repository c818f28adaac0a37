// Package batch merges the requests of concurrent callers into batches
// (group commit), for kernel operations whose cost is mostly per call: one
// iptables-restore, one deletion of a group of links. It knows nothing of
// what a request is, makes no system calls, and starts no goroutines.
//
// It is not a queue or a scheduler: a request is handled by one of the
// callers waiting for it, and every caller returns only once its own
// request is done.
package batch

import (
	"sync"
	"time"
)

// Group batches requests of type T. The zero value is not usable: set Run.
type Group[T any] struct {
	// Run handles a batch and returns one error for each of its requests,
	// in order (a nil slice: none failed). Batches never overlap.
	Run func(batch []T) []error
	// Gather bounds how long a batch waits for requests that callers
	// announced (Expect) and have not made yet; 0 means 20 ms.
	Gather time.Duration

	mu       sync.Mutex
	queue    []*request[T]
	leader   bool          // a caller is running a batch or has been asked to
	expected int           // announced requests not made yet
	arrived  chan struct{} // closed when one is made or withdrawn, while a leader waits
}

// request is one caller's request waiting in the queue.
type request[T any] struct {
	item T
	err  error
	done chan struct{} // closed once handled
	lead chan struct{} // receives when this caller must run the queue
}

// Ticket announces requests that a caller is about to make: a batch that
// starts meanwhile waits for them (at most Gather), so that work that many
// callers begin together (removing fifty containers) goes in one batch
// instead of two or three. A nil *Ticket announces nothing.
type Ticket struct {
	owner any // the *Group that issued it
	mu    *sync.Mutex
	count *int
	wake  func()
	n     int
}

// Expect announces n requests. Release the ticket once they are made, or
// when the caller gives up on them.
func (g *Group[T]) Expect(n int) *Ticket {
	if n <= 0 {
		return nil
	}
	g.mu.Lock()
	g.expected += n
	g.mu.Unlock()
	return &Ticket{owner: g, mu: &g.mu, count: &g.expected, wake: g.wakeLocked, n: n}
}

// Release withdraws what the ticket announced and was not requested.
func (t *Ticket) Release() {
	if t == nil {
		return
	}
	t.mu.Lock()
	*t.count -= t.n
	t.n = 0
	t.wake()
	t.mu.Unlock()
}

func (g *Group[T]) wakeLocked() {
	if g.arrived != nil {
		close(g.arrived)
		g.arrived = nil
	}
}

// Do handles item in a batch with the requests of other callers and returns
// its error. t, if not nil, is the ticket that announced it (a ticket of
// another group is ignored).
func (g *Group[T]) Do(item T, t *Ticket) error {
	r := &request[T]{item: item, done: make(chan struct{}), lead: make(chan struct{}, 1)}
	g.mu.Lock()
	if t != nil && t.owner == any(g) && t.n > 0 {
		t.n--
		g.expected--
	}
	g.queue = append(g.queue, r)
	g.wakeLocked()
	if g.leader {
		g.mu.Unlock()
		select {
		case <-r.done:
			return r.err
		case <-r.lead:
		}
	} else {
		g.leader = true
		g.mu.Unlock()
	}
	// This caller leads: its own request is still queued.
	g.run(g.gather())
	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].lead <- struct{}{}
	} else {
		g.leader = false
	}
	g.mu.Unlock()
	return r.err
}

// gather takes the queue as the next batch, once every announced request
// has joined it or Gather has passed.
func (g *Group[T]) gather() []*request[T] {
	var timeout <-chan time.Time
	g.mu.Lock()
	for g.expected > 0 {
		if timeout == nil {
			d := g.Gather
			if d == 0 {
				d = 20 * time.Millisecond
			}
			timer := time.NewTimer(d)
			defer timer.Stop()
			timeout = timer.C
		}
		if g.arrived == nil {
			g.arrived = make(chan struct{})
		}
		arrived := g.arrived
		g.mu.Unlock()
		select {
		case <-arrived:
			g.mu.Lock()
			continue
		case <-timeout:
		}
		g.mu.Lock()
		break
	}
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()
	return batch
}

// run handles a batch and closes every request's done.
func (g *Group[T]) run(batch []*request[T]) {
	items := make([]T, len(batch))
	for i, r := range batch {
		items[i] = r.item
	}
	errs := g.Run(items)
	for i, r := range batch {
		if i < len(errs) {
			r.err = errs[i]
		}
		close(r.done)
	}
}
