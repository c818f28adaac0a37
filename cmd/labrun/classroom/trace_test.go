package classroom

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/testkit"
)

func TestFailedConnection(t *testing.T) {
	for ev, want := range map[string][]string{
		"> http client http://192.168.190.128:801/\n[stderr]\n...": {"client", "http://192.168.190.128:801/"},
		"> ! reach -timeout 2s web 203.0.113.10:80":                {"web", "203.0.113.10:80"},
		"> [!compat:29] ping client 172.17.0.2":                    {"client", "ping", "172.17.0.2"},
		"> ssh -password x client root@192.168.190.128:10111 id":   {"client", "192.168.190.128:10111"},
		"> ssh client 192.168.190.128 hostname":                    {"client", "192.168.190.128:22"},
		"> reach -udp client 192.168.190.128:53":                   nil,
		"> reach -all":                                             nil,
		"> docker port web":                                        nil,
		"no command":                                               nil,
	} {
		assert.Equal(t, want, failedConnection(ev), "%q", ev)
	}
}

// TestCheckTrace: a check marked "# trace" that fails at a connection
// carries the connection's walk in its evidence; here the port is not
// published, and the walk ends at the host's own reset.
func TestCheckTrace(t *testing.T) {
	testkit.RequireLab(t)
	x, err := parseExercise("dir/traced.txt", []byte(`docker run -d --name web httpd

# checks

# check: The client reaches web on 801.
# hint: Publish it: -p 801:80.
# trace
http client http://192.168.190.128:801/

# check: The same, without the trace.
# hint: Publish it.
http client http://192.168.190.128:801/

-- task.txt --
Publish web.
`))
	require.NoError(t, err)
	r := RunAnswer(x, nil, false)
	require.Len(t, r.Results, 2)
	ev := r.Results[0].Evidence
	assert.Contains(t, ev, "> trace client http://192.168.190.128:801/\n")
	assert.Contains(t, ev, "host: route local 192.168.190.128\n")
	assert.Contains(t, ev, "refused (RST from host 192.168.190.128:801, nothing listening)")
	assert.NotContains(t, r.Results[1].Evidence, "trace", "a check without # trace")
	assert.False(t, strings.Contains(ev, "labrun-trace"), "the trace's tables named in the evidence")
}
