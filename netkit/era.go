package netkit

import (
	"errors"
	"strconv"

	"github.com/labrun/labrun/netkit/shapes"
)

// This file is the engine's table of differences between Docker releases,
// apart from the firewall rules (netkit/firewall has those): MAC addresses,
// the JSON shapes of the engine API, and error texts. Like the rules, an era
// is a row of a table, not a fork of the code: everything else in netkit is
// common to all releases and asks the engine's release.Release
// (DaemonOptions.Release) where they differ.

// API versions whose behaviour differs (the shapes' are package shapes').
const (
	apiShortIDAlias = shapes.ShortIDAlias
	apiGwPriority   = shapes.GwPriority
	// apiSortAndNorm: from API 1.46 (Docker 27.0) the bridge driver
	// orders a container's bindings itself (sortAndNormPBs); before, the
	// daemon's nat.SortPortMap did (docs/docker.md §2.2).
	apiSortAndNorm = 46
	apiV29         = shapes.V29
)

// APIVersion returns the engine API version the engine answers with
// ("1.47").
func (e *Engine) APIVersion() string { return "1." + strconv.Itoa(e.opts.API()) }

// MinAPIVersion returns the oldest API version the engine accepts from a
// client ("1.24"; release.Release.MinAPI).
func (e *Engine) MinAPIVersion() string { return "1." + strconv.Itoa(e.opts.MinAPI()) }

// CheckAPIVersion returns the engine's error for a client that asks for
// API version v ("1.41"; see release.Release.CheckClientAPI): ErrNotFound
// "page not found", or ErrInvalid.
func (e *Engine) CheckAPIVersion(v string) error {
	notFound, err := e.opts.CheckClientAPI(v)
	switch {
	case notFound:
		return derr(ErrNotFound, "%s", err)
	case err != nil:
		return derr(ErrInvalid, "%s", err)
	}
	return nil
}

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

// onInternal reports whether the container is on --internal networks
// only: none of its endpoints carries ports (nor does a macvlan one).
func (c *Container) onInternal() bool {
	for _, ep := range c.endpoints {
		if !ep.net.Internal && ep.child == nil {
			return false
		}
	}
	return len(c.endpoints) > 0
}
