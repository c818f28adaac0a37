package netkit

import (
	"errors"
	"strconv"
)

// This file is the engine's table of differences between Docker releases,
// apart from the firewall rules (netkit/firewall has those): MAC addresses,
// the JSON shapes of the engine API, and error texts. Like the rules, an era
// is a row of a table, not a fork of the code: everything else in netkit is
// common to all releases and asks the engine's release.Release
// (DaemonOptions.Release) where they differ.

// API versions whose JSON shapes differ.
const (
	// apiShortIDAlias: up to API 1.43, a container on a user-defined
	// network has its short ID in Aliases, and endpoints have no DNSNames.
	apiShortIDAlias = 43
	// apiGwPriority: from API 1.48 (Docker 28.0), endpoints have GwPriority
	// and networks EnableIPv4.
	apiGwPriority = 48
	// apiV29: from API 1.52 (Docker 29.0), NetworkSettings has only
	// SandboxID, SandboxKey, Ports and Networks, and networks have Status.
	apiV29 = 52
)

// APIVersion returns the engine API version the engine answers with
// ("1.47").
func (e *Engine) APIVersion() string { return "1." + strconv.Itoa(e.opts.API()) }

// setupError wraps an error of setting up a container's networking at
// start as the release words it.
func (e *Engine) setupError(err error) error {
	if !e.opts.SetupErrorPrefix() || err == nil {
		return err
	}
	return &engineError{msg: "failed to set up container networking: " + err.Error(), kind: errKind(err)}
}

// errKind returns the sentinel err matches, for rewording it.
func errKind(err error) error {
	for _, s := range []error{ErrInvalid, ErrNotFound, ErrConflict, ErrNotRunning} {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// ownNetNSError is --net=container:SELF's error.
func (e *Engine) ownNetNSError() error {
	if e.opts.NamespaceTexts() {
		return derr(ErrInvalid, "cannot join own network namespace")
	}
	return derr(ErrInvalid, "cannot join own network")
}

// notRunningError is the error of joining the namespace of target, which
// is not running.
func (e *Engine) notRunningError(target *Container) error {
	if e.opts.NamespaceTexts() {
		return derr(ErrNotRunning, "cannot join network namespace of a non running container: container %s is %s", target.Name, target.State())
	}
	return derr(ErrNotRunning, "cannot join network of a non running container: %s", target.ID)
}

// mtu is the default bridge's MTU: --mtu, or 1500.
func (e *Engine) mtu() int {
	if e.opts.MTU > 0 {
		return e.opts.MTU
	}
	return 1500
}

// linkMTU is the MTU of network n's bridge and veths when the engine
// creates them: --mtu on the default bridge, else the kernel's default (0).
func (e *Engine) linkMTU(n *Network) int {
	if n.Default && e.opts.MTU > 0 {
		return e.opts.MTU
	}
	return 0
}

// onInternal reports whether the container's first network is --internal.
func (c *Container) onInternal() bool {
	return len(c.endpoints) > 0 && c.endpoints[0].net.Internal
}
