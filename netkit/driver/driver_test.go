package driver

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/labrun/labrun/netkit/release"
)

func TestParse(t *testing.T) {
	for name, want := range map[string]Driver{"": Bridge, "bridge": Bridge, "macvlan": Macvlan, "ipvlan": IPvlan} {
		d, ok := Parse(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, d, name)
	}
	for _, name := range []string{"overlay", "host", "null", "Macvlan"} {
		_, ok := Parse(name)
		assert.False(t, ok, name)
	}
	assert.Equal(t, "macvlan", Macvlan.String())
	assert.Equal(t, "ipvlan", IPvlan.String())
	assert.Equal(t, "bridge", Bridge.String())
}

// TestParseOptions: each option's values, the defaults, and Docker's texts
// word for word (seen on 28.5.2 and 29.8.1), in the driver's order.
func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		d        Driver
		opts     map[string]string
		internal bool
		want     Config
		err      string
	}{
		{d: Macvlan, opts: map[string]string{"parent": "eth0"}, want: Config{Driver: Macvlan, Parent: "eth0"}},
		{d: Macvlan, opts: map[string]string{"parent": "eth0", "macvlan_mode": "bridge"}, want: Config{Driver: Macvlan, Parent: "eth0"}},
		{d: Macvlan, opts: map[string]string{"parent": "eth0", "macvlan_mode": "private"}, want: Config{Driver: Macvlan, Parent: "eth0", Macvlan: MacvlanPrivate}},
		{d: Macvlan, opts: map[string]string{"parent": "eth0", "macvlan_mode": "vepa"}, want: Config{Driver: Macvlan, Parent: "eth0", Macvlan: MacvlanVEPA}},
		{d: Macvlan, opts: map[string]string{"parent": "eth0", "macvlan_mode": "passthru"}, want: Config{Driver: Macvlan, Parent: "eth0", Macvlan: MacvlanPassthru}},
		{d: Macvlan, opts: map[string]string{"parent": "eth0"}, internal: true, want: Config{Driver: Macvlan, Parent: "eth0", Internal: true}},
		{d: Macvlan, opts: map[string]string{"parent": "eth0", "ipvlan_mode": "l9", "other": "x"}, want: Config{Driver: Macvlan, Parent: "eth0"}},
		{d: Macvlan, opts: nil, want: Config{Driver: Macvlan, Internal: true}},
		{d: Macvlan, opts: map[string]string{"parent": "eth0", "macvlan_mode": "foo"},
			err: "requested macvlan mode 'foo' is not valid, 'bridge' mode is the macvlan driver default"},
		{d: Macvlan, opts: map[string]string{"parent": "lo", "macvlan_mode": "foo"},
			err: "requested macvlan mode 'foo' is not valid, 'bridge' mode is the macvlan driver default"},
		{d: Macvlan, opts: map[string]string{"parent": "lo"}, err: "loopback interface is not a valid macvlan parent link"},
		{d: IPvlan, opts: map[string]string{"parent": "eth0"}, want: Config{Driver: IPvlan, Parent: "eth0"}},
		{d: IPvlan, opts: map[string]string{"parent": "eth0", "ipvlan_mode": "l3", "ipvlan_flag": "private"},
			want: Config{Driver: IPvlan, Parent: "eth0", IPvlan: L3, Flag: FlagPrivate}},
		{d: IPvlan, opts: map[string]string{"parent": "eth0", "ipvlan_mode": "l3s", "ipvlan_flag": "vepa"},
			want: Config{Driver: IPvlan, Parent: "eth0", IPvlan: L3S, Flag: FlagVEPA}},
		{d: IPvlan, opts: map[string]string{"ipvlan_mode": "l2"}, want: Config{Driver: IPvlan, Internal: true}},
		{d: IPvlan, opts: map[string]string{"parent": "eth0", "ipvlan_mode": "l4", "ipvlan_flag": "nope"},
			err: "requested ipvlan mode 'l4' is not valid, 'l2' mode is the ipvlan driver default"},
		{d: IPvlan, opts: map[string]string{"parent": "eth0", "ipvlan_flag": "nope"},
			err: "requested ipvlan flag 'nope' is not valid, 'bridge' is the ipvlan driver default"},
		{d: IPvlan, opts: map[string]string{"parent": "lo"}, err: "loopback interface is not a valid ipvlan parent link"},
	} {
		got, err := ParseOptions(tc.d, tc.opts, tc.internal)
		if tc.err != "" {
			assert.EqualError(t, err, tc.err, "%v", tc.opts)
			assert.ErrorIs(t, err, ErrInvalid)
			continue
		}
		assert.NoError(t, err, "%v", tc.opts)
		assert.Equal(t, tc.want, got, "%v", tc.opts)
	}
	_, err := ParseOptions(Bridge, nil, false)
	assert.Error(t, err, "the bridge is not this package's")
}

func TestNames(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	assert.Equal(t, "dm-0123456789ab", DummyName(Macvlan, id))
	assert.Equal(t, "di-0123456789ab", DummyName(IPvlan, id))
	assert.Equal(t, "dm-0123456789ab", Config{Driver: Macvlan}.ParentLink(id))
	assert.Equal(t, "eth0.50", Config{Driver: Macvlan, Parent: "eth0.50"}.ParentLink(id))
	assert.Equal(t, "macvlan mode bridge", "macvlan mode "+MacvlanBridge.String())
	assert.Equal(t, []string{"bridge", "private", "vepa", "passthru"},
		[]string{MacvlanBridge.String(), MacvlanPrivate.String(), MacvlanVEPA.String(), MacvlanPassthru.String()})
	assert.Equal(t, []string{"l2", "l3", "l3s"}, []string{L2.String(), L3.String(), L3S.String()})
	assert.Equal(t, []string{"bridge", "private", "vepa"}, []string{FlagBridge.String(), FlagPrivate.String(), FlagVEPA.String()})
}

// TestEndpointError: ipvlan refuses --mac-address (seen on 28.5.2 and
// 29.8.1, at docker run's start); macvlan takes it.
func TestEndpointError(t *testing.T) {
	iv := &Network{Config: Config{Driver: IPvlan}}
	assert.EqualError(t, iv.EndpointError("mm", "iv", true),
		"failed to create endpoint mm on network iv: ipvlan interfaces do not support custom mac address assignment")
	assert.NoError(t, iv.EndpointError("mm", "iv", false))
	assert.NoError(t, (&Network{Config: Config{Driver: Macvlan}}).EndpointError("mm", "mv", true))
	var bridge *Network
	assert.NoError(t, bridge.EndpointError("mm", "br", true))
}

// TestSkipGateway: which releases reserve a gateway the user did not give
// (facts checked on 28.5.2 and 29.8.1: 28 reserves .1 on a macvlan
// network with a parent, not on an --internal one; 29 never).
func TestSkipGateway(t *testing.T) {
	r27, r28, r29 := release.Release{Era: release.Era27}, release.Release{Era: release.Era28}, release.Release{Era: release.Era29}
	mv := Config{Driver: Macvlan, Parent: "eth0"}
	mvInternal := Config{Driver: Macvlan, Parent: "eth0", Internal: true}
	mvNoParent, _ := ParseOptions(Macvlan, nil, false)
	l2 := Config{Driver: IPvlan, Parent: "eth0"}
	l3 := Config{Driver: IPvlan, Parent: "eth0", IPvlan: L3}
	l3s := Config{Driver: IPvlan, Parent: "eth0", IPvlan: L3S}
	for _, tc := range []struct {
		r    release.Release
		cfg  Config
		want bool
	}{
		{r27, mv, false}, {r27, mvInternal, false}, {r27, mvNoParent, false}, {r27, l3, false},
		{r28, mv, false}, {r28, mvInternal, true}, {r28, mvNoParent, true}, {r28, l2, false}, {r28, l3, true}, {r28, l3s, true},
		{r29, mv, true}, {r29, mvInternal, true}, {r29, l2, true}, {r29, l3, true},
	} {
		assert.Equal(t, tc.want, SkipGateway(tc.r, tc.cfg), "%s %+v", tc.r.Era, tc.cfg)
	}
	assert.True(t, OptionsFirst(r28))
	assert.False(t, OptionsFirst(r27))
	assert.False(t, OptionsFirst(r29))
}

// TestRoute: the default route a container gets.
func TestRoute(t *testing.T) {
	gw := netip.MustParseAddr("192.168.190.2")
	for _, tc := range []struct {
		cfg  Config
		gw   netip.Addr
		want Route
	}{
		{Config{Driver: Macvlan, Parent: "eth0"}, gw, Route{Via: gw}},
		{Config{Driver: Macvlan, Parent: "eth0"}, netip.Addr{}, Route{}},
		{Config{Driver: Macvlan, Parent: "eth0", Internal: true}, gw, Route{}},
		{Config{Driver: IPvlan, Parent: "eth0"}, gw, Route{Via: gw}},
		{Config{Driver: IPvlan, Parent: "eth0", IPvlan: L3}, gw, Route{Dev: true}},
		{Config{Driver: IPvlan, Parent: "eth0", IPvlan: L3S}, netip.Addr{}, Route{Dev: true}},
		{Config{Driver: IPvlan, Parent: "eth0", IPvlan: L3, Internal: true}, gw, Route{}},
	} {
		assert.Equal(t, tc.want, tc.cfg.Route(tc.gw), "%+v via %s", tc.cfg, tc.gw)
	}
}

// links is a fake host: the links that exist.
type links map[string]bool

func (l links) exists(name string) bool { return l[name] }

// TestPlan: what creating a network does about its parent, and Docker's
// refusals (texts seen on 28.5.2 and 29.8.1).
func TestPlan(t *testing.T) {
	host := links{"eth0": true, "eth1.7": true}
	id := "aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111"
	old := "bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222"
	mv := func(parent string, mode MacvlanMode) Config {
		return Config{Driver: Macvlan, Parent: parent, Macvlan: mode}
	}
	for _, tc := range []struct {
		name   string
		cfg    Config
		others []*Network
		want   Plan
		err    string
		kind   error
	}{
		{name: "existing parent", cfg: mv("eth0", MacvlanBridge), want: Plan{Parent: "eth0"}},
		{name: "an existing dotted parent is used, not made", cfg: mv("eth1.7", MacvlanBridge), want: Plan{Parent: "eth1.7"}},
		{name: "vlan parent", cfg: mv("eth0.50", MacvlanBridge), want: Plan{Parent: "eth0.50", Make: MakeVLAN, Lower: "eth0", VID: 50, Created: true}},
		{name: "no parent", cfg: Config{Driver: Macvlan, Internal: true}, want: Plan{Parent: "dm-aaaaaaaaaaaa", Make: MakeDummy, Created: true}},
		{name: "ipvlan no parent", cfg: Config{Driver: IPvlan, Internal: true}, want: Plan{Parent: "di-aaaaaaaaaaaa", Make: MakeDummy, Created: true}},
		{name: "missing, no dot", cfg: mv("eth9", MacvlanBridge), err: "invalid subinterface vlan name eth9, example formatting is eth0.10", kind: ErrInvalid},
		{name: "missing lower", cfg: mv("eth9.50", MacvlanBridge), err: "-o parent interface was not found on the host: eth9", kind: ErrInvalid},
		{name: "vlan id too big", cfg: mv("eth0.5000", MacvlanBridge), err: "vlan id must be between 1-4094, received: 5000", kind: ErrInvalid},
		{name: "vlan id 0", cfg: mv("eth0.0", MacvlanBridge), err: "vlan id must be between 1-4094, received: 0", kind: ErrInvalid},
		{name: "the lower is checked before the id", cfg: mv("eth9.5000", MacvlanBridge), err: "-o parent interface was not found on the host: eth9", kind: ErrInvalid},
		{name: "two dots", cfg: mv("a.b.c", MacvlanBridge), err: "required interface name format is: name.vlan_id, ex. eth0.10 for vlan 10, instead received a.b.c", kind: ErrInvalid},
		{name: "bad id", cfg: mv("eth0.x", MacvlanBridge), err: "unable to parse a valid vlan id from: x (ex. eth0.10 for vlan 10)", kind: ErrInvalid},
		{name: "macvlan networks share a parent", cfg: mv("eth0", MacvlanBridge),
			others: []*Network{{ID: old, Config: mv("eth0", MacvlanPrivate), Parent: "eth0"}}, want: Plan{Parent: "eth0"}},
		{name: "passthru wants it alone", cfg: mv("eth0", MacvlanPassthru),
			others: []*Network{{ID: old, Config: mv("eth0", MacvlanBridge), Parent: "eth0"}},
			err:    "cannot use mode passthru, macvlan network " + old + " is already using parent interface eth0", kind: ErrConflict},
		{name: "and keeps it", cfg: mv("eth0", MacvlanBridge),
			others: []*Network{{ID: old, Config: mv("eth0", MacvlanPassthru), Parent: "eth0"}},
			err:    "macvlan network " + old + " is already using parent interface eth0 in mode passthru", kind: ErrConflict},
		{name: "passthru on another parent", cfg: mv("eth0", MacvlanPassthru),
			others: []*Network{{ID: old, Config: mv("eth1.7", MacvlanBridge), Parent: "eth1.7"}}, want: Plan{Parent: "eth0"}},
		{name: "one ipvlan network per parent, named by its dummy", cfg: Config{Driver: IPvlan, Parent: "eth0"},
			others: []*Network{{ID: old, Config: Config{Driver: IPvlan, Parent: "eth0"}, Parent: "eth0"}},
			err:    "network di-bbbbbbbbbbbb is already using parent interface eth0", kind: ErrConflict},
		{name: "ipvlan beside macvlan", cfg: Config{Driver: IPvlan, Parent: "eth0"},
			others: []*Network{{ID: old, Config: mv("eth0", MacvlanPassthru), Parent: "eth0"}}, want: Plan{Parent: "eth0"}},
		{name: "a made parent is shared by macvlan networks", cfg: mv("eth1.7", MacvlanBridge),
			others: []*Network{{ID: old, Config: mv("eth1.7", MacvlanBridge), Parent: "eth1.7", CreatedParent: true}},
			want:   Plan{Parent: "eth1.7", Created: true}},
	} {
		got, err := plan(id, tc.cfg, tc.others, host.exists)
		if tc.err != "" {
			assert.EqualError(t, err, tc.err, tc.name)
			assert.ErrorIs(t, err, tc.kind, tc.name)
			continue
		}
		if assert.NoError(t, err, tc.name) {
			assert.Equal(t, tc.want, got, tc.name)
		}
	}
}

// TestRemovesParent: only a parent the driver made, and for macvlan with
// its last network.
func TestRemovesParent(t *testing.T) {
	mine := &Network{ID: "a", Config: Config{Driver: Macvlan, Parent: "eth0.50"}, Parent: "eth0.50", CreatedParent: true}
	sharer := &Network{ID: "b", Config: Config{Driver: Macvlan, Parent: "eth0.50"}, Parent: "eth0.50", CreatedParent: true}
	given := &Network{ID: "c", Config: Config{Driver: Macvlan, Parent: "eth0"}, Parent: "eth0"}
	iv := &Network{ID: "d", Config: Config{Driver: IPvlan, Parent: "eth0.60"}, Parent: "eth0.60", CreatedParent: true}
	ivMac := &Network{ID: "e", Config: Config{Driver: Macvlan, Parent: "eth0.60"}, Parent: "eth0.60", CreatedParent: false}
	assert.True(t, removesParent(mine, []*Network{mine, given}, true))
	assert.False(t, removesParent(mine, []*Network{mine, sharer}, true), "another network uses it")
	assert.False(t, removesParent(mine, []*Network{mine}, false), "gone already")
	assert.False(t, removesParent(given, []*Network{given}, true), "not the driver's")
	assert.True(t, removesParent(iv, []*Network{iv, ivMac}, true), "ipvlan counts only itself")
}

func TestErrors(t *testing.T) {
	err := errorf(ErrConflict, "x %d", 1)
	assert.True(t, errors.Is(err, ErrConflict))
	assert.False(t, errors.Is(err, ErrInvalid))
	assert.EqualError(t, err, "x 1")
}
