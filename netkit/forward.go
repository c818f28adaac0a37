package netkit

import "github.com/labrun/labrun/netkit/release"

// forwardAtStart reports whether the engine turns IPv4 forwarding on when
// it starts. Up to 27 the bridge driver does it when it is configured; from
// 28 it does it when it sets up a bridge network (createNetwork's
// setupIPv4Forwarding step, moby/moby libnetwork/drivers/bridge/
// bridge_linux.go, v28.5.2), so a dockerd with -b none leaves forwarding
// off until a network is created. The nftables back end never turns it on
// (docs/docker.md §1.4).
func (e *Engine) forwardAtStart() bool {
	return e.opts.Era < release.Era28 || e.opts.Bridge != "none" || e.opts.FirewallBackend == "nftables"
}

// bridgeNone reports whether network name is the default bridge of an
// engine started with -b none: the daemon still accepts it, and a
// container on it gets no endpoint (moby/moby daemon/container_operations.go
// connectToNetwork sets NetworkDisabled, v28.5.2).
func (e *Engine) bridgeNone(name string) bool { return name == "bridge" && e.opts.Bridge == "none" }

// forwardNow turns IPv4 forwarding on for the engine's first bridge
// network when start left it off (see forwardAtStart), and then, if it
// was off, sets the FORWARD policy to DROP, as the bridge driver's
// setupIPv4Forwarding does.
//
// Equivalent to: sysctl -w net.ipv4.ip_forward=1; iptables -P FORWARD DROP
func (e *Engine) forwardNow() error {
	e.mu.Lock()
	pending := e.forwardPending
	e.forwardPending = false
	e.mu.Unlock()
	if !pending {
		return nil
	}
	v, err := e.host.ns.ReadSysctl("net/ipv4/ip_forward")
	if err != nil || v == "1" {
		return err
	}
	if err := e.host.ns.WriteSysctl("net/ipv4/ip_forward", "1"); err != nil {
		return err
	}
	e.mu.Lock()
	e.flipped = true
	e.mu.Unlock()
	return e.fw.forwardDrop()
}

// readForwardOff reads whether the host does not forward IPv4, which the
// daemon reads once, with its other system information, and warns about
// at every docker run that needs forwarding (moby/moby daemon/daemon.go
// RawSysInfo and daemon_unix.go verifyPlatformContainerSettings, v28.5.2).
//
// Equivalent to: cat /proc/sys/net/ipv4/ip_forward
func (e *Engine) readForwardOff() bool {
	v, err := e.host.ns.ReadSysctl("net/ipv4/ip_forward")
	return err == nil && v == "0"
}

// forwardWarning is docker run's warning for a container whose network
// needs forwarding (not --network host or none) on a host that does not
// forward, or "".
func (e *Engine) forwardWarning(k ModeKind) string {
	if k == ModeHost || k == ModeNone || !e.forwardOff() {
		return ""
	}
	return "IPv4 forwarding is disabled. Networking will not work."
}
