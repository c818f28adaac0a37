package link

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// DefaultTxQueues returns the number of transmit queues the kernel gives a veth
// by default (veth_get_num_queues: the possible CPUs, at most 4096), or 0
// where that cannot be read.
//
// A veth made without IFLA_NUM_TX_QUEUES (as Docker makes them) is
// registered with that many queues in use and then cut down to one, and
// cutting a registered device's queues waits for an RCU grace period under
// the rtnl lock: twice per pair, which at N=1000 was about 7% of a lab's
// start (docs/performance.md). Asking for the default number explicitly
// keeps them all in use and skips the cut. `ip -d link` shows the same
// numtxqueues as Docker's; /sys/class/net/vethX/queues lists tx-0 to tx-N-1
// where Docker's lists tx-0. Traffic is the same: a veth is lockless and
// has no queue of its own (noqueue).
//
// Equivalent to: ip link add vethX numtxqueues N type veth peer … numtxqueues N
func DefaultTxQueues() int { return txQueues() }

var txQueues = sync.OnceValue(func() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		return 0
	}
	n, err := countCPUList(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return min(n, 4096)
})

// countCPUList counts the CPUs of a kernel CPU list ("0-3,8,10-11").
func countCPUList(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("parsing CPU list: empty")
	}
	n := 0
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, fmt.Errorf("parsing CPU list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return 0, fmt.Errorf("parsing CPU list %q: %w", s, err)
			}
		}
		if a < 0 || b < a {
			return 0, fmt.Errorf("parsing CPU list %q: bad range %q", s, part)
		}
		n += b - a + 1
	}
	return n, nil
}
