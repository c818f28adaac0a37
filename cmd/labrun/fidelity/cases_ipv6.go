package fidelity

// IPv6 on bridge networks (docs/docker.md §1.5): dual-stack user networks
// and the default bridge with dockerd --ipv6, their addresses, published
// ports, ip6tables rules and the host's IPv6 forwarding. Each case reads
// the host (After), so only oracle engines, fresh for the case, run them.
// Docker 29 with nftables refuses a network with IPv6 on a host that does
// not forward IPv6 (its error is a case too); the _fwd cases turn IPv6
// forwarding on first (Host), as netkit/firewall/nft's goldens do.

// ipv6After are the host's IPv6 state after a case: ip6tables-save
// (comments dropped, counters zeroed), the IPv6 forwarding sysctls, and
// the global IPv6 addresses of the case's bridges.
var ipv6After = []string{
	`ip6tables-save | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/'`,
	"sysctl net.ipv6.conf.all.forwarding net.ipv6.conf.default.forwarding",
	"for b in docker0 br-fidv6; do ip -6 -o addr show dev $b scope global 2>&1 | cut -d' ' -f2-; done",
}

// v6Forwarding turns the host's IPv6 forwarding on before the engine
// starts.
var v6Forwarding = []string{"sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1"}

const (
	v6NetCreate = "network create --ipv6 --subnet fd00:db8:1::/64 -o com.docker.network.bridge.name=br-fidv6 @v6net"
	v6Run       = "run -d --name @web --network @v6net -p 8080:80 {IMAGE} {SERVE}"
)

var ipv6Cases = []Case{
	// docs/docker.md §1.5's example: the IPv6 subnet given, the IPv4 one
	// from the default pools; -p publishes on 0.0.0.0 and ::.
	{Name: "ipv6_usernet", After: ipv6After, Steps: []string{v6NetCreate, v6Run, "port @web"}},
	{Name: "ipv6_usernet_fwd", Host: v6Forwarding, After: ipv6After, Steps: []string{v6NetCreate, v6Run, "port @web"}},
	// Both subnets given, a gateway and a range for IPv6; --ip6.
	{Name: "ipv6_subnets_fwd", Host: v6Forwarding, After: ipv6After, Steps: []string{
		"network create --ipv6 --subnet 10.99.1.0/24 --subnet fd00:db8:2::/64 --gateway fd00:db8:2::fe --ip-range fd00:db8:2::100/120 -o com.docker.network.bridge.name=br-fidv6 @v6net",
		v6Run, "run -d --name @fixed --network @v6net --ip6 fd00:db8:2::99 {IMAGE} {SERVE}"}},
	// --ip6 refused: outside the subnet, on the default bridge, taken.
	{Name: "ipv6_ip6_errors_fwd", Host: v6Forwarding, After: ipv6After, Steps: []string{v6NetCreate,
		"run -d --name @a --network @v6net --ip6 fd00:db8:1::5 {IMAGE} {SERVE}",
		"run -d --name @b --network @v6net --ip6 fd00:db8:2::1 {IMAGE} {SERVE}",
		"run -d --name @c --ip6 fd00:db8:1::5 {IMAGE} {SERVE}",
		"run -d --name @d --network @v6net --ip6 fd00:db8:1::5 {IMAGE} {SERVE}"}},
	// No IPv6 subnet: a /64 of the engine's ULA /48 each.
	{Name: "ipv6_ula_fwd", Host: v6Forwarding, After: ipv6After, Steps: []string{
		"network create --ipv6 -o com.docker.network.bridge.name=br-fidv6 @v6net", "network create --ipv6 @other", v6Run}},
	// docker network connect --ip6, and disconnect.
	{Name: "ipv6_connect_fwd", Host: v6Forwarding, After: ipv6After, Steps: []string{v6NetCreate,
		"run -d --name @web {IMAGE} {SERVE}", "network connect --ip6 fd00:db8:1::42 @v6net @web",
		"run -d --name @c2 {IMAGE} {SERVE}", "network connect @v6net @c2", "network disconnect @v6net @c2"}},
	// A container with published ports on the default bridge connected to
	// a dual-stack network: from 28 that network becomes its gateway
	// (the first dual-stack endpoint, moby/moby v28.5.2 libnetwork/
	// default_gateway.go selectGatewayEndpoint) and its ports move there.
	{Name: "ipv6_connect_publish_fwd", Host: v6Forwarding, After: ipv6After, Steps: []string{v6NetCreate,
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "network connect @v6net @web", "port @web",
		"exec @web busybox ip route", "exec @web busybox ip -6 route"}},
	// --internal with IPv6: no NAT, no published port.
	{Name: "ipv6_internal_fwd", Host: v6Forwarding, After: ipv6After, Steps: []string{
		"network create --internal --ipv6 --subnet fd00:db8:1::/64 -o com.docker.network.bridge.name=br-fidv6 @v6net", v6Run}},
	// The userland proxy off: :: is NATed to the IPv6 address.
	{Name: "ipv6_noproxy_fwd", Host: v6Forwarding, After: ipv6After, Daemon: []string{"--userland-proxy=false"},
		Steps: []string{v6NetCreate, v6Run, "port @web"}},
	// --ip6tables=false: no ip6tables rule at all.
	{Name: "ipv6_ip6tables_off_fwd", Host: v6Forwarding, After: ipv6After, Daemon: []string{"--ip6tables=false"},
		Steps: []string{v6NetCreate, v6Run}},
	// An IPv4-only engine still writes ip6tables' chains (27+).
	{Name: "ipv6_none", After: ipv6After, Steps: []string{"run -d --name @web -p 8080:80 {IMAGE} {SERVE}",
		"network create --subnet 10.99.1.0/24 @v4net"}},
	// The default bridge with IPv6: --fixed-cidr-v6, or (28+) the ULA pool.
	{Name: "ipv6_daemon_fixedcidr_fwd", Host: v6Forwarding, After: ipv6After, Daemon: []string{"--ipv6", "--fixed-cidr-v6=2001:db8:1::/64"},
		Steps: []string{"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "run -d --name @two {IMAGE} {SERVE}", "port @web"}},
	{Name: "ipv6_daemon_ula_fwd", Host: v6Forwarding, After: ipv6After, Daemon: []string{"--ipv6"},
		Steps: []string{"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
}
