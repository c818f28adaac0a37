// Package release names the Docker Engine release that labrun reproduces,
// in one value that every layer shares: the firewall rule builders, the
// engine, and the docker command line all ask a [Release].
//
// A release has two parts. Its [Era] (27, 28 or 29) is the family whose
// firewall rules, MAC addresses and error texts labrun follows; its engine
// API version ("1.41" … "1.52"), which Docker bumps with every release,
// selects the JSON shapes of docker inspect within the era.
//
// It is not the place of what differs between releases: the rules of each
// era are a table in netkit/firewall, the texts and shapes are in netkit.
// This package only names the release, parses it from a version ("27",
// "20.10", "28.2.2") and answers the yes/no questions the other packages
// ask it. It imports nothing of labrun, so that every package can import
// it.
package release

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Era is a family of Docker releases whose firewall rules are the same.
// The zero value is Era27.
type Era int

const (
	// Era27 is Docker 20.10 to 27.x (the classic FORWARD layout).
	Era27 Era = iota
	// Era28 is Docker 28.x (DOCKER-FORWARD, per-endpoint raw rules; the
	// rules are those of 28.3 to 28.5).
	Era28
	// Era29 is Docker 29.x (no isolation chains, DOCKER-INTERNAL, and the
	// nftables back end).
	Era29
)

// String names the era as Docker releases do ("27", "28", "29").
func (e Era) String() string {
	switch e {
	case Era27:
		return "27"
	case Era28:
		return "28"
	case Era29:
		return "29"
	}
	return "Era(" + strconv.Itoa(int(e)) + ")"
}

// Release is one Docker Engine release as labrun reproduces it. The zero
// value is the default engine: era 27 with that era's newest API version
// (Docker 27.5, API 1.47).
type Release struct {
	// Era selects the release family whose rules, MACs and texts are
	// reproduced.
	Era Era
	// APIVersion narrows Era to one release by its engine API version
	// ("1.41" is Docker 20.10, "1.47" 27.5, "1.51" 28.3–28.5, "1.52"
	// 29.0). "" (or a version labrun does not know) is the era's newest:
	// 27: 1.47, 28: 1.51, 29: 1.52.
	APIVersion string
}

// apiOf is the engine API version of each Docker release (moby's
// api/common.go DefaultVersion in each release branch).
var apiOf = map[string]string{
	"20.10": "1.41", "23.0": "1.42", "24.0": "1.43", "25.0": "1.44", "26.0": "1.45", "26.1": "1.45",
	"27.0": "1.46", "27.1": "1.46", "27.2": "1.47", "27.3": "1.47", "27.4": "1.47", "27.5": "1.47",
	"28.0": "1.48", "28.1": "1.49", "28.2": "1.50", "28.3": "1.51", "28.4": "1.51", "28.5": "1.51",
	"29.0": "1.52", "29.8": "1.56", // 29.8.1 answers 1.56 (seen on the real engine)
}

// eraAPI is the API version (minor number) of an era's newest release.
var eraAPI = map[Era]int{Era27: 47, Era28: 51, Era29: 52}

// Newest API minor version labrun knows (Docker 29.8; its JSON shapes are
// 29.0's, seen on 29.8.1).
const maxAPI = 56

// Parse reads a release as dockerd --compat names it: a major release
// ("27", "20.10") or a full version ("28.2.2", "20.10.24+dfsg1"). A major
// release alone from 27 on is the era's newest API version ("" in
// APIVersion); 29.x is 29.0's API (29.x speaks up to 1.55, labrun's shapes
// are 1.52's). ok is false for a release labrun does not know (before
// 20.10, 21, 22, 30 and later).
func Parse(v string) (r Release, ok bool) {
	v, _, _ = strings.Cut(v, "+")
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	major, err := strconv.Atoi(parts[0])
	if err != nil {
		return Release{}, false
	}
	switch {
	case major == 20 || (major >= 23 && major <= 27):
		r.Era = Era27
	case major == 28:
		r.Era = Era28
	case major == 29:
		r.Era = Era29
	default:
		return Release{}, false
	}
	if major == 20 && (len(parts) < 2 || parts[1] != "10") {
		return Release{}, false
	}
	if len(parts) >= 2 {
		r.APIVersion = apiOf[parts[0]+"."+parts[1]]
		if r.APIVersion == "" && major == 29 {
			r.APIVersion = apiOf["29.0"]
		}
	}
	if len(parts) == 1 && major < 27 {
		r.APIVersion = apiOf[parts[0]+".0"]
	}
	if major == 20 {
		r.APIVersion = apiOf["20.10"]
	}
	return r, true
}

// ParseCLI maps a docker CLI version ("28.2.2", "29") to the era whose
// output formats it prints: 28 and 29 by their major number, 27 for every
// CLI before 28, 29 for every one after. ok is false for a version that
// does not start with a number.
func ParseCLI(version string) (Era, bool) {
	major, _, _ := strings.Cut(version, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0, false
	}
	switch {
	case n >= 29:
		return Era29, true
	case n == 28:
		return Era28, true
	}
	return Era27, true
}

// ParseAPIVersion parses an engine API version ("1.41") into its minor
// number, and reports whether it is one labrun knows the shapes of
// (1.41–1.56).
func ParseAPIVersion(s string) (int, bool) {
	major, minor, ok := strings.Cut(s, ".")
	if !ok || major != "1" {
		return 0, false
	}
	n, err := strconv.Atoi(minor)
	if err != nil || n < 41 || n > maxAPI {
		return 0, false
	}
	return n, true
}

// CompareVersions compares dotted versions ("1.41") number by number, a
// missing or unreadable number being 0, as the engine compares API
// versions (moby/moby v28.5.2 api/types/versions/compare.go): -1, 0 or 1.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

// API is the engine API's minor version the release speaks (47 for
// 1.47): APIVersion when labrun knows it, else the era's newest.
func (r Release) API() int {
	if n, ok := ParseAPIVersion(r.APIVersion); ok {
		return n
	}
	if n, ok := eraAPI[r.Era]; ok {
		return n
	}
	return eraAPI[Era27]
}

// MinAPI is the oldest engine API's minor version the release accepts
// from a client (24 for 1.24): 1.12 up to Docker 24 (moby/moby 24.0
// api/common.go MinVersion), 1.24 from 25 to 28 (moby/moby v28.5.2
// daemon/config/config.go MinAPIVersion; observed on 28.5.2), 1.40 for 29
// (moby/moby 29 daemon/config/config.go defaultMinAPIVersion; observed on
// 29.8.1).
func (r Release) MinAPI() int {
	switch api := r.API(); {
	case api >= 52:
		return 40
	case api >= 44:
		return 24
	}
	return 12
}

// RandomMAC reports whether containers and bridges get random locally
// administered unicast MACs (28.0+); before, a container's MAC is 02:42
// and its IPv4 address, and a bridge's 02:42 and four random bytes.
func (r Release) RandomMAC() bool { return r.Era >= Era28 }

// SetupErrorPrefix reports whether errors of setting up a container's
// networking at start are prefixed "failed to set up container
// networking: " (28.0.1+).
func (r Release) SetupErrorPrefix() bool { return r.Era >= Era28 }

// ProxylessIPv6Skipped reports whether, with the userland proxy off, a
// port binding on an IPv6 host address ([::] of -p 8080:80, or an
// explicit -p [::]:8080:80) to a container without IPv6 is left out
// without an error, NAT having no way from host IPv6 to container IPv4
// (moby/moby v28.5.2 libnetwork/drivers/bridge/port_mapping_linux.go,
// addPortMappings; seen on 28.5.2 and 29.8.1). Not measured before 28.
func (r Release) ProxylessIPv6Skipped() bool { return r.Era >= Era28 }

// NamespaceTexts reports whether --net=container: errors name a "network
// namespace" (29) rather than a "network".
func (r Release) NamespaceTexts() bool { return r.Era >= Era29 }

// NFTables reports whether dockerd has --firewall-backend=nftables (29+).
func (r Release) NFTables() bool { return r.Era >= Era29 }

// BridgeGatewayHidden reports whether, when the engine created the default
// bridge itself, network inspect's IPAM.Config of "bridge" shows no
// Gateway (Docker 20.10, observed on the real engine: ElectInterfaceAddresses
// returns the pool's network address, whose host part is not a global
// unicast address, so no gateway is recorded).
func (r Release) BridgeGatewayHidden() bool { return r.API() <= 41 }

// KeepSandbox reports whether a container keeps its SandboxID and
// SandboxKey in inspect after it stopped, or after a start that failed
// once its sandbox existed (Docker 20.10, observed on the real engine). A
// bridge network's sandbox is made once the endpoint is (its address
// granted): a start that failed before (a missing network, a refused
// --ip) leaves none (moby/moby v20.10.24 daemon/container_operations.go
// connectToNetwork: findAndAttachNetwork, CreateEndpoint, then
// NewSandbox; observed on 20.10.24).
func (r Release) KeepSandbox() bool { return r.API() <= 41 }

// InternalGateway reports whether an endpoint on an --internal network
// shows the network's gateway in inspect (Docker 20.10, observed).
func (r Release) InternalGateway() bool { return r.API() <= 41 }

// SubnetGateway reports whether network inspect's IPAM.Config of a
// network created with --subnet and without --gateway shows the gateway
// IPAM allocated (29: moby/moby 29 daemon/network.go buildIPAMResources
// fills it in from IpamInfo; observed on 29.8.1). Before, it is the
// request, without one.
func (r Release) SubnetGateway() bool { return r.Era >= Era29 }

// InternalExposed reports whether a container's exposed ports show in
// inspect's NetworkSettings.Ports (and docker ps) on an --internal network
// (29: moby/moby 29 daemon/libnetwork/drivers/bridge/bridge_linux.go Join
// keeps every endpoint's exposed ports, which 28 did only when it
// programmed external connectivity; observed on 29.8.1).
func (r Release) InternalExposed() bool { return r.Era >= Era29 }

// FailedStartNetworks reports whether a container whose start failed once
// its sandbox existed (a port already taken; see KeepSandbox) shows no
// network in inspect's NetworkSettings.Networks, until it starts (29,
// observed on 29.8.1); before, it shows its network's entry, as a created
// one does. A start that failed before (a missing network, a refused --ip)
// leaves the entry in 29 too (observed on 29.8.1).
func (r Release) FailedStartNetworks() bool { return r.Era >= Era29 }

// ActiveEndpointNames reports whether removing a network that has
// endpoints names them, `network x has active endpoints (name:"web"
// id:"0123456789ab")`, rather than the network's ID (28.1+, API 1.49;
// moby/moby libnetwork/error.go ActiveEndpointsError, v28.1.0).
func (r Release) ActiveEndpointNames() bool { return r.API() >= 49 }

// EndpointSettingsErrors reports whether docker run's endpoint settings
// (--ip) are checked together when the container is created, their errors
// joined under "invalid config for network N: invalid endpoint settings:"
// (25.0+, API 1.44; moby/moby daemon/create.go validateNetworkingConfig,
// v25.0.0). Before, the container is created and its start checks them,
// one reason at a time (moby/moby v24.0.0 daemon/container_operations.go
// connectToNetwork, updateNetworkConfig, validateNetworkingConfig; create
// only parses the address, daemon/create.go verifyNetworkingConfig;
// observed on 20.10.24).
func (r Release) EndpointSettingsErrors() bool { return r.API() >= 44 }

// PoolRequestPrefix reports whether the refusal of a --subnet that
// overlaps another network's reads "invalid pool request: Pool overlaps
// with other one on this address space" (27.0+, API 1.46; moby/moby
// v27.0.1 libnetwork/ipams/defaultipam/allocator.go RequestPool); before,
// ipamapi.ErrPoolOverlap's text alone (moby/moby v26.1.4
// libnetwork/ipam/allocator.go RequestPool; observed on 20.10.24).
func (r Release) PoolRequestPrefix() bool { return r.API() >= 46 }

// RemoveErrorNamed reports whether docker rm's refusal to remove a running
// container reads `cannot remove container "/web": container is running:
// stop the container before removing or force remove` (25.0+, API 1.44;
// moby/moby v25.0.0 daemon/delete.go cleanupContainer); before, `You
// cannot remove a running container <ID>. Stop the container before
// attempting removal or force remove`, with the full ID (moby/moby v24.0.0
// daemon/delete.go cleanupContainer; observed on 20.10.24).
func (r Release) RemoveErrorNamed() bool { return r.API() >= 44 }

// RemoveErrorNamesRef reports whether docker rm's refusal to remove a
// running container names it as the command did ("web", or an ID) rather
// than by its "/web" name (28.2+, API 1.50; moby/moby daemon/delete.go
// containerRm, v28.2.0).
func (r Release) RemoveErrorNamesRef() bool { return r.API() >= 50 }

// EndpointIPTexts29 reports whether docker run's --ip is checked as Docker
// 29.8 checks it: on a predefined network (the default bridge) only
// "user-specified IP address is supported on user-defined networks only",
// no check that a user network's subnet was configured, and "no configured
// subnet contains IP address X" for an address outside it (moby/moby
// v2.0.0-beta.24, the commit of docker-v29.8.1, daemon/container_operations.go
// validateEndpointSettings and validateEndpointIPAddress; seen on 29.8.1).
// 29.0 checks as 28 does; labrun knows no release between 29.0 (API 1.52)
// and 29.8 (1.56).
func (r Release) EndpointIPTexts29() bool { return r.API() >= 53 }

// LinksDeprecated reports whether docker run (create) with --link on the
// default bridge warns "Links on the default bridge network are
// deprecated and will be removed in a future release. Use a custom
// network instead." (29.0+; moby/moby docker-v29.0.0 daemon/create.go;
// seen on 29.8.1, not on 28.5.2).
func (r Release) LinksDeprecated() bool { return r.Era >= Era29 }

// AliasTexts29 reports whether the refusal of network-scoped aliases on a
// predefined network reads "network-scoped aliases are only supported for
// user-defined networks" (29.0+, API 1.52; moby/moby docker-v29.0.0
// daemon/container_operations.go validateEndpointSettings) rather than
// "network-scoped alias is supported only for containers in user defined
// networks" (seen on 28.5.2).
func (r Release) AliasTexts29() bool { return r.API() >= 52 }

// EndpointMAC is the engine API version (minor number; Docker 25.0) from
// which docker run's --mac-address is an endpoint setting: the docker CLI
// of 25 and later sends it for the container's network only, and refuses
// an older API (`"specify mac-address per network" requires API version
// 1.44, but the Docker daemon API version is 1.41`); a host or none
// network's entry shows it while the container runs. Before, the CLI sent
// Config.MacAddress, which engines before 25 refuse in host and container
// modes, and 25 and later anywhere but on a bridge network ("conflicting
// options: mac-address and the network mode"). (docker/cli v28.2.2
// vendor/github.com/docker/docker/client/container_create.go; moby/moby
// v20.10.24 runconfig/hostconfig.go validateNetContainerMode, v28.5.2
// api/server/router/container/container_routes.go handleMACAddressBC.)
const EndpointMAC = 44

// EndpointMacAddress reports whether a host or none network's entry shows
// the container's --mac-address while it runs (API 1.44+, EndpointMAC;
// seen on 28.5.2 and 29.8.1).
func (r Release) EndpointMacAddress() bool { return r.API() >= EndpointMAC }

// ConfigMacAddress reports whether docker inspect shows a container's
// --mac-address as Config.MacAddress to a client of API version client
// (minor number). Before 25 (API 1.44) the engine keeps the
// Config.MacAddress the CLI sent; 25 to 28 copy into it the MAC requested
// for a container whose network is a bridge network (bridge) (moby/moby
// v28.5.2 daemon/inspect.go getInspectData); 29 only for a client before
// API 1.52, and only while the container has an entry for that network
// (entry) (moby/moby 29 daemon/server/router/container/inspect.go). Seen
// on 28.5.2 and 29.8.1.
func (r Release) ConfigMacAddress(client int, bridge, entry bool) bool {
	switch api := r.API(); {
	case api < EndpointMAC:
		return true
	case api < 52:
		return bridge
	}
	return bridge && entry && client < 52
}

// CheckClientAPI returns the engine's refusal of a client that asks for
// API version v ("1.41"): "page not found" (notFound) for what the router
// takes for no version (/v{version:[0-9.]+}, moby/moby v28.5.2
// api/server/server.go), and one for a version outside MinAPI to API
// (api/server/middleware/version.go); observed on 28.5.2 and 29.8.1.
func (r Release) CheckClientAPI(v string) (notFound bool, err error) {
	if v == "" || strings.Trim(v, "0123456789.") != "" {
		return true, errors.New("page not found")
	}
	lo, hi := "1."+strconv.Itoa(r.MinAPI()), "1."+strconv.Itoa(r.API())
	if CompareVersions(v, lo) < 0 {
		return false, fmt.Errorf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, lo)
	}
	if CompareVersions(v, hi) > 0 {
		return false, fmt.Errorf("client version %s is too new. Maximum supported API version is %s", v, hi)
	}
	return false, nil
}

// ClientAPI is the minor number of the API version a client asked for (50
// for "1.50"), at most the release's own, which is also the answer for ""
// or a version that is not 1.x.
func (r Release) ClientAPI(v string) int {
	major, minor, ok := strings.Cut(v, ".")
	if n, err := strconv.Atoi(minor); ok && major == "1" && err == nil && n >= 0 {
		return min(n, r.API())
	}
	return r.API()
}
