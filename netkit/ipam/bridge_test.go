package ipam

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultBridgeConf(t *testing.T) {
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	pick := func() (netip.Prefix, error) { return p("172.17.0.0/16"), nil }
	for _, tc := range []struct {
		name string
		f    BridgeFlags
		want BridgeConf
	}{
		{"pools", BridgeFlags{}, BridgeConf{Subnet: p("172.17.0.0/16"), Gateway: a("172.17.0.1")}},
		{"bip", BridgeFlags{BIP: p("10.55.0.1/24")}, BridgeConf{Subnet: p("10.55.0.0/24"), Gateway: a("10.55.0.1"), Static: true}},
		// daemon_bip_gateway: --default-gateway is an auxiliary address.
		{"bip-gateway", BridgeFlags{BIP: p("10.55.0.1/24"), DefaultGateway: a("10.55.0.254")},
			BridgeConf{Subnet: p("10.55.0.0/24"), Gateway: a("10.55.0.1"), DefaultGW: a("10.55.0.254"), Static: true}},
		// daemon_fixedcidr: the subnet is --fixed-cidr's, and the
		// request names no gateway.
		{"fixed-cidr", BridgeFlags{FixedCIDR: p("172.17.5.0/24")},
			BridgeConf{Subnet: p("172.17.5.0/24"), Gateway: a("172.17.5.1"), IPRange: p("172.17.5.0/24"), Static: true, NoGateway: true}},
		{"bip-fixed-cidr", BridgeFlags{BIP: p("10.55.0.1/24"), FixedCIDR: p("10.55.0.128/25")},
			BridgeConf{Subnet: p("10.55.0.0/24"), Gateway: a("10.55.0.1"), IPRange: p("10.55.0.128/25"), Static: true}},
		// daemon_bridge_br0: an existing bridge's address.
		{"existing", BridgeFlags{Have: p("10.66.0.1/24")}, BridgeConf{Subnet: p("10.66.0.0/24"), Gateway: a("10.66.0.1"), Static: true}},
	} {
		got, err := DefaultBridge(tc.f, pick)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
	_, err := DefaultBridge(BridgeFlags{BIP: p("10.55.0.1/24"), FixedCIDR: p("10.56.0.0/24")}, pick)
	assert.EqualError(t, err, "fixed-cidr 10.56.0.0/24 is not within the bridge subnet 10.55.0.0/24")
	_, err = DefaultBridge(BridgeFlags{BIP: p("10.55.0.1/24"), DefaultGateway: a("10.56.0.1")}, pick)
	assert.EqualError(t, err, "default gateway 10.56.0.1 is not within the bridge subnet 10.55.0.0/24")
	_, err = DefaultBridge(BridgeFlags{}, func() (netip.Prefix, error) { return netip.Prefix{}, ErrPoolsExhausted })
	assert.True(t, errors.Is(err, ErrPoolsExhausted), "pick's error")
}

// TestEndpointIPError: the daemon's texts for --ip (fidelity case
// net_run_ip_default_bridge).
func TestEndpointIPError(t *testing.T) {
	sub, ip := netip.MustParsePrefix("10.99.1.0/24"), netip.MustParseAddr("10.99.1.50")
	assert.NoError(t, EndpointIPError(false, true, sub, ip, ""), "user subnet, address in it")
	assert.EqualError(t, EndpointIPError(true, false, sub, ip, ""), "invalid endpoint settings:\n"+
		"* user specified IP address is supported on user defined networks only\n"+
		"* user specified IP address is supported only when connecting to networks with user configured subnets")
	assert.EqualError(t, EndpointIPError(true, true, sub, ip, ""), "invalid endpoint settings:\n"+
		"user specified IP address is supported on user defined networks only")
	assert.EqualError(t, EndpointIPError(false, false, sub, ip, ""), "invalid endpoint settings:\n"+
		"user specified IP address is supported only when connecting to networks with user configured subnets")
	assert.EqualError(t, EndpointIPError(false, true, sub, netip.MustParseAddr("10.98.0.1"), ""), "invalid endpoint settings:\n"+
		"no configured subnet or ip-range contain the IP address 10.98.0.1")
}

// TestEndpointIPError29: Docker 29.8's texts, one reason on the default
// bridge, none for a user network without a configured subnet.
func TestEndpointIPError29(t *testing.T) {
	sub, ip := netip.MustParsePrefix("172.17.0.0/16"), netip.MustParseAddr("172.17.0.50")
	assert.EqualError(t, EndpointIPError29(true, sub, ip, ""), "invalid endpoint settings:\n"+
		"user-specified IP address is supported on user-defined networks only")
	assert.NoError(t, EndpointIPError29(false, sub, ip, ""))
	assert.EqualError(t, EndpointIPError29(false, sub, netip.MustParseAddr("10.0.0.1"), ""), "invalid endpoint settings:\n"+
		"no configured subnet contains IP address 10.0.0.1")
}

// TestEndpointAliasError: network connect --alias on the default bridge,
// alone and with --ip, in the daemon's order (seen on 28.5.2 and 29.8.1).
func TestEndpointAliasError(t *testing.T) {
	sub, ip := netip.MustParsePrefix("172.17.0.0/16"), netip.MustParseAddr("172.17.0.50")
	assert.EqualError(t, EndpointIPError(true, false, sub, netip.Addr{}, AliasOnPredefined), "invalid endpoint settings:\n"+
		"network-scoped alias is supported only for containers in user defined networks")
	assert.EqualError(t, EndpointIPError(true, false, sub, ip, AliasOnPredefined), "invalid endpoint settings:\n"+
		"* user specified IP address is supported on user defined networks only\n"+
		"* network-scoped alias is supported only for containers in user defined networks\n"+
		"* user specified IP address is supported only when connecting to networks with user configured subnets")
	assert.EqualError(t, EndpointIPError29(true, sub, ip, AliasOnPredefined29), "invalid endpoint settings:\n"+
		"* user-specified IP address is supported on user-defined networks only\n"+
		"* network-scoped aliases are only supported for user-defined networks")
	assert.NoError(t, EndpointIPError(false, false, sub, netip.Addr{}, ""), "no address, no alias")
	assert.NoError(t, EndpointIPError29(false, sub, netip.Addr{}, ""), "no address, no alias")
}

// TestConnectErrorV1: before API 1.44, network connect gives one reason,
// the first that applies.
func TestConnectErrorV1(t *testing.T) {
	sub, in, out := netip.MustParsePrefix("10.99.1.0/24"), netip.MustParseAddr("10.99.1.50"), netip.MustParseAddr("10.99.2.50")
	none := netip.Addr{}
	for _, c := range []struct {
		predefined, user bool
		ip               netip.Addr
		aliases          bool
		want             string
	}{
		{true, false, in, true, "user specified IP address is supported on user defined networks only"},
		{true, false, none, true, AliasOnPredefined},
		{false, false, in, false, "user specified IP address is supported only when connecting to networks with user configured subnets"},
		{false, true, out, false, "no configured subnet or ip-range contain the IP address 10.99.2.50"},
	} {
		assert.EqualError(t, ConnectErrorV1(c.predefined, c.user, sub, c.ip, c.aliases), c.want)
	}
	assert.NoError(t, ConnectErrorV1(false, true, sub, in, true))
	assert.NoError(t, ConnectErrorV1(true, false, sub, none, false))
}
