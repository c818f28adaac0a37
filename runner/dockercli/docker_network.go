package dockercli

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/labrun/labrun/netkit"
	netdriver "github.com/labrun/labrun/netkit/driver"
	"github.com/labrun/labrun/netkit/release"
)

func dockerNetworkLs(d *dockerCtx, args []string) error {
	var quiet, noTrunc bool
	fs := &FlagSet{Interspersed: true}
	fs.Bool(&quiet, "q", "quiet")
	fs.Bool(&noTrunc, "", "no-trunc")
	_, eng, err := d.parseEngine(fs, args, 0, 0)
	if err != nil {
		return err
	}
	var rows []networkRow
	for _, n := range eng.Networks() {
		rows = append(rows, networkRow{ID: n.ID, Name: n.Name, Driver: n.Driver.String(), Scope: "local"})
	}
	for _, n := range netkit.HostNetworks() {
		rows = append(rows, networkRow{ID: n.Id, Name: n.Name, Driver: n.Driver, Scope: n.Scope})
	}
	fmt.Fprint(d.Stdout(), formatNetworks(rows, quiet, noTrunc))
	return nil
}

func dockerNetworkCreate(d *dockerCtx, args []string) error {
	var driver, subnet, gateway, ipRange string
	var internal, attachable, ipv6 bool
	var opts, labels, subnets, gateways, ranges []string
	fs := &FlagSet{Interspersed: true}
	fs.String(&driver, "d", "driver")
	fs.CheckedList(&subnets, "", "subnet", lastIPv4(&subnet)) // and IPv6 ones: see ipam6Flags
	fs.CheckedList(&gateways, "", "gateway", lastIPv4(&gateway))
	fs.CheckedList(&ranges, "", "ip-range", lastIPv4(&ipRange))
	fs.Bool(&ipv6, "", "ipv6")
	fs.Bool(&internal, "", "internal")
	fs.Bool(&attachable, "", "attachable")
	fs.List(&opts, "o", "opt")
	fs.List(&labels, "", "label")
	rest, err := d.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	drv, ok := netdriver.Parse(driver)
	if !ok {
		return d.fail(1, "Error response from daemon: plugin %q not found", driver)
	}
	if (gateway != "" || ipRange != "") && subnet == "" {
		return d.fail(1, "every ip-range or gateway must have a corresponding subnet")
	}
	o := netkit.NetworkOptions{Name: rest[0], Driver: drv, Internal: internal, Labels: keyValues(labels)}
	// The docker CLI matches --ip-range and --gateway with --subnet itself
	// (createIPAMConfig's subnetMatches) before it asks the daemon.
	if subnet != "" && (ipRange != "" || gateway != "") {
		_, sn, err := net.ParseCIDR(subnet)
		if err != nil {
			return d.fail(1, "invalid subnet: %v", err)
		}
		if ipRange != "" {
			ip, _, err := net.ParseCIDR(ipRange)
			if err != nil {
				return d.fail(1, "%v", err)
			}
			if !sn.Contains(ip) {
				return d.fail(1, "no matching subnet for range %s", ipRange)
			}
		}
		if gateway != "" && !sn.Contains(net.ParseIP(gateway)) {
			return d.fail(1, "no matching subnet for gateway %s", gateway)
		}
	}
	if subnet != "" {
		if o.Subnet, err = netip.ParsePrefix(subnet); err != nil {
			// Docker: the daemon's ValidateIPAM (moby api/types/network).
			return d.fail(1, "Error response from daemon: invalid network config:\ninvalid subnet %s: invalid CIDR block notation", subnet)
		}
	}
	if ipRange != "" {
		if o.IPRange, err = netip.ParsePrefix(ipRange); err != nil {
			return d.fail(1, "Error response from daemon: invalid CIDR address: %s", ipRange)
		}
	}
	if gateway != "" {
		if o.Gateway, err = netip.ParseAddr(gateway); err != nil {
			return d.fail(1, "Error response from daemon: invalid gateway address %s", gateway)
		}
	}
	if err := ipam6Flags(&o, ipv6, subnets, gateways, ranges); err != nil {
		return d.fail(1, "%s", err)
	}
	if len(opts) > 0 {
		o.Options = keyValues(opts)
	}
	eng, err := d.engine()
	if err != nil {
		return err
	}
	n, err := eng.CreateNetwork(o)
	if err != nil {
		return d.daemonErr(err)
	}
	fmt.Fprintln(d.Stdout(), n.ID)
	return nil
}

func dockerNetworkRm(d *dockerCtx, args []string) error {
	var force bool
	fs := &FlagSet{Interspersed: true}
	fs.Bool(&force, "f", "force")
	refs, eng, err := d.parseEngine(fs, args, 1, -1)
	if err != nil {
		return err
	}
	failed := false
	d.forEachRef(refs, func(ref string) error {
		err := eng.RemoveNetwork(ref)
		if ref == "host" || ref == "none" {
			err = errors.New(ref + " is a pre-defined network and cannot be removed")
		}
		return err
	}, func(_ string, err error) {
		if force && errors.Is(err, netkit.ErrNotFound) {
			return
		}
		fmt.Fprintf(d.Stderr(), "Error response from daemon: %s\n", DaemonMsg(err))
		failed = true
	})
	if failed {
		if d.cli() >= release.Era28 {
			// The CLI's StatusError carries the text "exit status 1",
			// which its main prints (docker/cli cli/command/network/
			// remove.go runRemove, v28.0.1 to v29).
			fmt.Fprintln(d.Stderr(), "exit status 1")
		}
		return &ExitError{Cmd: d.path, Code: 1}
	}
	return nil
}

func dockerNetworkConnect(d *dockerCtx, args []string) error {
	var ip, ip6 string
	var aliases []string
	fs := &FlagSet{Interspersed: true}
	fs.String(&ip, "", "ip")
	fs.String(&ip6, "", "ip6")
	fs.List(&aliases, "", "alias")
	rest, err := d.parse(fs, args, 2, 2)
	if err != nil {
		return err
	}
	var addr, addr6 netip.Addr
	if ip != "" {
		if addr, err = netip.ParseAddr(ip); err != nil || !addr.Is4() {
			return d.fail(1, "invalid IPv4 address: %s", ip)
		}
	}
	if ip6 != "" {
		if addr6, err = netip.ParseAddr(ip6); err != nil || !addr6.Is6() || addr6.Is4In6() {
			return d.fail(1, "invalid IPv6 address: %s", ip6)
		}
	}
	eng, err := d.engine()
	if err != nil {
		return err
	}
	if err := eng.Connect(rest[0], rest[1], netkit.ConnectOptions{IP: addr, IP6: addr6, Aliases: aliases}); err != nil {
		return d.daemonErr(err)
	}
	return nil
}

func dockerNetworkDisconnect(d *dockerCtx, args []string) error {
	var force bool
	fs := &FlagSet{Interspersed: true}
	fs.Bool(&force, "f", "force")
	rest, eng, err := d.parseEngine(fs, args, 2, 2)
	if err != nil {
		return err
	}
	if err := eng.Disconnect(rest[0], rest[1], force); err != nil {
		return d.daemonErr(err)
	}
	return nil
}

// keyValues reads KEY=VALUE options (-o, --label) into a map; nil for none.
func keyValues(kvs []string) map[string]string {
	if len(kvs) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
