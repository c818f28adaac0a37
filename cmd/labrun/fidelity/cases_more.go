package fidelity

// br0 are the host lines that make the bridge a case's -b br0 names: an
// existing bridge with its address, up, as an administrator makes it
// before dockerd starts.
var br0 = []string{
	"ip link add br0 type bridge",
	"ip addr add 10.66.0.1/24 dev br0",
	"ip link set br0 up",
}

// docker0At are the host lines that make docker0 as an engine that ran
// before left it, with address addr; docker0Addrs shows what the engine
// made of it (its addresses, without the link's index).
func docker0At(addr string) []string {
	return []string{"ip link add docker0 type bridge", "ip addr add " + addr + " dev docker0", "ip link set docker0 up"}
}

var docker0Addrs = []string{"ip -4 -o addr show dev docker0 | cut -d' ' -f2-"}

// moreCases are the cases of daemon flags (oracle engines only), of
// network options and network commands, and of container lifecycles and
// port forms beyond those of the first list.
var moreCases = []Case{
	// Daemon flags: a fresh oracle engine per case.
	{Name: "daemon_noicc", Daemon: []string{"--icc=false"}, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_noicc_usernet", Daemon: []string{"--icc=false"}, Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_nomasq", Daemon: []string{"--ip-masq=false"}, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_nomasq_usernet", Daemon: []string{"--ip-masq=false"}, Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_noiptables", Daemon: []string{"--iptables=false"}, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_noiptables_usernet", Daemon: []string{"--iptables=false"}, Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_noproxy", Daemon: []string{"--userland-proxy=false"}, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_noproxy_nopublish", Daemon: []string{"--userland-proxy=false"}, Steps: []string{
		"run -d --name @web {IMAGE} {SERVE}"}},
	{Name: "daemon_noproxy_usernet", Daemon: []string{"--userland-proxy=false"}, Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_noproxy_ipv6", Daemon: []string{"--userland-proxy=false"}, Steps: []string{
		"run -d --name @web -p [::1]:8080:80 -p 8081:81 {IMAGE} {SERVE}", "port @web 80"}},
	{Name: "daemon_noproxy_hostip", Daemon: []string{"--userland-proxy=false"}, Steps: []string{
		"run -d --name @web -p 127.0.0.1:8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_bip", Daemon: []string{"--bip=10.55.0.1/24"}, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_bip_fixedcidr", Daemon: []string{"--bip=10.55.0.1/24", "--fixed-cidr=10.55.0.128/25"}, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_bip_gateway", Daemon: []string{"--bip=10.55.0.1/24", "--default-gateway=10.55.0.254"}, Steps: []string{
		"run -d --name @web {IMAGE} {SERVE}"}},
	// A dockerd started again: another --bip replaces docker0's address
	// (the first one, where it has two), and without --bip docker0's
	// address is the default bridge's.
	{Name: "daemon_bip_replaces", Daemon: []string{"--bip=10.55.0.1/24"}, Host: docker0At("172.17.0.1/16"), After: docker0Addrs,
		Steps: []string{"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_bip_replaces_first", Daemon: []string{"--bip=10.55.0.1/24"},
		Host: append(docker0At("172.17.0.1/16"), "ip addr add 10.66.0.1/24 dev docker0"), After: docker0Addrs,
		Steps: []string{"run -d --name @web {IMAGE} {SERVE}"}},
	{Name: "daemon_bip_kept", Host: docker0At("10.66.0.1/24"), After: docker0Addrs, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_fixedcidr", Daemon: []string{"--fixed-cidr=172.17.5.0/24"}, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_bridge_none", Daemon: []string{"-b", "none"}, Steps: []string{
		"run -d --name @web {IMAGE} {SERVE}", "run -d --name @pub -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_bridge_br0", Daemon: []string{"-b", "br0"}, Host: br0, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_ip_loopback", Daemon: []string{"--ip=127.0.0.1"}, Steps: []string{
		"run -d --name @web -p 8080:80 -p 0.0.0.0:8081:81 {IMAGE} {SERVE}"}},
	{Name: "daemon_mtu", Daemon: []string{"--mtu=1400"}, Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web {IMAGE} {SERVE}"}},
	{Name: "daemon_noipforward", Daemon: []string{"--ip-forward=false"}, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},

	// Network options and commands.
	{Name: "net_iprange", Steps: []string{
		"network create --subnet 10.99.1.0/24 --ip-range 10.99.1.128/25 @net",
		"run -d --name @a --network @net {IMAGE} {SERVE}", "run -d --name @b --network @net --ip 10.99.1.10 {IMAGE} {SERVE}"}},
	{Name: "net_bridgename", Steps: []string{
		"network create --subnet 10.99.1.0/24 -o com.docker.network.bridge.name=labbr0 @net",
		"run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "conflict_any_and_ipv6", Steps: []string{"run -d --name @web -p 8080:80 -p [::]:8080:80 {IMAGE} {SERVE}"}},
	{Name: "net_connect_publishes", Steps: []string{
		"network create --internal --subnet 10.99.1.0/24 @int", "network create --subnet 10.99.2.0/24 @pub",
		"run -d --name @web --network @int -p 8080:80 {IMAGE} {SERVE}", "port @web",
		"network connect @pub @web", "port @web"}},
	{Name: "net_host_ipv4", Steps: []string{
		"network create --subnet 10.99.1.0/24 -o com.docker.network.host_ipv4=192.168.190.128 @net",
		"run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "net_hostbinding", Steps: []string{
		"network create --subnet 10.99.1.0/24 -o com.docker.network.bridge.host_binding_ipv4=127.0.0.1 @net",
		"run -d --name @web --network @net -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "net_mtu", Steps: []string{
		"network create --subnet 10.99.1.0/24 -o com.docker.network.driver.mtu=1400 @net",
		"run -d --name @web --network @net {IMAGE} {SERVE}"}},
	{Name: "net_gateway_outside", Steps: []string{
		"network create --subnet 10.99.1.0/24 --gateway 10.99.2.1 @net"}},
	{Name: "net_gateway_iprange", Steps: []string{
		"network create --subnet 10.99.1.0/24 --ip-range 10.99.1.64/26 --gateway 10.99.1.200 @net",
		"run -d --name @web --network @net {IMAGE} {SERVE}"}},
	{Name: "net_connect", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web -p 8080:80 {IMAGE} {SERVE}",
		"network connect @net @web"}},
	{Name: "net_connect_ip", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web {IMAGE} {SERVE}",
		"network connect --ip 10.99.1.50 @net @web"}},
	{Name: "net_connect_twice", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web --network @net {IMAGE} {SERVE}",
		"network connect @net @web"}},
	{Name: "net_connect_missing", Steps: []string{
		"run -d --name @web {IMAGE} {SERVE}", "network connect @nonet @web"}},
	{Name: "net_disconnect", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web -p 8080:80 {IMAGE} {SERVE}",
		"network connect @net @web", "network disconnect @net @web"}},
	{Name: "net_disconnect_default", Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "network disconnect bridge @web"}},
	{Name: "net_run_ip", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web --network @net --ip 10.99.1.77 -p 8080:80 {IMAGE} {SERVE}"}},
	{Name: "net_run_ip_default_bridge", Steps: []string{
		"run -d --name @web --ip 172.17.0.50 {IMAGE} {SERVE}"}},
	{Name: "net_run_ip_taken", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @a --network @net --ip 10.99.1.77 {IMAGE} {SERVE}",
		"run -d --name @b --network @net --ip 10.99.1.77 {IMAGE} {SERVE}"}},
	{Name: "net_two_on_one", Steps: []string{
		"network create --subnet 10.99.1.0/24 @n1", "network create --subnet 10.99.2.0/24 @n2",
		"run -d --name @web --network @n1 -p 8080:80 {IMAGE} {SERVE}", "network connect @n2 @web"}},
	// A network whose name sorts before "bridge" takes a default-bridge
	// container's gateway and published ports when it joins, in every era
	// (the sandbox orders endpoints by network name, moby/moby v28.5.2
	// libnetwork/sandbox.go Endpoint.Less), and gives them back when it
	// leaves. The literal name is not the case's prefix, so only a fresh
	// oracle engine runs it (After).
	{Name: "net_connect_gateway_by_name", After: []string{"ip -4 route show table main | grep -c br- || true"}, Steps: []string{
		"network create --subnet 10.99.1.0/24 aaa", "run -d --name @web -p 8080:80 {IMAGE} {SERVE}",
		"network connect aaa @web", "port @web", "exec @web busybox ip route",
		"network disconnect aaa @web", "exec @web busybox ip route", "network rm aaa"}},
	{Name: "net_rm", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "network rm @net"}},
	{Name: "net_rm_in_use", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web --network @net {IMAGE} {SERVE}", "network rm @net"}},
	{Name: "net_rm_missing", Steps: []string{"network rm @nonet"}},
	{Name: "net_duplicate_name", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "network create --subnet 10.99.2.0/24 @net"}},
	{Name: "net_overlap", Steps: []string{
		"network create --subnet 10.99.1.0/24 @n1", "network create --subnet 10.99.1.0/25 @n2"}},
	{Name: "net_overlap_default_bridge", Steps: []string{
		"network create --subnet 172.17.0.0/16 @net"}},
	{Name: "net_run_missing", Steps: []string{"run -d --name @web --network @nonet {IMAGE} {SERVE}"}},
	// --mac-address: the endpoint's MAC and Config.MacAddress, on the
	// default bridge, a user network, stopped, host and none (whose entry
	// shows it while the container runs); an invalid one.
	{Name: "net_mac", Steps: []string{
		"run -d --name @web --mac-address 02:42:ac:11:00:99 -p 8080:80 {IMAGE} {SERVE}", "inspect -f {{.Config.MacAddress}} @web"}},
	{Name: "net_mac_usernet", Steps: []string{"network create --subnet 10.99.1.0/24 @net",
		"run -d --name @web --network @net --mac-address 02:42:0a:63:01:50 {IMAGE} {SERVE}", "inspect -f {{.Config.MacAddress}} @web"}},
	{Name: "net_mac_stopped", Steps: []string{
		"run -d --name @web --mac-address 02:42:ac:11:00:99 {IMAGE} {SERVE}", "stop -t 0 @web", "inspect -f {{.Config.MacAddress}} @web"}},
	{Name: "net_mac_host", Steps: []string{
		"run -d --name @web --net=host --mac-address 02:42:ac:11:00:98 {IMAGE} {SERVE}", "inspect -f {{.Config.MacAddress}} @web"}},
	{Name: "net_mac_none", Steps: []string{
		"run -d --name @web --net=none --mac-address 02:42:ac:11:00:97 {IMAGE} {SERVE}", "inspect -f {{.Config.MacAddress}} @web"}},
	{Name: "net_mac_invalid", Steps: []string{"run -d --name @web --mac-address 02:42:ac:11:00 {IMAGE} {SERVE}"}},
	{Name: "net_internal_two", Steps: []string{
		"network create --subnet 10.99.1.0/24 --internal @net",
		"run -d --name @a --network @net {IMAGE} {SERVE}", "run -d --name @b --network @net {IMAGE} {SERVE}"}},

	// Lifecycles and ports.
	{Name: "life_stop_start", Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "stop -t 0 @web", "start @web"}},
	{Name: "life_stop_start_ephemeral", Steps: []string{
		"run -d --name @web -p 80 {IMAGE} {SERVE}", "stop -t 0 @web", "start @web", "port @web"}},
	{Name: "life_stop_start_readdress", Steps: []string{
		"run -d --name @a {IMAGE} {SERVE}", "run -d --name @b {IMAGE} {SERVE}", "stop -t 0 @a",
		"run -d --name @c {IMAGE} {SERVE}", "start @a"}},
	{Name: "life_start_conflict", Steps: []string{
		"run -d --name @a -p 8080:80 {IMAGE} {SERVE}", "stop -t 0 @a",
		"run -d --name @b -p 8080:80 {IMAGE} {SERVE}", "start @a"}},
	{Name: "life_stop_usernet", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @web --network @net --ip 10.99.1.20 -p 8080:80 {IMAGE} {SERVE}",
		"stop -t 0 @web"}},
	{Name: "life_restart_stopped", Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "stop -t 0 @web", "restart -t 0 @web"}},
	{Name: "life_restart", Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "restart -t 0 @web"}},
	{Name: "life_rm_running", Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "rm @web"}},
	{Name: "life_rm_stopped", Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}", "stop -t 0 @web", "rm @web"}},
	// busybox without a COMMAND: its sh, input closed and no terminal,
	// exits 0 at once, and again when started again; -i (input open) or
	// -t (a terminal) keep it.
	{Name: "life_busybox_nocmd", Steps: []string{
		"run -d --name @c {BUSYBOX}", "wait @c", "inspect -f {{.State.Status}}/{{.State.ExitCode}} @c"}},
	{Name: "life_busybox_attached", Steps: []string{
		"run --name @c {BUSYBOX}", "inspect -f {{.State.Status}}/{{.State.ExitCode}} @c"}},
	{Name: "life_busybox_rm", Steps: []string{"run --rm --name @c {BUSYBOX}", "inspect -f {{.State.Status}} @c"}},
	{Name: "life_busybox_start", Steps: []string{
		"run -d --name @c {BUSYBOX}", "wait @c", "start @c", "wait @c", "inspect -f {{.State.Status}}/{{.State.ExitCode}} @c"}},
	{Name: "life_busybox_it", Steps: []string{
		"run -dit --name @c {BUSYBOX}", "inspect -f {{.State.Status}}/{{.State.ExitCode}} @c"}},
	{Name: "life_busybox_i", Steps: []string{
		"run -di --name @c {BUSYBOX}", "inspect -f {{.State.Status}}/{{.State.ExitCode}} @c"}},
	{Name: "port_udp", Steps: []string{
		"run -d --name @web -p 5353:53/udp -p 5353:53 {IMAGE} {SERVE}", "port @web 53/udp", "port @web 53/tcp", "port @web 54/udp"}},
	{Name: "publish_same_port_twice", Steps: []string{
		"run -d --name @web -p 8080:80 -p 8081:80 {IMAGE} {SERVE}", "port @web 80"}},
	{Name: "publish_range_both_udp", Steps: []string{
		"run -d --name @web -p {R}-{R+1}:53-54/udp {IMAGE} {SERVE}", "port @web"}},
	// TCP ports only: the engine's port allocator remembers the last
	// ephemeral port of each protocol, so on an engine that served other
	// cases before (the machine's) a udp and a tcp port fall apart where
	// they coincide on a fresh one: that is the engine's history, not a
	// difference of labrun.
	{Name: "publish_all_several_expose", Steps: []string{
		"run -d --name @web -P --expose 443 --expose 5353 --expose 7000-7001 {IMAGE} {SERVE}", "port @web"}},
}
