package dockercli

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/ipam"
)

// docker network create's --subnet, --gateway and --ip-range may each be
// given twice, once per family (the CLI's createIPAMConfig pairs each
// gateway and range with the subnet that holds it). The IPv4 values go
// where the command has always put them; ipam6Flags takes the IPv6 ones.

// lastIPv4 is a check of a --subnet, --gateway or --ip-range value that
// keeps the last IPv4 one (a value without ":") in *p.
func lastIPv4(p *string) func(string) (string, error) {
	return func(v string) (string, error) {
		if !strings.Contains(v, ":") {
			*p = v
		}
		return v, nil
	}
}

// ipam6Flags sets the network's IPv6 settings from --ipv6 and the IPv6
// values of --subnet, --gateway and --ip-range, checked as the CLI and
// then the daemon check them; the daemon discards an IPv6 subnet without
// --ipv6 (moby/moby v28.5.2 api/types/network/ipam_test.go). The error is
// the text docker prints.
func ipam6Flags(o *netkit.NetworkOptions, ipv6 bool, subnets, gateways, ranges []string) error {
	pick := func(vs []string) string {
		out := ""
		for _, v := range vs {
			if strings.Contains(v, ":") {
				out = v
			}
		}
		return out
	}
	subnet, gateway, ipRange := pick(subnets), pick(gateways), pick(ranges)
	if (gateway != "" || ipRange != "") && subnet == "" {
		return fmt.Errorf("every ip-range or gateway must have a corresponding subnet")
	}
	if subnet == "" && !ipv6 {
		return nil
	}
	r := &o.IPAM6
	var err error
	if subnet != "" {
		if r.Subnet, err = netip.ParsePrefix(subnet); err != nil {
			return fmt.Errorf("Error response from daemon: invalid network config:\ninvalid subnet %s: invalid CIDR block notation", subnet)
		}
	}
	if ipRange != "" {
		if r.IPRange, err = netip.ParsePrefix(ipRange); err != nil {
			return fmt.Errorf("Error response from daemon: invalid CIDR address: %s", ipRange)
		}
		if !r.Subnet.Masked().Contains(r.IPRange.Addr()) {
			return fmt.Errorf("no matching subnet for range %s", ipRange)
		}
	}
	if gateway != "" {
		if r.Gateway, err = netip.ParseAddr(gateway); err != nil {
			return fmt.Errorf("Error response from daemon: invalid gateway address %s", gateway)
		}
		if !r.Subnet.Masked().Contains(r.Gateway) {
			return fmt.Errorf("no matching subnet for gateway %s", gateway)
		}
	}
	o.IPv6 = ipv6
	if !ipv6 {
		o.IPAM6 = ipam.Request6{} // discarded
	}
	return nil
}
