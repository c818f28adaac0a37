package topology

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/checks/trace"
)

// sampleRecord is the trace of the client's connection to 801, as trace
// -json gives it (abridged).
func sampleRecord() trace.Record {
	step := func(hop int, node string, kind trace.StepKind, text, iface string) trace.Step {
		return trace.Step{Hop: hop, Node: node, Kind: kind, Text: text, Iface: iface}
	}
	return trace.Record{From: "client", Target: "192.168.190.128:801", Answer: "connected", Walk: &trace.Walk{
		End:   trace.EndDelivered,
		Nodes: []string{"client", "host", "web"},
		Steps: []trace.Step{
			step(1, "client", trace.StepSend, "sends tcp 192.168.190.1:40000 > 192.168.190.128:801 SYN", ""),
			step(1, "client", trace.StepLeave, "leaves by eth0 to host", "eth0"),
			step(2, "host", trace.StepArrive, "arrives on eth0 from client", "eth0"),
			step(2, "host", trace.StepRewrite, "DNAT 192.168.190.128:801 -> 172.17.0.2:80", ""),
			step(2, "host", trace.StepLeave, "leaves by docker0 port veth1 to web", "veth1"),
			step(3, "web", trace.StepArrive, "arrives on eth0 from host", "eth0"),
			step(3, "web", trace.StepEnd, "delivered to web (172.17.0.2:80, httpd listening)", ""),
		},
	}}
}

func TestWalkMermaid(t *testing.T) {
	top := sampleTopology()
	top.SetWalk(sampleRecord())
	m := Mermaid(top)
	for _, want := range []string{
		"  %% trace client -> 192.168.190.128:801: connected\n",
		`  n_client -->|"1: eth0"| n_host` + "\n",
		`  n_host -->|"2: veth1; DNAT 192.168.190.128:801 -> 172.17.0.2:80"| n_web` + "\n",
		`  n_trace__end["3: delivered to web (172.17.0.2:80, httpd listening)"]` + "\n",
		"  n_web -.-> n_trace__end\n",
		"  style n_host stroke:#c60,stroke-width:3px\n",
	} {
		assert.Contains(t, m, want)
	}
	assert.Equal(t, []THop{
		{N: 1, Node: "client", Out: "eth0"},
		{N: 2, Node: "host", In: "eth0", Out: "veth1", Notes: []string{"DNAT 192.168.190.128:801 -> 172.17.0.2:80"}},
		{N: 3, Node: "web", In: "eth0"},
	}, top.Walk.Hops)
	// Without a walk, nothing of it.
	assert.NotContains(t, Mermaid(sampleTopology()), "trace")
}

func TestWalkSVG(t *testing.T) {
	top := sampleTopology()
	rec := sampleRecord()
	rec.Answer, rec.Failure = "", "timed out after 1s"
	rec.Walk.End = trace.EndDropped
	top.SetWalk(rec)
	s := SVG(top)
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the SVG is not well-formed XML")
	}
	assert.Contains(t, s, `marker-end="url(#trace-arrow)"`)
	assert.Contains(t, s, "2 host: in eth0; out veth1; DNAT 192.168.190.128:801 -&gt; 172.17.0.2:80")
	assert.Contains(t, s, "trace client -&gt; 192.168.190.128:801: timed out after 1s")
	assert.Contains(t, s, `fill="#d00">delivered to web`)
	assert.Equal(t, 2, strings.Count(s, "<circle "), "a number on each of the two arrows")
}
