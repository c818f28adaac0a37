package shapes

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShapes(t *testing.T) {
	assert.Equal(t, []string{"SandboxID", "SandboxKey", "Ports", "Networks"}, NetworkSettingsKeys(V29))
	assert.Contains(t, NetworkSettingsKeys(V29-1), "Bridge")
	assert.NotContains(t, EndpointKeys(ShortIDAlias), "DNSNames", "API 1.43 endpoints have no DNSNames")
	assert.Contains(t, EndpointKeys(GwPriority), "GwPriority")
	net29 := NetworkKeys(V29)
	assert.Equal(t, "Status", net29[len(net29)-1])
	assert.NotContains(t, ForClient(net29, V29-2), "Status", "a 1.50 client gets no Status")
	assert.Contains(t, ForClient(net29, V29), "Status")
}

func TestOrdered(t *testing.T) {
	b, err := Ordered([]string{"b", "a", "c"}, map[string]any{"a": 1, "b": "x"})
	require.NoError(t, err)
	assert.Equal(t, `{"b":"x","a":1,"c":null}`, string(b))
}

// TestLegacyMacAddress: Docker 29 answers a client before API 1.52 in the
// sorted legacy shape when it adds Config.MacAddress, even without a
// "bridge" endpoint (seen on 29.8.1: --mac-address on a user network).
func TestLegacyMacAddress(t *testing.T) {
	j := ContainerJSON{API: V29, Client: V29 - 2, Config: ContainerConfig{Hostname: "h", MacAddress: "02:42:0a:63:01:50"},
		NetworkSettings: NetworkSettings{API: V29, Networks: map[string]*EndpointSettings{"net": {API: V29}}}}
	b, err := j.MarshalJSON()
	require.NoError(t, err)
	assert.Contains(t, string(b), `"Config":{"Cmd":null,"Domainname":"","Hostname":"h","Image":"","MacAddress":"02:42:0a:63:01:50","User":""}`)
	assert.Contains(t, string(b), `"NetworkSettings":{"Networks":{"net":{"Aliases":null,`)
	j.Config.MacAddress = ""
	b, err = j.MarshalJSON()
	require.NoError(t, err)
	assert.Contains(t, string(b), `"NetworkSettings":{"SandboxID":"","SandboxKey":"",`, "the engine's own order")
}
