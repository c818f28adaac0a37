package ipam

import (
	"fmt"
	"net/netip"
)

// BridgeFlags are what sets the default bridge's addresses: dockerd's
// flags and the address the bridge already has.
type BridgeFlags struct {
	BIP            netip.Prefix // --bip
	FixedCIDR      netip.Prefix // --fixed-cidr
	DefaultGateway netip.Addr   // --default-gateway
	// Have is the bridge's first IPv4 address, if it exists and has one.
	Have netip.Prefix
}

// BridgeConf is the default bridge network's IPAM configuration.
type BridgeConf struct {
	Subnet    netip.Prefix
	Gateway   netip.Addr
	IPRange   netip.Prefix // --fixed-cidr, masked
	DefaultGW netip.Addr   // --default-gateway
	// Static: the subnet was given (--bip, --fixed-cidr, or the bridge's
	// address), not picked from the default pools: libnetwork's
	// IpamConf.IsStatic, which decides whether --ip is allowed.
	Static bool
	// NoGateway: the subnet is --fixed-cidr's, given without --bip, so the
	// IPAM request names no gateway (network inspect shows none).
	NoGateway bool
}

// DefaultBridge works out the default bridge's subnet, gateway and range
// as the daemon does (moby/moby daemon/daemon_unix.go
// getDefaultBridgeIPAMConf, v28.5.2): --bip; else the bridge's address,
// when it contains --fixed-cidr; else --fixed-cidr's subnet with its first
// address; else the subnet pick gives (Spaces.Allocate), with its first
// address. --fixed-cidr must lie within the subnet, and --default-gateway
// too.
func DefaultBridge(f BridgeFlags, pick func() (netip.Prefix, error)) (BridgeConf, error) {
	var c BridgeConf
	var gw netip.Prefix
	switch {
	case f.BIP.IsValid():
		gw, c.Static = f.BIP, true
	case f.Have.IsValid() && (!f.FixedCIDR.IsValid() || f.Have.Masked().Contains(f.FixedCIDR.Addr())):
		gw, c.Static = f.Have, true
	case f.FixedCIDR.IsValid():
		sub := f.FixedCIDR.Masked()
		gw = netip.PrefixFrom(sub.Addr().Next(), sub.Bits())
		c.Static, c.NoGateway = true, true
	default:
		sub, err := pick()
		if err != nil {
			return c, err
		}
		gw = netip.PrefixFrom(sub.Addr().Next(), sub.Bits())
	}
	c.Subnet, c.Gateway = gw.Masked(), gw.Addr()
	if f.FixedCIDR.IsValid() {
		if !c.Subnet.Contains(f.FixedCIDR.Addr()) || f.FixedCIDR.Bits() < c.Subnet.Bits() {
			return c, fmt.Errorf("fixed-cidr %s is not within the bridge subnet %s", f.FixedCIDR, c.Subnet)
		}
		c.IPRange = f.FixedCIDR.Masked()
	}
	if f.DefaultGateway.IsValid() {
		if !c.Subnet.Contains(f.DefaultGateway) {
			return c, fmt.Errorf("default gateway %s is not within the bridge subnet %s", f.DefaultGateway, c.Subnet)
		}
		c.DefaultGW = f.DefaultGateway
	}
	return c, nil
}
