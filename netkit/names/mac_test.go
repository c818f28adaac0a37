package names

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestMACs: 02:42 and the address (or four random bytes) before 28, a
// random locally administered unicast address since.
func TestMACs(t *testing.T) {
	a := netip.MustParseAddr("172.17.0.2")
	assert.Equal(t, "02:42:ac:11:00:02", ContainerMAC(a, false).String())
	for _, mac := range [][]byte{ContainerMAC(a, true), BridgeMAC(true), BridgeMAC(false)} {
		assert.Equal(t, byte(0x02), mac[0]&0x03, "%x: locally administered unicast", mac)
	}
	assert.Equal(t, []byte{0x02, 0x42}, []byte(BridgeMAC(false)[:2]))
}
