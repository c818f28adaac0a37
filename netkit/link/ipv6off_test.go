package link

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostIPv6Off: the host's default disable_ipv6 is 1 while any creation
// is under way, and back at its value when the last one ends.
func TestHostIPv6Off(t *testing.T) {
	ns, _ := testNS(t)
	const key = "net/ipv6/conf/default/disable_ipv6"
	before, err := ns.ReadSysctl(key)
	if err != nil {
		t.Skipf("skipping: no IPv6 here: %v", err)
	}
	h := NewHostIPv6Off(ns)
	defer h.Close()
	read := func() string {
		t.Helper()
		v, err := ns.ReadSysctl(key)
		require.NoError(t, err)
		return v
	}
	r1, err := h.Off()
	require.NoError(t, err)
	r2, err := h.Off()
	require.NoError(t, err)
	assert.Equal(t, "1", read(), "default during two creations")
	require.NoError(t, r1())
	assert.Equal(t, "1", read(), "default while one creation is left")
	require.NoError(t, r2())
	assert.Equal(t, before, read(), "default after the last creation")
}
