package link

import (
	"net"
	"time"

	"github.com/vishvananda/netlink"
)

// operUpTimeout bounds WaitOperUp.
const operUpTimeout = 3 * time.Second

// WaitOperUp waits, polling against a deadline, until each named link in
// h's namespace that is administratively up reports operational state UP.
//
// A link that gains carrier after it was set up (the host end of a veth when
// its peer comes up, a bridge when its first port does) is not usable at
// once: the kernel's linkwatch work attaches its queueing discipline, sets
// its operstate and tells the bridge that a port is live, and until then
// the link drops what it sends. Linkwatch runs under the RTNL lock, which
// every namespace on the machine shares, so while other labs are being built
// or torn down it can run a second late: a container's first ARP request to
// docker0 then goes unanswered and its first ping times out. Docker does not
// wait (the kernel retries ARP after a second); netkit does, so that a
// container is reachable when docker run returns.
//
// It is best effort, as Docker's wiring is: a link that is down, gone, or
// not up by the deadline (a bridge with STP on, say) is left as it is.
//
// Equivalent to: until ip -br link show NAME | grep -q ' UP '; do :; done
func WaitOperUp(h *netlink.Handle, names ...string) {
	if h == nil {
		return
	}
	deadline := time.Now().Add(operUpTimeout)
	for _, name := range names {
		for {
			l, err := h.LinkByName(name)
			if err != nil || l.Attrs().Flags&net.FlagUp == 0 || l.Attrs().OperState == netlink.OperUp {
				break
			}
			if time.Now().After(deadline) {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
}
