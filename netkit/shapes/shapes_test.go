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
