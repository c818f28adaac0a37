package compose

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/runner/dockercli"
	"github.com/labrun/labrun/runner/images"
)

// project loads a compose file, as docker compose -p demo does in a
// directory holding it, and returns the project and what was printed on
// stderr (compose-go's warnings).
func project(t *testing.T, yaml string, env ...string) (*types.Project, string) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(yaml), 0o644))
	var stderr bytes.Buffer
	c := &cmd{o: dockercli.IO{Dir: dir, Stderr: &stderr}, env: map[string]string{}, opts: options{project: "demo"}}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		c.env[k] = v
	}
	p, err := c.load(context.Background(), nil)
	require.NoError(t, err)
	return p, stderr.String()
}

const demo = `services:
  web:
    image: httpd
    ports: ["8080:80"]
  client:
    image: busybox
    command: sleep 3600
    networks: [default, back]
    depends_on: [web]
networks:
  back: {}
`

var hash64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func noService(string) (string, error) { return "", nil }

func TestNetworksOf(t *testing.T) {
	p, _ := project(t, demo)
	nets, err := networksOf(p)
	require.NoError(t, err)
	require.Len(t, nets, 2)
	// By key, named <project>_<key>, with Compose's labels.
	assert.Equal(t, "back", nets[0].key)
	assert.Equal(t, "demo_back", nets[0].name)
	assert.Equal(t, "demo_default", nets[1].name)
	l := nets[1].opts.Labels
	assert.Equal(t, "default", l["com.docker.compose.network"])
	assert.Equal(t, "demo", l["com.docker.compose.project"])
	assert.Equal(t, "5.6.0", l["com.docker.compose.version"])
	assert.Regexp(t, hash64, l["com.docker.compose.config-hash"])
	assert.Equal(t, "demo_default", nets[1].opts.Name)
	assert.False(t, nets[1].external)
}

func TestContainerOfWeb(t *testing.T) {
	p, _ := project(t, demo)
	c, err := containerOf(p, p.Services["web"], 1, noService)
	require.NoError(t, err)
	o := c.spec.RunOptions
	assert.Equal(t, "demo-web-1", c.name)
	assert.Equal(t, "demo-web-1", o.Name)
	assert.Equal(t, netkit.Mode{Kind: netkit.ModeBridge, Network: "demo_default"}, o.Network)
	assert.Equal(t, []string{"demo-web-1", "web"}, o.Aliases, "the container's name, then the service's")
	assert.Empty(t, c.connect)
	assert.Equal(t, images.ProgramHTTPD, o.Program, "no command: the image's program")
	assert.Nil(t, c.spec.Cmd)
	want, err := ports.ParsePublish("8080:80")
	require.NoError(t, err)
	assert.Equal(t, want, o.Publish)
	l := o.Labels
	assert.Equal(t, "demo", l["com.docker.compose.project"])
	assert.Equal(t, "web", l["com.docker.compose.service"])
	assert.Equal(t, "1", l["com.docker.compose.container-number"])
	assert.Equal(t, "False", l["com.docker.compose.oneoff"])
	assert.Equal(t, "", l["com.docker.compose.depends_on"])
	assert.Equal(t, "5.6.0", l["com.docker.compose.version"])
	assert.Equal(t, p.WorkingDir, l["com.docker.compose.project.working_dir"])
	assert.Equal(t, filepath.Join(p.WorkingDir, "compose.yaml"), l["com.docker.compose.project.config_files"])
	assert.Regexp(t, hash64, l["com.docker.compose.config-hash"])
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, l["com.docker.compose.image"])
}

func TestContainerOfClient(t *testing.T) {
	p, _ := project(t, demo)
	c, err := containerOf(p, p.Services["client"], 1, noService)
	require.NoError(t, err)
	o := c.spec.RunOptions
	// Networks by priority, then name: back first, then default, joined
	// as the create asked (not docker network connect).
	assert.Equal(t, "demo_back", o.Network.Network)
	assert.Equal(t, []string{"demo-client-1", "client"}, o.Aliases)
	require.Len(t, c.connect, 1)
	assert.Equal(t, "demo_default", c.connect[0].network)
	assert.Equal(t, netkit.ConnectOptions{Aliases: []string{"demo-client-1", "client"}, Created: true}, c.connect[0].opts)
	// A command stands for the main process.
	assert.Equal(t, []string{"sleep", "3600"}, c.spec.Cmd)
	assert.Equal(t, "", o.Program)
	assert.Equal(t, "sleep", o.Comm)
	assert.Equal(t, "sleep 3600", o.Command)
	assert.Equal(t, "web:service_started:false", o.Labels["com.docker.compose.depends_on"])
}

func TestStartOrder(t *testing.T) {
	p, _ := project(t, demo)
	assert.Equal(t, []string{"web", "client"}, startOrder(p))
	p, _ = project(t, `services:
  a: {image: busybox, depends_on: [c]}
  b: {image: busybox, network_mode: "service:a"}
  c: {image: busybox}
  d: {image: busybox}
`)
	assert.Equal(t, []string{"c", "a", "b", "d"}, startOrder(p))
}

func TestServiceHash(t *testing.T) {
	p1, _ := project(t, demo)
	p2, _ := project(t, demo)
	h1, err := serviceHash(p1.Services["client"])
	require.NoError(t, err)
	h2, err := serviceHash(p2.Services["client"])
	require.NoError(t, err)
	assert.Equal(t, h1, h2, "the same service, the same hash")
	s := p2.Services["client"]
	s.Command = types.ShellCommand{"sleep", "10"}
	h3, err := serviceHash(s)
	require.NoError(t, err)
	assert.NotEqual(t, h1, h3, "another command, another hash")
	s = p2.Services["client"]
	s.DependsOn = nil
	h4, err := serviceHash(s)
	require.NoError(t, err)
	assert.Equal(t, h1, h4, "dependencies are not part of it")
}

func TestContainerOfOptions(t *testing.T) {
	p, _ := project(t, `services:
  app:
    image: busybox
    hostname: apphost
    domainname: example.org
    extra_hosts: ["gw:192.168.190.2", "a:1.2.3.4"]
    dns: [9.9.9.9]
    dns_search: [example.org]
    environment: {B: "2", A: "1"}
    labels: {lesson: "1"}
    expose: ["81"]
    mac_address: 02:42:0a:63:01:0a
    networks:
      front: {ipv4_address: 10.99.1.10, aliases: [www], priority: 10}
      back: {ipv4_address: 10.99.2.10}
  side:
    image: busybox
    network_mode: service:app
  lone:
    image: busybox
    network_mode: none
networks:
  front:
    ipam: {config: [{subnet: 10.99.1.0/24, gateway: 10.99.1.254}]}
  back:
    internal: true
    enable_ipv6: true
    labels: {tier: back}
    driver_opts: {com.docker.network.bridge.enable_icc: "false"}
    ipam: {config: [{subnet: 10.99.2.0/24}, {subnet: "fd00:db8:2::/64"}]}
`)
	c, err := containerOf(p, p.Services["app"], 1, noService)
	require.NoError(t, err)
	o := c.spec.RunOptions
	assert.Equal(t, "apphost", o.Hostname)
	assert.Equal(t, "example.org", o.Domainname)
	assert.Equal(t, []string{"a:1.2.3.4", "gw:192.168.190.2"}, o.ExtraHosts)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("9.9.9.9")}, o.DNS)
	assert.Equal(t, []string{"example.org"}, o.DNSSearch)
	assert.Equal(t, []string{"A=1", "B=2"}, o.Env)
	assert.Equal(t, "1", o.Labels["lesson"])
	assert.Equal(t, []ports.Port{{Num: 81, Proto: ports.TCP}}, o.ExtraExpose)
	// front has the higher priority: it is the first network.
	assert.Equal(t, "demo_front", o.Network.Network)
	assert.Equal(t, netip.MustParseAddr("10.99.1.10"), o.IP)
	assert.Equal(t, []string{"demo-app-1", "app", "www"}, o.Aliases)
	assert.Equal(t, "02:42:0a:63:01:0a", o.MacAddress.String())
	require.Len(t, c.connect, 1)
	assert.Equal(t, netip.MustParseAddr("10.99.2.10"), c.connect[0].opts.IP)
	assert.True(t, o.IPAMConfig && c.connect[0].opts.IPAMConfig, "networks the service configures get an IPAMConfig")

	side, err := containerOf(p, p.Services["side"], 1, func(svc string) (string, error) { return "ID-of-" + svc, nil })
	require.NoError(t, err)
	assert.Equal(t, netkit.Mode{Kind: netkit.ModeContainer, Container: "ID-of-app"}, side.spec.Network)
	lone, err := containerOf(p, p.Services["lone"], 1, noService)
	require.NoError(t, err)
	assert.Equal(t, netkit.ModeNone, lone.spec.Network.Kind)

	nets, err := networksOf(p)
	require.NoError(t, err)
	back := nets[0].opts
	assert.Equal(t, "demo_back", back.Name)
	assert.True(t, back.Internal)
	assert.True(t, back.IPv6)
	assert.Equal(t, netip.MustParsePrefix("10.99.2.0/24"), back.Subnet)
	assert.Equal(t, netip.MustParsePrefix("fd00:db8:2::/64"), back.IPAM6.Subnet)
	assert.Equal(t, "back", back.Labels["tier"])
	assert.Equal(t, map[string]string{"com.docker.network.bridge.enable_icc": "false"}, back.Options)
	front := nets[1].opts
	assert.Equal(t, netip.MustParseAddr("10.99.1.254"), front.Gateway)
}

func TestContainerOfErrors(t *testing.T) {
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"unknown image", "services:\n  web: {image: nosuch}\n",
			"Error response from daemon: pull access denied for nosuch, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"},
		{"a tag labrun lacks", "services:\n  web: {image: \"httpd:2.4\"}\n",
			"Error response from daemon: pull access denied for httpd, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"},
		{"two MACs", "services:\n  web:\n    image: busybox\n    mac_address: 02:00:00:00:00:01\n    networks:\n      default: {mac_address: \"02:00:00:00:00:02\"}\n",
			"the service-level mac_address should have the same value as network default"},
		{"a DNS server that is not an address", "services:\n  web: {image: busybox, dns: [nosuch]}\n",
			`invalid DNS address: ParseAddr("nosuch"): unable to parse IP`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := project(t, tt.yaml)
			_, err := containerOf(p, p.Services["web"], 1, noService)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestExternalNetwork(t *testing.T) {
	p, _ := project(t, "services:\n  web: {image: busybox, networks: [outside]}\nnetworks:\n  outside: {external: true, name: lab}\n")
	nets, err := networksOf(p)
	require.NoError(t, err)
	require.Len(t, nets, 1)
	assert.True(t, nets[0].external)
	assert.Equal(t, "lab", nets[0].name)
	c, err := containerOf(p, p.Services["web"], 1, noService)
	require.NoError(t, err)
	assert.Equal(t, "lab", c.spec.Network.Network)
}

func TestLoadWarnings(t *testing.T) {
	// compose-go's warnings go to the command's stderr, as Compose's logger
	// prints them.
	_, stderr := project(t, "version: \"3\"\nservices:\n  web: {image: \"busybox\", command: \"echo ${NOSUCH}\"}\n")
	assert.Regexp(t, "level=warning msg=\".*the attribute `version` is obsolete", stderr)
	assert.Contains(t, stderr, `level=warning msg="The \"NOSUCH\" variable is not set. Defaulting to a blank string."`)
	// The caller's variables are interpolated.
	p, _ := project(t, "services:\n  web: {image: \"${IMG}\"}\n", "IMG=httpd")
	assert.Equal(t, "httpd", p.Services["web"].Image)
}

func TestContainerName(t *testing.T) {
	p, _ := project(t, "services:\n  web: {image: busybox, container_name: mine}\n  db: {image: busybox, scale: 2}\n")
	assert.Equal(t, "mine", containerName("demo", p.Services["web"], 1))
	assert.Equal(t, "demo-db-2", containerName("demo", p.Services["db"], 2))
}
