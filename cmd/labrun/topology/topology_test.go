package topology

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// sampleTopology is the article's classroom with one published container.
func sampleTopology() *Topology {
	return &Topology{
		Lab: "demo",
		Nodes: []TNode{
			{Name: "client", Kind: "world", Ifaces: []TIface{{Name: "eth0", Kind: "veth", Up: true, Addrs: []string{"192.168.190.1/24"}}}},
			{Name: "host", Kind: "world", Ifaces: []TIface{
				{Name: "docker0", Kind: "bridge", Up: true, Addrs: []string{"172.17.0.1/16"}},
				{Name: "eth0", Kind: "veth", Up: true, Addrs: []string{"192.168.190.128/24"}},
				{Name: "veth1", Kind: "veth", Up: true, Master: "docker0"},
			}},
			{Name: "web", Kind: "container", Ifaces: []TIface{{Name: "eth0", Kind: "veth", Up: true, Addrs: []string{"172.17.0.2/16"}}}},
			{Name: "switch", Kind: "switch", Ifaces: []TIface{{Name: "lan", Kind: "bridge", Up: true}, {Name: "p-client", Kind: "veth", Master: "lan", Up: true}, {Name: "p-host", Kind: "veth", Master: "lan", Up: true}}},
			{Name: "side", Kind: "container", Shares: "web"},
		},
		Links: []TLink{
			{A: TEnd{"client", "eth0"}, B: TEnd{"switch", "p-client"}},
			{A: TEnd{"host", "eth0"}, B: TEnd{"switch", "p-host"}},
			{A: TEnd{"host", "veth1"}, B: TEnd{"web", "eth0"}},
		},
		Networks: []TNetwork{{Name: "bridge", Bridge: "docker0", Subnet: "172.17.0.0/16", Gateway: "172.17.0.1", Masquerade: true}},
		Ports:    []TPort{{HostIP: "0.0.0.0", HostPort: 801, Container: "web", Port: "80/tcp"}},
	}
}

func TestMermaid(t *testing.T) {
	m := Mermaid(sampleTopology())
	for _, want := range []string{
		"flowchart TB\n",
		`  subgraph n_host["host"]`,
		`    n_host__docker0[["bridge (docker0)<br/>172.17.0.1/16<br/>MASQUERADE 172.17.0.0/16 on the way out"]]`,
		`    n_switch__lan[["lan (bridge)"]]`,
		`    n_web__eth0["eth0<br/>172.17.0.2/16"]`,
		"  n_host__veth1 ---|veth| n_web__eth0\n",
		"  n_host__veth1 -.- n_host__docker0\n",
		"  n_side -.-|shares| n_web\n",
		`  n_host ==>|"DNAT 0.0.0.0:801->80/tcp"| n_web`,
	} {
		assert.Contains(t, m, want, "Mermaid lacks")
	}
}

func TestSVG(t *testing.T) {
	s := SVG(sampleTopology())
	// Well-formed XML, with every node and address drawn.
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("SVG is not well-formed XML: %v\n%s", err, s)
			}
			break
		}
	}
	for _, want := range []string{"<svg ", ">host<", ">container web<", "172.17.0.2/16", "veth1  → docker0", "published 0.0.0.0:801-&gt;80/tcp (DNAT on host)", "shares the network of web",
		"bridge (docker0)  172.17.0.1/16", "MASQUERADE 172.17.0.0/16 on the way out", "lan [bridge]", "<title>veth host:veth1 - web:eth0</title>"} {
		assert.Contains(t, s, want, "SVG lacks")
	}
}

// TestGroupAndHighlight: containers are drawn inside their network's
// subgraph, and a failed check's nodes (by name or address) in red.
func TestGroupAndHighlight(t *testing.T) {
	top := sampleTopology()
	m := Mermaid(top)
	assert.Contains(t, m, "  subgraph n_net__bridge[\"network bridge (docker0) 172.17.0.0/16\"]\n  subgraph n_web[\"container web\"]\n")
	assert.NotContains(t, m, "stroke:#d00")

	top.HighlightIn("> reach client 172.17.0.2:80\n[stderr]\ndial tcp 172.17.0.2:80: connection refused\n")
	assert.Equal(t, []string{"client", "web"}, top.Highlight)
	m = Mermaid(top)
	assert.Contains(t, m, "  style n_client stroke:#d00,stroke-width:3px\n")
	assert.Contains(t, m, "  style n_web stroke:#d00,stroke-width:3px\n")
	assert.NotContains(t, m, "style n_host ")
	assert.Equal(t, 2, strings.Count(SVG(top), `stroke="#d00"`))
}
