package fidelity

// composeCases are docker compose (Docker Compose 5.6.0, issue 20): a
// project's networks and containers, their names, aliases and labels,
// what its commands print, and what down leaves. They run on oracle
// engines only, with the plugin `make oracle` builds. Services run
// `sleep 3600`, which both sides' images have; their images are compared
// as labrun's names (httpd, busybox).
var composeCases = []Case{
	// The project: web publishing 8080, client on a second
	// network that also joins the first, after web.
	{Name: "compose_up", Compose: composeDemo, Steps: []string{
		"compose -f {COMPOSE} -p @demo up -d",
		"compose -f {COMPOSE} -p @demo ps",
		"compose -p @demo ps -a --format {{.Name}}/{{.Service}}/{{.State}}/{{.Ports}}",
		"compose -p @demo port web 80",
		"compose -p @demo port client 80",
		"network ls",
		"inspect -f {{.Config.Labels|json}} @demo-web-1",
		"inspect -f {{.Config.Labels|json}} @demo-client-1",
		"exec @demo-client-1 nslookup -type=a web",
		"exec @demo-client-1 nslookup -type=a @demo-web-1",
		"compose -p @demo exec client hostname",
		"compose -p @demo exec nosuch hostname",
		"compose -f {COMPOSE} -p @demo up -d"},
		Containers: []string{"demo-web-1", "demo-client-1"}, Networks: []string{"demo_default", "demo_back"}},
	// down: the containers, then the networks; a second down has nothing
	// left to remove.
	{Name: "compose_down", Compose: composeDemo, Steps: []string{
		"compose -f {COMPOSE} -p @demo up -d",
		"compose -p @demo down -t 0",
		"network ls",
		"ps -a --format {{.Names}}",
		"compose -p @demo down"}},
	// down keeps a network of the project that another container uses.
	{Name: "compose_in_use", Compose: composeDemo, Steps: []string{
		"compose -f {COMPOSE} -p @demo up -d",
		"run -d --name @stranger --network @demo_default {BUSYBOX} sleep 3600",
		"compose -p @demo down -t 0",
		"network ls"},
		Networks: []string{"demo_default"}},
	// A network of the project's name that Compose did not make: up warns
	// and uses it, down leaves it (it has no labels of the project).
	{Name: "compose_unmanaged", Compose: composeDemo, Steps: []string{
		"network create --subnet 10.99.1.0/24 @demo_default",
		"compose -f {COMPOSE} -p @demo up -d",
		"inspect -f {{.NetworkSettings.Networks.@demo_default.IPAddress}} @demo-web-1",
		"compose -p @demo down -t 0",
		"network ls"}},
	// Static addresses, aliases, an internal network, labels, extra
	// hosts, a hostname, expose and network_mode service:.
	{Name: "compose_options", Compose: composeOptions, Steps: []string{
		"compose -f {COMPOSE} -p @opt up -d",
		"inspect -f {{.Config.Hostname}}/{{.Config.Domainname}}/{{.HostConfig.ExtraHosts|json}}/{{.HostConfig.Dns|json}}/{{.HostConfig.NetworkMode}}/{{.Config.Labels.lesson}} @opt-app-1",
		"inspect -f {{.HostConfig.NetworkMode}} @opt-side-1",
		"network inspect -f {{.Internal}}/{{.Labels|json}} @opt_back",
		"exec @opt-app-1 nslookup -type=a www",
		"compose -p @opt ps --format {{.Name}}/{{.Ports}}"},
		Containers: []string{"opt-app-1", "opt-third-1"}, Networks: []string{"opt_front", "opt_back"}},
	// Errors before anything is made: an external network that is not
	// there, a build context that is not there.
	{Name: "compose_errors", Compose: composeErrors, Steps: []string{
		"compose -f {COMPOSE} -p @bad up -d ext",
		"compose -f {COMPOSE} -p @bad up -d built",
		"compose -f {COMPOSE} -p @bad ps",
		"network ls"}},
}

const composeDemo = `services:
  web:
    image: {IMAGE}
    command: sleep 3600
    ports: ["8080:80"]
  client:
    image: {BUSYBOX}
    command: sleep 3600
    networks: [default, back]
    depends_on: [web]
networks:
  back: {}
`

const composeOptions = `services:
  app:
    image: {IMAGE}
    command: sleep 3600
    hostname: apphost
    domainname: example.org
    extra_hosts: ["gw:192.168.190.2"]
    dns: [9.9.9.9]
    labels: {lesson: "1"}
    expose: ["81"]
    networks:
      front:
        ipv4_address: 10.99.1.10
        aliases: [www]
      back:
        ipv4_address: 10.99.2.10
  side:
    image: {BUSYBOX}
    command: sleep 3600
    network_mode: service:app
  third:
    image: {BUSYBOX}
    command: sleep 3600
    networks:
      front: {aliases: [three]}
      back: {}
networks:
  front:
    ipam:
      config: [{subnet: 10.99.1.0/24}]
  back:
    internal: true
    labels: {tier: back}
    ipam:
      config: [{subnet: 10.99.2.0/24}]
`

const composeErrors = `services:
  ext:
    image: {BUSYBOX}
    command: sleep 3600
    networks: [outside]
  built:
    build: ./nosuchdir
networks:
  outside:
    external: true
    name: nosuchnet
`
