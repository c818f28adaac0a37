package fidelity

// driverCases are the macvlan and ipvlan drivers (docs/docker.md §8): a
// network on the host's eth0 (192.168.190.128/24 on both sides, the lab's
// LAN), its containers, and the daemon's refusals. Each ends by listing
// the host's macvlan and ipvlan links (none: a container's link lives in
// its own namespace), which also keeps the cases off the machine's engine,
// whose eth0 is the machine's own. The oracle engines run on this
// project's kernel, which has macvlan but not the ipvlan, 802.1q or dummy
// link types: where Docker needs those, both sides answer as Docker does
// on such a kernel.
var driverCases = []Case{
	// The network: no bridge, its options as given, IPAM as requested.
	{Name: "macvlan_create", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 192.168.190.0/24 --gateway 192.168.190.2 -o parent=eth0 @mv"}},
	{Name: "macvlan_create_mode", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 192.168.190.0/24 -o parent=eth0 -o macvlan_mode=private @mv", "network ls"}},
	// A default pool, and the gateway IPAM reserves there: 28 one for a
	// macvlan network with a parent, none for an internal one or an
	// ipvlan l3 one; 29 none at all.
	{Name: "macvlan_default_pool", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan -o parent=eth0 @a", "network create -d macvlan --internal -o parent=eth0 @b",
		"network create -d ipvlan -o parent=eth0 -o ipvlan_mode=l3 @c", "network create -d ipvlan -o parent=eth0.7 @d"}},
	// 28 refuses bad options before it looks at the subnet; 27 and 29
	// after.
	{Name: "macvlan_option_order", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 192.168.190.0/24 -o parent=eth0 @a",
		"network create -d macvlan --subnet 192.168.190.0/24 -o parent=eth0 -o macvlan_mode=foo @b",
		"network create -d ipvlan --subnet 192.168.190.0/24 -o parent=eth0 -o ipvlan_flag=foo @c"}},
	// A container: its own MAC and address on the LAN, the default route
	// via the gateway, the embedded DNS's files, no port published.
	{Name: "macvlan_run", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 192.168.190.0/24 --gateway 192.168.190.2 -o parent=eth0 @mv",
		"run -d --name @web --network @mv {IMAGE} {SERVE}",
		"exec @web busybox ip route", "exec @web busybox ip -4 -o addr show dev eth0", "exec @web cat /etc/resolv.conf",
		"exec @web cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6"}},
	{Name: "macvlan_run_ip", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 192.168.190.0/24 --gateway 192.168.190.2 --ip-range 192.168.190.192/27 -o parent=eth0 @mv",
		"run -d --name @a --network @mv {IMAGE} {SERVE}",
		"run -d --name @b --network @mv --ip 192.168.190.200 {IMAGE} {SERVE}",
		"exec @a nslookup -type=a @b"}},
	{Name: "macvlan_run_mac", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 192.168.190.0/24 --gateway 192.168.190.2 -o parent=eth0 @mv",
		"run -d --name @web --network @mv --mac-address 02:42:c0:a8:be:99 {IMAGE} {SERVE}"}},
	// Without --gateway: 28 reserves the subnet's first address as the
	// gateway, 29 reserves none and gives no default route.
	{Name: "macvlan_no_gateway", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 10.30.0.0/24 -o parent=eth0 @mv",
		"run -d --name @web --network @mv {IMAGE} {SERVE}", "exec @web busybox ip route"}},
	{Name: "macvlan_internal", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --internal --subnet 192.168.190.0/24 --gateway 192.168.190.2 -o parent=eth0 @mv",
		"run -d --name @web --network @mv {IMAGE} {SERVE}", "exec @web busybox ip route"}},
	// -p is accepted and ignored: no proxy, no rule, nothing in docker port.
	{Name: "macvlan_publish", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 192.168.190.0/24 --gateway 192.168.190.2 -o parent=eth0 @mv",
		"run -d --name @web --network @mv -p 8080:80 {IMAGE} {SERVE}", "port @web"}},
	{Name: "macvlan_connect", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 192.168.190.0/24 --gateway 192.168.190.2 -o parent=eth0 @mv",
		"run -d --name @web {IMAGE} {SERVE}", "network connect @mv @web", "exec @web busybox ip route",
		"network disconnect @mv @web"}},
	{Name: "macvlan_rm", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 192.168.190.0/24 --gateway 192.168.190.2 -o parent=eth0 @mv",
		"run -d --name @web --network @mv {IMAGE} {SERVE}", "network rm @mv", "rm -f @web", "network rm @mv"}},
	// Several networks share a parent, not their subnets; passthru wants
	// the parent alone.
	{Name: "macvlan_two_networks", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 192.168.190.0/25 -o parent=eth0 @a",
		"network create -d macvlan --subnet 192.168.190.128/25 -o parent=eth0 @b",
		"network create -d macvlan --subnet 192.168.190.0/24 -o parent=eth0 @c"}},
	{Name: "macvlan_passthru", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 10.30.1.0/24 -o parent=eth0 @a",
		"network create -d macvlan --subnet 10.30.2.0/24 -o parent=eth0 -o macvlan_mode=passthru @b",
		"network rm @a",
		"network create -d macvlan --subnet 10.30.2.0/24 -o parent=eth0 -o macvlan_mode=passthru @b",
		"network create -d macvlan --subnet 10.30.3.0/24 -o parent=eth0 @c"}},
	// The parents Docker refuses, and those this kernel cannot make.
	{Name: "macvlan_bad_parents", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 10.30.1.0/24 -o parent=eth9 @a",
		"network create -d macvlan --subnet 10.30.1.0/24 -o parent=eth9.50 @a",
		"network create -d macvlan --subnet 10.30.1.0/24 -o parent=eth0.5000 @a",
		"network create -d macvlan --subnet 10.30.1.0/24 -o parent=a.b.c @a",
		"network create -d macvlan --subnet 10.30.1.0/24 -o parent=eth0.x @a",
		"network create -d macvlan --subnet 10.30.1.0/24 -o parent=lo @a",
		"network create -d macvlan --subnet 10.30.1.0/24 -o parent=eth0 -o macvlan_mode=foo @a",
		"network ls -q"}},
	{Name: "macvlan_vlan_parent", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 10.30.1.0/24 -o parent=eth0.50 @a"}},
	{Name: "macvlan_no_parent", After: hostDriverLinks, Steps: []string{
		"network create -d macvlan --subnet 10.30.1.0/24 @a"}},

	// ipvlan: the network is made without a link; a container needs the
	// kernel's ipvlan type.
	{Name: "ipvlan_create", After: hostDriverLinks, Steps: []string{
		"network create -d ipvlan --subnet 192.168.190.0/24 --gateway 192.168.190.2 -o parent=eth0 -o ipvlan_mode=l3 @iv"}},
	{Name: "ipvlan_run", After: hostDriverLinks, Steps: []string{
		"network create -d ipvlan --subnet 192.168.190.0/24 --gateway 192.168.190.2 -o parent=eth0 @iv",
		"run -d --name @web --network @iv {IMAGE} {SERVE}",
		"run -d --name @mm --network @iv --mac-address 02:42:c0:a8:be:99 {IMAGE} {SERVE}"}},
	{Name: "ipvlan_errors", After: hostDriverLinks, Steps: []string{
		"network create -d ipvlan --subnet 10.30.1.0/24 -o parent=eth0 -o ipvlan_mode=l4 @a",
		"network create -d ipvlan --subnet 10.30.1.0/24 -o parent=eth0 -o ipvlan_flag=nope @a",
		"network create -d ipvlan --subnet 10.30.1.0/24 -o parent=lo @a",
		"network create -d ipvlan --subnet 10.30.1.0/24 -o parent=eth0 @a",
		"network create -d ipvlan --subnet 10.30.2.0/24 -o parent=eth0 @b",
		"network create -d macvlan --subnet 10.30.3.0/24 -o parent=eth0 @c",
		"network create -d ipvlan --subnet 10.30.4.0/24 @d", "network create -d ipvlan --subnet 10.30.4.0/24 -o parent=eth0.60 @d"}},
}

// hostDriverLinks lists the host's macvlan links after a case (one line
// per link, without its index and MAC).
var hostDriverLinks = []string{"ip -o link show type macvlan | cut -d' ' -f2"}
