package netkit

import "net/netip"

// iptablesFirewall programs Docker's rules with netkit/firewall in the host
// node. (Placeholder until netkit/firewall lands.)
type iptablesFirewall struct{ e *Engine }

func newIPTablesFirewall(e *Engine) firewaller { return &iptablesFirewall{e: e} }

func (f *iptablesFirewall) start(bool) error                                { return nil }
func (f *iptablesFirewall) addNetwork(*Network) error                       { return nil }
func (f *iptablesFirewall) delNetwork(*Network) error                       { return nil }
func (f *iptablesFirewall) addPort(*Network, netip.Addr, PortBinding) error { return nil }
func (f *iptablesFirewall) delPort(*Network, netip.Addr, PortBinding) error { return nil }
func (f *iptablesFirewall) addEndpoint(*Network, netip.Addr) error          { return nil }
func (f *iptablesFirewall) delEndpoint(*Network, netip.Addr) error          { return nil }
func (f *iptablesFirewall) stop() error                                     { return nil }
