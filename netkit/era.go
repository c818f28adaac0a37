package netkit

import (
	"crypto/rand"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/labrun/labrun/netkit/firewall"
)

// This file is the engine's table of differences between Docker releases,
// apart from the firewall rules (netkit/firewall has those): MAC addresses,
// the JSON shapes of the engine API, and error texts. Like the rules, an era
// is a row of a table, not a fork of the code: everything else in netkit is
// common to all releases and asks the table where they differ.
//
// A release is named by its firewall era (DaemonOptions.Era) and, within
// it, by the engine API version (DaemonOptions.APIVersion), which Docker
// bumps with every release: 1.41 is Docker 20.10, 1.43 is 24.0, 1.47 is
// 27.5, 1.48 is 28.0, 1.51 is 28.3–28.5, 1.52 is 29.0 (facts §0).

// release is one row of the table.
type release struct {
	// api is the engine API's minor version (41 for 1.41): it selects the
	// JSON shapes of docker inspect and docker network inspect.
	api int
	// randomMAC: containers and bridges get random locally administered
	// unicast MACs (28.0+); before, a container's MAC is 02:42 and its
	// IPv4 address, and a bridge's 02:42 and four random bytes (facts §3.5).
	randomMAC bool
	// setupPrefix: errors of setting up a container's networking at start
	// are prefixed "failed to set up container networking: " (28.0.1+,
	// facts §2.3).
	setupPrefix bool
	// nsTexts: --net=container: errors name a "network namespace" (29)
	// rather than a "network" (facts §4.1).
	nsTexts bool
	// bridgeGatewayHidden: when the engine created the default bridge
	// itself, network inspect's IPAM.Config of "bridge" shows no Gateway
	// (Docker 20.10, observed on the real engine: ElectInterfaceAddresses
	// returns the pool's network address, whose host part is not a global
	// unicast address, so no gateway is recorded).
	bridgeGatewayHidden bool
	// keepSandbox: a container keeps its SandboxID and SandboxKey in
	// inspect after it stopped, or after a start that failed once its
	// namespace existed (Docker 20.10, observed on the real engine).
	keepSandbox bool
	// internalGateway: an endpoint on an --internal network shows the
	// network's gateway in inspect (Docker 20.10, observed).
	internalGateway bool
}

// API versions whose JSON shapes differ (facts §5).
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

// eraAPI is the API version an era's engine speaks when DaemonOptions gives
// none: the newest of the era.
var eraAPI = map[firewall.Era]int{
	firewall.Era27: 47,
	firewall.Era28: 51,
	firewall.Era29: 52,
}

// ParseAPIVersion parses an engine API version ("1.41") into its minor
// number, and reports whether it is one labrun knows the shapes of
// (1.41–1.52).
func ParseAPIVersion(s string) (int, bool) {
	major, minor, ok := strings.Cut(s, ".")
	if !ok || major != "1" {
		return 0, false
	}
	n, err := strconv.Atoi(minor)
	if err != nil || n < 41 || n > apiV29 {
		return 0, false
	}
	return n, true
}

// releaseOf returns the table row for daemon options o.
func releaseOf(o DaemonOptions) release {
	api, ok := ParseAPIVersion(o.APIVersion)
	if !ok {
		api, ok = eraAPI[o.Era]
		if !ok {
			api = eraAPI[firewall.Era27]
		}
	}
	return release{
		api:                 api,
		randomMAC:           o.Era >= firewall.Era28,
		setupPrefix:         o.Era >= firewall.Era28,
		nsTexts:             o.Era >= firewall.Era29,
		bridgeGatewayHidden: api <= 41,
		keepSandbox:         api <= 41,
		internalGateway:     api <= 41,
	}
}

// release returns the engine's row of the release table.
func (e *Engine) release() release { return releaseOf(e.opts) }

// APIVersion returns the engine API version the engine answers with
// ("1.47").
func (e *Engine) APIVersion() string { return "1." + strconv.Itoa(e.release().api) }

// containerMAC is the MAC address of a container's interface with address
// a: 02:42 and the IPv4 address before 28.0, random since.
func (r release) containerMAC(a netip.Addr) net.HardwareAddr {
	if r.randomMAC || !a.Is4() {
		return randomLAA()
	}
	b := a.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// bridgeMAC is the MAC address of a bridge the engine creates: 02:42 and
// four random bytes before 28.0, random since.
func (r release) bridgeMAC() net.HardwareAddr {
	if r.randomMAC {
		return randomLAA()
	}
	mac := randomLAA()
	mac[0], mac[1] = 0x02, 0x42
	return mac
}

// randomLAA is a random locally administered unicast MAC address (Docker
// 28's netutils.GenerateRandomMAC).
func randomLAA() net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	rand.Read(mac)
	mac[0] = mac[0]&0xfe | 0x02
	return mac
}

// setupError wraps an error of setting up a container's networking at
// start as the release words it.
func (r release) setupError(err error) error {
	if !r.setupPrefix || err == nil {
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
func (r release) ownNetNSError() error {
	if r.nsTexts {
		return derr(ErrInvalid, "cannot join own network namespace")
	}
	return derr(ErrInvalid, "cannot join own network")
}

// notRunningError is the error of joining the namespace of target, which
// is not running.
func (r release) notRunningError(target *Container) error {
	if r.nsTexts {
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
