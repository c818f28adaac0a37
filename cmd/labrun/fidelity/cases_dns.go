package fidelity

// dnsCases are Docker's name service as a container sees it: its
// resolv.conf and hosts files on each kind of network, and the embedded
// resolver's answers (busybox nslookup, one query type at a time: without
// -type it asks A and AAAA at once and prints the answers in either
// order). Both engines' hosts have the lab host's /etc files, and their
// gateway is the lab's resolver (203.0.113.10), so that forwarded names
// compare too.
var dnsCases = []Case{
	{Name: "names_files_user", Steps: []string{
		"network create --subnet 10.99.1.0/24 @app", "run -d --name @web --network @app {IMAGE} {SERVE}",
		"exec @web cat /etc/resolv.conf", "exec @web cat /etc/hosts", "exec @web cat /etc/hostname"}},
	{Name: "names_files_default", Known: machineHostFiles, Steps: []string{
		"run -d --name @old {IMAGE} {SERVE}", "exec @old cat /etc/resolv.conf", "exec @old cat /etc/hosts"}},
	{Name: "names_files_host", Known: machineHostFiles, Steps: []string{
		"run -d --name @h --network host {IMAGE} {SERVE}", "exec @h cat /etc/resolv.conf", "exec @h cat /etc/hosts"}},
	{Name: "names_files_none", Known: machineHostFiles, Steps: []string{
		"run -d --name @n --network none {IMAGE} {SERVE}", "exec @n cat /etc/resolv.conf", "exec @n cat /etc/hosts"}},
	{Name: "names_files_hostname", Steps: []string{
		"network create --subnet 10.99.1.0/24 @app", "run -d --name @web --network @app -h webhost {IMAGE} {SERVE}",
		"exec @web cat /etc/hosts", "exec @web cat /etc/hostname"}},
	{Name: "names_lookup", Steps: []string{
		"network create --subnet 10.99.1.0/24 @app", "run -d --name @web --network @app {IMAGE} {SERVE}",
		"run -d --name @cli --network @app {IMAGE} {SERVE}",
		"exec @cli nslookup -type=a @web 127.0.0.11", "exec @cli nslookup -type=a @web",
		"exec @cli nslookup -type=aaaa @web", "exec @cli nslookup -type=mx @web"}},
	{Name: "names_lookup_forwarded", Known: machineHostFiles, Steps: []string{
		"network create --subnet 10.99.1.0/24 @app", "run -d --name @cli --network @app {IMAGE} {SERVE}",
		"exec @cli nslookup -type=a www.example.test", "exec @cli nslookup -type=a nosuch.example.test"}},
	{Name: "names_other_network", Known: machineHostFiles, Steps: []string{
		"network create --subnet 10.99.1.0/24 @app", "network create --subnet 10.99.2.0/24 @other", "run -d --name @web --network @app {IMAGE} {SERVE}",
		"run -d --name @cli --network @other {IMAGE} {SERVE}", "exec @cli nslookup -type=a @web"}},
	{Name: "names_files_options", Steps: []string{
		"network create --subnet 10.99.1.0/24 @app", "run -d --name @web --network @app --dns 192.168.190.2 --dns-search lab.example --dns-option ndots:2 --add-host gw:host-gateway --add-host db:10.9.8.7 -h web.example --domainname example.org {IMAGE} {SERVE}",
		"exec @web cat /etc/resolv.conf", "exec @web cat /etc/hosts"}},
	{Name: "names_files_link", Known: machineHostFiles, Steps: []string{
		"run -d --name @w --expose 80 {IMAGE} {SERVE}", "run -d --name @c --link @w:web {IMAGE} {SERVE}",
		"exec @c cat /etc/hosts", "exec @c nslookup -type=a web"}},
	{Name: "names_alias_lookup", Steps: []string{
		"network create --subnet 10.99.1.0/24 @app", "run -d --name @web --network @app --network-alias site {IMAGE} {SERVE}",
		"run -d --name @cli --network @app {IMAGE} {SERVE}", "network create --subnet 10.99.2.0/24 @back", "network connect --alias db @back @web",
		"exec @cli nslookup -type=a site", "exec @cli nslookup -type=a db", "exec @web cat /etc/hosts"}},
	{Name: "names_connect", Steps: []string{
		"network create --subnet 10.99.1.0/24 @app", "run -d --name @old {IMAGE} {SERVE}", "network connect @app @old",
		"exec @old cat /etc/resolv.conf", "exec @old cat /etc/hosts"}},
}

// machineHostFiles is why the machine's engine differs where a container's
// files derive from its host's: its host is the machine, whose
// resolv.conf and hosts are not the lab host's.
var machineHostFiles = map[string]string{"20": "the machine's engine reads the machine's /etc/resolv.conf and /etc/hosts, not the lab host's"}
