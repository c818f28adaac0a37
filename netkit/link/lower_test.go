package link

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
)

// lowerNS returns a fresh namespace with a veth pair va/vb to hang links on.
func lowerNS(t *testing.T) (*netlink.Handle, netlink.Link) {
	_, h := testNS(t)
	require.NoError(t, h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "va"}, PeerName: "vb"}))
	va, err := h.LinkByName("va")
	require.NoError(t, err)
	return h, va
}

// TestSupported: the probe agrees, for each kind, with an attempt to make
// a real link of that kind, and leaves no link behind either way. (On
// this project's kernel macvlan is there and ipvlan, vlan and dummy are
// not; elsewhere all may be.)
func TestSupported(t *testing.T) {
	h, va := lowerNS(t)
	before, err := h.LinkList()
	require.NoError(t, err)
	for _, kind := range []string{KindMacvlan, KindIPvlan, KindVLAN, KindDummy, "nosuchkind"} {
		got, err := Supported(h, kind)
		require.NoError(t, err, kind)
		after, err := h.LinkList()
		require.NoError(t, err)
		assert.Len(t, after, len(before), "%s: the probe left a link", kind)

		var real netlink.Link
		attrs := netlink.LinkAttrs{Name: "real", ParentIndex: va.Attrs().Index}
		switch kind {
		case KindVLAN:
			real = &netlink.Vlan{LinkAttrs: attrs, VlanId: 5}
		case KindIPvlan:
			real = &netlink.IPVlan{LinkAttrs: attrs}
		case KindDummy:
			real = &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "real"}}
		default:
			real = &netlink.GenericLink{LinkAttrs: attrs, LinkType: kind}
		}
		aerr := h.LinkAdd(real)
		if aerr == nil {
			l, err := h.LinkByName("real")
			require.NoError(t, err)
			require.NoError(t, h.LinkDel(l))
		}
		assert.Equal(t, !errors.Is(aerr, syscall.EOPNOTSUPP), got, "%s: Supported says %v, making one says %v", kind, got, aerr)
		t.Logf("%s: supported %v", kind, got)
	}
	assert.True(t, must(Supported(h, KindMacvlan)), "macvlan is what labrun's macvlan networks need")
	assert.False(t, must(Supported(h, "nosuchkind")))
}

func must(ok bool, err error) bool {
	if err != nil {
		panic(err)
	}
	return ok
}

// TestAddChild: a macvlan child of va, down, with its mode and MAC.
func TestAddChild(t *testing.T) {
	h, va := lowerNS(t)
	mac := net.HardwareAddr{0x02, 0x42, 0xc0, 0xa8, 0xbe, 0xc8}
	require.NoError(t, AddChild(h, Child{Name: "vethabc1234", Parent: va.Attrs().Index, MAC: mac, Macvlan: netlink.MACVLAN_MODE_PRIVATE}))
	l, err := h.LinkByName("vethabc1234")
	require.NoError(t, err)
	mv, ok := l.(*netlink.Macvlan)
	require.True(t, ok, "a %s", l.Type())
	assert.Equal(t, netlink.MACVLAN_MODE_PRIVATE, mv.Mode)
	assert.Equal(t, mac, mv.HardwareAddr)
	assert.Equal(t, va.Attrs().Index, mv.ParentIndex)
	assert.Zero(t, mv.Flags&net.FlagUp, "made down")

	// Its parent must exist.
	assert.Error(t, AddChild(h, Child{Name: "vethabc1235", Parent: 99999}))
}

// TestAddVLANDummy: where the kernel has the types, the links are made
// and up; where it has not, the kernel's "operation not supported" comes
// back and nothing is made.
func TestAddVLANDummy(t *testing.T) {
	h, va := lowerNS(t)
	for _, tc := range []struct {
		kind string
		add  func() error
		name string
	}{
		{KindVLAN, func() error { return AddVLAN(h, "va.50", va.Attrs().Index, 50) }, "va.50"},
		{KindDummy, func() error { return AddDummy(h, "dm-0123456789ab") }, "dm-0123456789ab"},
	} {
		ok, err := Supported(h, tc.kind)
		require.NoError(t, err)
		err = tc.add()
		l, lerr := h.LinkByName(tc.name)
		if !ok {
			assert.ErrorIs(t, err, syscall.EOPNOTSUPP, tc.kind)
			assert.Error(t, lerr, "%s: nothing made", tc.kind)
			continue
		}
		require.NoError(t, err, tc.kind)
		require.NoError(t, lerr)
		assert.Equal(t, tc.kind, l.Type())
		assert.NotZero(t, l.Attrs().Flags&net.FlagUp, "%s up", tc.name)
	}
}
