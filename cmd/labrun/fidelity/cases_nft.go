package fidelity

// nftCases are the daemon flags that change the firewall's rules, each on
// a fresh engine (only oracle engines run them): the default network and a
// user-defined one, each with a published port. With --firewall-backend=
// nftables they show Docker 29's tables (netkit/firewall/nft); with
// iptables, 28's and 29's chains.
var nftCases = []Case{
	// --icc=false and --ip-masq=false set the default network's options
	// only: a user-defined network keeps ICC and MASQUERADE.
	{Name: "daemon_icc_off", Daemon: []string{"--icc=false"}, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}",
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @b --network @net -p 8081:80 {IMAGE} {SERVE}"}},
	{Name: "daemon_ipmasq_off", Daemon: []string{"--ip-masq=false"}, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}",
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @b --network @net -p 8081:80 {IMAGE} {SERVE}"}},
	// Hairpin mode. One host port per container port: Docker 29.8.1 with
	// nftables fails a container whose two host ports map one container
	// port ("rule exists" in its nftabler's MASQ TO OWN PORT).
	{Name: "daemon_userland_proxy_off", Daemon: []string{"--userland-proxy=false"}, Steps: []string{
		"run -d --name @web -p 8080:80 -p 127.0.0.1:8081:81 {IMAGE} {SERVE}",
		"network create --subnet 10.99.1.0/24 @net", "run -d --name @b --network @net -p 8082:80/udp {IMAGE} {SERVE}"}},
	// No rules at all with iptables; with nftables, Docker 29 still makes
	// its table ip6 docker-bridges (ip6tables stays on).
	{Name: "daemon_iptables_off_running", Daemon: []string{"--iptables=false"}, Steps: []string{
		"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
	// A host that does not forward, left so: no FORWARD DROP policy with
	// iptables; Docker 29 with nftables starts, as it checks nothing. Each
	// docker run warns that networking will not work.
	{Name: "daemon_ipforward_off", Daemon: []string{"--ip-forward=false"}, Host: []string{"echo 0 > /proc/sys/net/ipv4/ip_forward"},
		Steps: []string{"run -d --name @web -p 8080:80 {IMAGE} {SERVE}"}},
	// With -b none on a host that does not forward, Docker 29 with
	// nftables starts and refuses each bridge network instead; with
	// iptables, the network turns forwarding on.
	{Name: "daemon_nobridge_noforward", Daemon: []string{"--bridge=none"}, Host: []string{"echo 0 > /proc/sys/net/ipv4/ip_forward"},
		Steps: []string{"network create --subnet 10.99.1.0/24 @net"}},
}
