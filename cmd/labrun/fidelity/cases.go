package fidelity

import "strings"

// Case is one differential case: docker command lines run in order against
// both engines, after which their state is compared. In a command line,
// "@NAME" is a container or network of the case (prefixed with the run's
// unique prefix on both engines), {IMAGE} the case image and {SERVE} the
// command that keeps its container running (busybox's on the real engine,
// "sleep 3600" in labrun, whose httpd image EXPOSEs 80/tcp as the case
// image does), {BUSYBOX} a busybox image (CMD sh, nothing EXPOSEd: labrun's
// busybox), and {R} the first port of a host port range that is fresh
// for the run (the real engine remembers the last port it gave from each
// range for as long as it runs).
type Case struct {
	// Name is short, category first, as scenario files are named.
	Name string
	// Steps are docker command lines (without "docker"); each one's
	// stdout, stderr and exit status are compared.
	Steps []string
	// Known maps an engine major version ("20", "28") to why this case is
	// expected to differ from that engine: the report still prints the
	// diff, and the test does not fail on it.
	Known map[string]string
	// Daemon are more dockerd flags for this case ("--icc=false"), and
	// Host shell lines run on the host before the engine starts: only an
	// oracle engine, started for the case, runs such a case.
	Daemon []string
	Host   []string
	// After are shell lines run on the host after the steps, each of
	// whose output is compared (`ip -4 -o addr show dev docker0`): only an
	// oracle engine's host is the case's to read.
	After []string
	// Compose is a compose file, which the steps name {COMPOSE}: each side
	// gets it with its own images for {IMAGE} and {BUSYBOX}, at the same
	// path (in a directory named after the run's prefix). Only an oracle
	// engine with the Docker Compose plugin of make oracle runs such a
	// case.
	Compose string
	// Containers and Networks are what the steps make besides `--name @X`
	// and `network create @X` (Compose's objects), named without the
	// prefix: they are compared as those are.
	Containers, Networks []string
}

// usesBusybox reports whether a step or the compose file names {BUSYBOX}.
func (c Case) usesBusybox() bool {
	for _, s := range append([]string{c.Compose}, c.Steps...) {
		if strings.Contains(s, "{BUSYBOX}") {
			return true
		}
	}
	return false
}

// randomOrder is why publish_article differs from Docker 20.10 (and any
// engine before 27) in some runs: the daemon collects a container's ports
// from a Go map and orders them with go-connections' nat.SortPortMap, whose
// comparator is not a strict order for -p 10111:22 -p 801:80, so the order
// of the per-port rules follows the map's iteration, at random
// (docs/docker.md §2.2; TestDocker2010Nondeterminism shows it with
// Docker's own sort). Where the comparator is strict the order is fixed,
// and labrun reproduces it (ports.SortPortMap).
var randomOrder = map[string]string{"20": "Docker before 27 orders these two ports at random (a Go map and nat.SortPortMap's non-strict comparator: TestDocker2010Nondeterminism)"}

// Cases are the differential cases. Every case starts from a fresh labrun
// lab and, on the real engine, from no container or network of the run's
// prefix. After the steps, both engines are compared on: docker port and
// docker inspect's NetworkSettings of every container the case named,
// docker ps's PORTS column, docker network inspect of the default bridge
// and of every network the case created, and iptables-save of the engine's
// chains (rules naming the case's bridges, subnets and containers).
//
// A case with daemon flags (Daemon) or host setup (Host) runs on oracle
// engines only, each on a fresh engine; the machine's engine runs the
// others. usernet_noicc and usernet_nomasq compare the network options
// that set --icc=false and --ip-masq=false on one network, which the
// machine's engine can take.
var Cases = append(append(append(append(append(append(append(baseCases, moreCases...), nftCases...), nameCases...), dnsCases...), driverCases...), ipv6Cases...), composeCases...)

// baseCases are the first cases: -p forms, network modes, user-defined
// networks, conflicts and bad specs.
var baseCases = []Case{
	// Each -p form of docs/docker.md §2.4.
	{Name: "publish_tcp", Steps: []string{"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "port @web 80"}},
	{Name: "publish_udp", Steps: []string{"run -d --name @web -p 8080:80/udp {IMAGE} {SERVE}"}},
	{Name: "publish_tcp_and_udp", Steps: []string{"run -d --name @web -p 5353:53/tcp -p 5353:53/udp {IMAGE} {SERVE}"}},
	{Name: "publish_hostip", Steps: []string{"run -d --name @web -p 127.0.0.1:8080:80 {IMAGE} {SERVE}"}},
	{Name: "publish_hostip_ephemeral", Steps: []string{"run -d --name @web -p 127.0.0.1::80 {IMAGE} {SERVE}"}},
	{Name: "publish_ephemeral", Steps: []string{"run -d --name @web -p 80 {IMAGE} {SERVE}", "port @web 80"}},
	{Name: "publish_ephemeral_colon", Steps: []string{"run -d --name @web -p :80 {IMAGE} {SERVE}"}},
	{Name: "publish_hostrange", Steps: []string{"run -d --name @web -p {R}-{R+10}:80 {IMAGE} {SERVE}"}},
	{Name: "publish_range_pairs", Steps: []string{"run -d --name @web -p 9800-9803:80-83 {IMAGE} {SERVE}"}},
	{Name: "publish_ipv6_loopback", Steps: []string{"run -d --name @web -p [::1]:8080:80 {IMAGE} {SERVE}"}},
	{Name: "publish_article", Steps: []string{"run -d --name @web -p 10111:22 -p 801:80 {IMAGE} {SERVE}", "port @web"}, Known: randomOrder},
	{Name: "publish_all", Steps: []string{"run -d --name @web -P {IMAGE} {SERVE}"}},
	{Name: "publish_all_expose", Steps: []string{"run -d --name @web -P --expose 443 {IMAGE} {SERVE}"}},
	{Name: "publish_all_udp", Steps: []string{"run -d --name @web -p 7000/udp {IMAGE} {SERVE}"}},
	{Name: "expose_only", Steps: []string{"run -d --name @web --expose 81 {IMAGE} {SERVE}", "port @web"}},
	{Name: "port_unpublished", Steps: []string{"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "port @web 81"}},
	{Name: "publish_two_containers", Steps: []string{
		"run -d --name @a -p 8080:80 {IMAGE} {SERVE}", "run -d --name @b -p 8081:80 {IMAGE} {SERVE}"}},
	{Name: "publish_removed", Steps: []string{"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "rm -f @web"}},
	{Name: "publish_stopped", Steps: []string{"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "stop -t 0 @web"}},

	// Network modes.
	{Name: "mode_host", Steps: []string{"run -d --name @h --network host -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "mode_none", Steps: []string{"run -d --name @n --network none {IMAGE} {SERVE}"}},
	{Name: "mode_container", Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "run -d --name @side --network container:@web {IMAGE} {SERVE}"}},
	{Name: "mode_container_publish", Steps: []string{
		"run -d --name @web {IMAGE} {SERVE}", "run -d --name @side --network container:@web -p 8081:80 {IMAGE} {SERVE}"}},

	// User-defined networks, and the daemon flags as network options. They
	// name their subnets: Docker before 27 hands out its default pools
	// round-robin over the engine's lifetime (docs/docker.md §3.2), so which pool a
	// new network gets depends on every network created since the engine
	// started; usernet_default_pool shows that.
	{Name: "usernet_default_pool", Steps: []string{
		"network create @net", "run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"},
		Known: map[string]string{"20": "Docker before 27 picks default pools round-robin over its lifetime; a fresh labrun engine starts at 172.18.0.0/16"}},
	{Name: "usernet_publish", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "usernet_gateway", Steps: []string{
		"network create --subnet 10.99.1.0/24 --gateway 10.99.1.254 @net", "run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "usernet_noicc", Steps: []string{
		"network create --subnet 10.99.1.0/24 -o com.docker.network.bridge.enable_icc=false @net",
		"run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "usernet_nomasq", Steps: []string{
		"network create --subnet 10.99.1.0/24 -o com.docker.network.bridge.enable_ip_masquerade=false @net",
		"run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "usernet_internal", Steps: []string{
		"network create --subnet 10.99.1.0/24 --internal @net", "run -d --name @web --network @net {IMAGE} {SERVE}"}},
	{Name: "usernet_internal_publish", Steps: []string{
		"network create --subnet 10.99.1.0/24 --internal @net", "run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "usernet_two", Steps: []string{
		"network create --subnet 10.99.1.0/24 @n1", "network create --subnet 10.99.2.0/24 @n2",
		"run -d --name @a --network @n1 -p 8080:80 {IMAGE} {SERVE}", "run -d --name @b --network @n2 -p 8081:80 {IMAGE} {SERVE}"}},

	// Daemon flags of netkit/firewall's golden scenarios (oracle engines
	// only): the whole ruleset, --iptables=false's empty one included.
	{Name: "daemon_noproxy_ipv6_any", Daemon: []string{"--userland-proxy=false"}, Steps: []string{
		"run -d --name @web -p [::]:8080:80 -p 8081:80 {IMAGE} {SERVE}", "port @web"}},
	{Name: "daemon_iptables_off", Daemon: []string{"--iptables=false"}, Steps: []string{"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "rm -f @web"}},

	// Conflicts.
	// The second asks for 0.0.0.0 only: with both addresses taken,
	// Docker 28 and 29 name either in the error, at random
	// (TestDockerConflictText).
	{Name: "conflict_port", Steps: []string{
		"run -d --name @a -p 8080:80 {IMAGE} {SERVE}", "run -d --name @b -p 0.0.0.0:8080:80 {IMAGE} {SERVE}"}},
	{Name: "conflict_udp_no_conflict", Steps: []string{
		"run -d --name @a -p 8080:80 {IMAGE} {SERVE}", "run -d --name @b -p 8080:80/udp {IMAGE} {SERVE}"}},
	{Name: "conflict_range_full", Steps: []string{
		"run -d --name @a -p {R}-{R+1}:80 {IMAGE} {SERVE}", "run -d --name @b -p {R}-{R+1}:80 {IMAGE} {SERVE}",
		"run -d --name @c -p {R}-{R+1}:80 {IMAGE} {SERVE}"}},
	{Name: "conflict_name", Steps: []string{"run -d --name @web {IMAGE} {SERVE}", "run -d --name @web {IMAGE} {SERVE}"}},

	// Container names the daemon refuses (docs/docker.md §6): they are not
	// prefixed, so a faithful engine creates nothing.
	{Name: "badname", Steps: []string{
		"run -d --name a {IMAGE} {SERVE}", "run -d --name /a {IMAGE} {SERVE}",
		"run -d --name _web {IMAGE} {SERVE}", "run -d --name web! {IMAGE} {SERVE}"}},

	// Bad -p specs (the CLI's messages).
	{Name: "badspec_hostport", Steps: []string{"run -d --name @web -p abc:80 {IMAGE} {SERVE}"}},
	{Name: "badspec_containerport", Steps: []string{"run -d --name @web -p 80:abc {IMAGE} {SERVE}"}},
	{Name: "badspec_proto", Steps: []string{"run -d --name @web -p 8080:80/xyz {IMAGE} {SERVE}"}},
	{Name: "badspec_reversed_range", Steps: []string{"run -d --name @web -p 9090-9089:80 {IMAGE} {SERVE}"}},
	{Name: "badspec_open_range", Steps: []string{"run -d --name @web -p 9090-:80 {IMAGE} {SERVE}"}},
	{Name: "badspec_ip", Steps: []string{"run -d --name @web -p 1.2.3:80:80 {IMAGE} {SERVE}"}},
	{Name: "badspec_range_sizes", Steps: []string{"run -d --name @web -p 8000-8002:80-81 {IMAGE} {SERVE}"}},
	{Name: "badspec_too_big", Steps: []string{"run -d --name @web -p 70000:80 {IMAGE} {SERVE}"}},
	{Name: "badspec_unknown_flag", Steps: []string{"run -d --name @web --publishh 80 {IMAGE} {SERVE}"}},
}
