package fidelity

// nameCases are the options that go with names (issue 16, item 3), as
// docker inspect and the CLI show them: --network-alias, -h and
// --domainname, --dns*, --add-host, --link on the default bridge and on a
// user-defined network, network connect --alias, and their refusals. A
// step's -f template has no space (steps split at spaces): `{{.X|json}}`.
// They look at no file in the container: /etc/resolv.conf and /etc/hosts
// are compared elsewhere.
var nameCases = []Case{
	// Aliases shows what was asked; DNSNames adds the name, the short ID
	// and the hostname; a stopped container keeps both.
	{Name: "names_network_alias", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net",
		"run -d --name @web --network @net --network-alias site --network-alias www --net-alias site -h webhost --domainname example.org {IMAGE} {SERVE}",
		"inspect -f {{.Config.Hostname}}/{{.Config.Domainname}}/{{.HostConfig.Links|json}} @web",
		"run -d --name @st --network @net --network-alias y {IMAGE} {SERVE}", "stop -t 0 @st"}},
	// The CLI refuses aliases off user-defined networks.
	{Name: "names_network_alias_default", Steps: []string{
		"run -d --name @web --network-alias site {IMAGE} {SERVE}",
		"run -d --name @web --network bridge --network-alias site {IMAGE} {SERVE}",
		"run -d --name @web --network host --net-alias site {IMAGE} {SERVE}"}},
	// --dns in net.IP's form, --dns-search without its final dot, the
	// empty lists of a container without them; a loopback --dns warns.
	{Name: "names_dns", Steps: []string{
		"run -d --name @web --dns 9.9.9.9 --dns 2001:db8:0:0::53 --dns-search a.example. --dns-search . --dns-option ndots:2 --dns-opt timeout:1 {IMAGE} {SERVE}",
		"inspect -f {{.HostConfig.Dns|json}}{{.HostConfig.DnsSearch|json}}{{.HostConfig.DnsOptions|json}} @web",
		"run -d --name @plain {IMAGE} {SERVE}",
		"inspect -f {{.HostConfig.Dns|json}}{{.HostConfig.DnsSearch|json}}{{.HostConfig.DnsOptions|json}}{{.HostConfig.ExtraHosts|json}}{{.HostConfig.Links|json}}/{{.Config.Domainname}} @plain",
		"run -d --name @lo --dns 127.0.0.1 {IMAGE} {SERVE}"}},
	{Name: "names_bad_values", Steps: []string{
		"run -d --name @web --dns 1.2.3 {IMAGE} {SERVE}",
		"run -d --name @web --dns-search -bad {IMAGE} {SERVE}",
		"run -d --name @web --link a:b:c {IMAGE} {SERVE}",
		"run -d --name @web --add-host nocolon {IMAGE} {SERVE}",
		"run -d --name @web --add-host h:1.2.3 {IMAGE} {SERVE}",
		"run -d --name @web --add-host :1.2.3.4 {IMAGE} {SERVE}"}},
	// --add-host's forms, sent as NAME:ADDR with the address as typed.
	{Name: "names_add_host", Steps: []string{
		"run -d --name @web --add-host h1:1.2.3.4 --add-host h2=::1 --add-host h3=[2001:db8::1] --add-host h4:::1 --add-host h1:5.6.7.8 --add-host gw:host-gateway {IMAGE} {SERVE}",
		"inspect -f {{.HostConfig.ExtraHosts|json}} @web"}},
	// Legacy links: HostConfig.Links (one link per container: the engine
	// keeps them in a map), no endpoint Links; 29 warns.
	{Name: "names_link", Steps: []string{
		"run -d --name @ww {IMAGE} {SERVE}",
		"run -d --name @cc --link @ww:web {IMAGE} {SERVE}",
		"inspect -f {{.HostConfig.Links|json}} @cc",
		"run -d --name @dd --link @ww {IMAGE} {SERVE}",
		"inspect -f {{.HostConfig.Links|json}} @dd",
		"run -d --name @nn --network none --link @ww {IMAGE} {SERVE}",
		"inspect -f {{.HostConfig.Links|json}} @nn"}},
	// The daemon's refusals of links: at create (no container), and at
	// start (the container stays, created).
	{Name: "names_link_errors", Steps: []string{
		"run -d --name @stopped {IMAGE} {SERVE}", "stop -t 0 @stopped",
		"run -d --name @ca --link @stopped:web {IMAGE} {SERVE}",
		"network create --subnet 10.99.1.0/24 @net",
		"run -d --name @onnet --network @net {IMAGE} {SERVE}",
		"run -d --name @cb --link @onnet:web {IMAGE} {SERVE}",
		"run -d --name @cc --link @nosuch:web {IMAGE} {SERVE}",
		"run -d --name @cd --network host --link @onnet {IMAGE} {SERVE}",
		"run -d --name @ce --network container:@onnet --link @onnet {IMAGE} {SERVE}"},
		Known: map[string]string{"20": "Docker 20.10 checks the children after it made the sandbox, and a child off the default bridge " +
			"in connectToNetwork, with its own text, leaving the endpoint's addresses in inspect (moby/moby v20.10.24 " +
			"daemon/container_operations.go addLegacyLinks); labrun checks them as 28 and 29 do, before the sandbox"}},
	// On a user-defined network a link is the endpoint's, as typed, and
	// not checked.
	{Name: "names_link_usernet", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net",
		"run -d --name @web --network @net {IMAGE} {SERVE}",
		"run -d --name @cli --network @net --link @web:w2 --link @nosuch {IMAGE} {SERVE}",
		"inspect -f {{.HostConfig.Links|json}} @cli"}},
	// network connect --alias: the endpoint's Aliases and DNSNames; on
	// the default bridge the daemon refuses it, with --ip's reasons.
	{Name: "names_connect_alias", Steps: []string{
		"network create --subnet 10.99.1.0/24 @net",
		"run -d --name @web {IMAGE} {SERVE}",
		"network connect --alias one --alias two @net @web",
		"run -d --name @other --network @net -h otherhost {IMAGE} {SERVE}",
		"network connect --alias z bridge @other",
		"network connect --alias z --ip 172.17.0.50 bridge @other"}},
}
