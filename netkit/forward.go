package netkit

import "github.com/labrun/labrun/netkit/release"

// forwardAtStart: up to 27 the bridge driver turns IPv4 forwarding on when
// it is configured; from 28, when it sets up a bridge network (moby/moby
// libnetwork/drivers/bridge/bridge_linux.go createNetwork,
// setupIPv4Forwarding, v28.5.2), so -b none leaves it off until a network
// is created. The nftables back end never turns it on (docs/docker.md §1.4).
func (e *Engine) forwardAtStart() bool {
	return e.opts.Era < release.Era28 || e.opts.Bridge != "none" || e.opts.FirewallBackend == "nftables"
}

// forwardNow turns IPv4 forwarding on for the first bridge network when
// start left it off, with the FORWARD policy DROP if it was off.
//
// Equivalent to: sysctl -w net.ipv4.ip_forward=1; iptables -P FORWARD DROP
func (e *Engine) forwardNow() error {
	e.mu.Lock()
	pending := e.forwardPending
	e.forwardPending = false
	e.mu.Unlock()
	if v, err := e.host.NS().ReadSysctl("net/ipv4/ip_forward"); !pending || err != nil || v == "1" {
		return err
	}
	if err := e.host.NS().WriteSysctl("net/ipv4/ip_forward", "1"); err != nil {
		return err
	}
	return e.fw.ForwardDrop()
}

// forwardWarning is docker run's warning when the host did not forward
// IPv4 as the daemon first read it (once: moby/moby daemon/daemon.go
// RawSysInfo, daemon_unix.go verifyPlatformContainerSettings, v28.5.2),
// for a container not on --network host or none; else "".
func (e *Engine) forwardWarning(k ModeKind) string {
	if k == ModeHost || k == ModeNone || !e.forwardOff() {
		return ""
	}
	return "IPv4 forwarding is disabled. Networking will not work."
}

// readForwardOff reads whether the host does not forward IPv4.
//
// Equivalent to: cat /proc/sys/net/ipv4/ip_forward
func (e *Engine) readForwardOff() bool {
	v, err := e.host.NS().ReadSysctl("net/ipv4/ip_forward")
	return err == nil && v == "0"
}

// bridgeNone reports whether network name is the default bridge of an
// engine started with -b none, which the daemon still accepts: a container
// on it gets no endpoint (moby/moby daemon/container_operations.go
// connectToNetwork, v28.5.2).
func (e *Engine) bridgeNone(name string) bool { return name == "bridge" && e.opts.Bridge == "none" }
