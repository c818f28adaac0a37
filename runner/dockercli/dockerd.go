package dockercli

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/release"
	"github.com/labrun/labrun/runner/dockerhost"
)

// DockerdEnv names the environment variable whose dockerd flags (e.g.
// "--compat=29 --firewall-backend=nftables") come before every dockerd
// command's own (Session.Dockerd), and start the engine that the first
// docker command starts when a session ran no dockerd:
// `LABRUN_DOCKERD=--compat=28 make scenarios` runs the suite against
// another era.
const DockerdEnv = "LABRUN_DOCKERD"

// parseDockerd parses dockerd's networking flags into netkit's options,
// after the flags of $LABRUN_DOCKERD. The error is what dockerd prints
// (without its "See 'dockerd --help'." line).
func parseDockerd(args []string) (netkit.DaemonOptions, error) {
	if env := strings.Fields(os.Getenv(DockerdEnv)); len(env) > 0 {
		args = append(env, args...)
	}
	return parseDockerdFlags(args)
}

func parseDockerdFlags(args []string) (netkit.DaemonOptions, error) {
	var o netkit.DaemonOptions
	var bip, fixed, fixed6, gw, ip, compat, mtu, host string
	icc, iptables, fwd, masq, proxy, ip6tables := true, true, true, true, true, true
	fs := &FlagSet{Interspersed: true}
	fs.String(&compat, "", "compat")
	fs.String(&o.FirewallBackend, "", "firewall-backend")
	fs.String(&mtu, "", "mtu")
	fs.String(&o.Bridge, "b", "bridge")
	fs.String(&bip, "", "bip")
	fs.String(&fixed, "", "fixed-cidr")
	fs.String(&gw, "", "default-gateway")
	fs.Bool(&icc, "", "icc")
	fs.Bool(&iptables, "", "iptables")
	fs.Bool(&fwd, "", "ip-forward")
	fs.Bool(&masq, "", "ip-masq")
	fs.String(&ip, "", "ip")
	fs.Bool(&proxy, "", "userland-proxy")
	fs.Bool(&o.IPv6, "", "ipv6")
	fs.String(&fixed6, "", "fixed-cidr-v6")
	fs.Bool(&ip6tables, "", "ip6tables")
	fs.String(&host, "H", "host")
	rest, err := fs.Parse(args)
	if err != nil {
		return o, err
	}
	if len(rest) > 0 {
		return o, &flagError{`"dockerd" accepts no arguments.`}
	}
	o.NoICC, o.NoIPTables, o.NoIPForward, o.NoIPMasq, o.NoUserlandProxy = !icc, !iptables, !fwd, !masq, !proxy
	if o.Node, err = dockerhost.Node(host); err != nil {
		return o, &flagError{err.Error()}
	}
	if compat != "" {
		r, ok := release.Parse(compat)
		if !ok {
			return o, &flagError{fmt.Sprintf("invalid argument %q for \"--compat\" flag: labrun knows Docker 20.10 and 23 to 29", compat)}
		}
		o.Release = r
	}
	switch o.FirewallBackend {
	case "", "iptables":
	case "nftables":
		if !o.NFTables() {
			// Docker before 29 has no nftables back end.
			return o, &flagError{"unknown flag: --firewall-backend"}
		}
	default:
		return o, &flagError{fmt.Sprintf("invalid argument %q for \"--firewall-backend\" flag: must be iptables or nftables", o.FirewallBackend)}
	}
	if mtu != "" {
		n, err := strconv.Atoi(mtu)
		if err != nil {
			return o, &flagError{fmt.Sprintf("invalid argument %q for \"--mtu\" flag: %v", mtu, err.(*strconv.NumError).Err)}
		}
		o.MTU = n
	}
	if err := cidrFlag(&o.BIP, "bip", bip); err != nil {
		return o, err
	}
	if err := cidrFlag(&o.FixedCIDR, "fixed-cidr", fixed); err != nil {
		return o, err
	}
	if err := cidr6Flag(&o.FixedCIDRv6, "fixed-cidr-v6", fixed6); err != nil {
		return o, err
	}
	o.IP6Tables = ip6Switch(args, ip6tables)
	if err := addrFlag(&o.DefaultGateway, "default-gateway", gw, true); err != nil {
		return o, err
	}
	if err := addrFlag(&o.IP, "ip", ip, false); err != nil {
		return o, err
	}
	return o, nil
}

// ip6Switch is --ip6tables as given in args, whose value is v: its
// default is the release's (release.Switch).
func ip6Switch(args []string, v bool) release.Switch {
	if !slices.ContainsFunc(args, func(a string) bool { return a == "--ip6tables" || strings.HasPrefix(a, "--ip6tables=") }) {
		return release.SwitchDefault
	}
	if v {
		return release.SwitchOn
	}
	return release.SwitchOff
}

// cidr6Flag parses the IPv6 CIDR value of dockerd's flag --name
// (--fixed-cidr-v6) into *p, unless value is "". Its error is the one
// dockerd prints.
func cidr6Flag(p *netip.Prefix, name, value string) error {
	if value == "" {
		return nil
	}
	var err error
	if *p, err = netip.ParsePrefix(value); err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
		return &flagError{fmt.Sprintf("invalid argument %q for \"--%s\" flag: invalid CIDR address: %s", value, name, value)}
	}
	return nil
}

// cidrFlag parses the IPv4 CIDR value of dockerd's flag --name (--bip,
// --fixed-cidr) into *p, unless value is "" (the flag not given). Its
// error is the one dockerd prints.
func cidrFlag(p *netip.Prefix, name, value string) error {
	if value == "" {
		return nil
	}
	var err error
	if *p, err = netip.ParsePrefix(value); err != nil || !p.Addr().Is4() {
		return &flagError{fmt.Sprintf("invalid argument %q for \"--%s\" flag: invalid CIDR address: %s", value, name, value)}
	}
	return nil
}

// addrFlag parses the address value of dockerd's flag --name
// (--default-gateway, which must be IPv4 (v4), and --ip) into *p, unless
// value is "" (the flag not given). Its error is the one dockerd prints.
func addrFlag(p *netip.Addr, name, value string, v4 bool) error {
	if value == "" {
		return nil
	}
	var err error
	if *p, err = netip.ParseAddr(value); err != nil || v4 && !p.Is4() {
		return &flagError{fmt.Sprintf("invalid argument %q for \"--%s\" flag: invalid string being converted to IP address: %s", value, name, value)}
	}
	return nil
}

// CompatCondition is the [compat:ERA] condition: true when the engine a
// script starts without flags reproduces era ERA (27, 28 or 29), which is
// 27 unless $LABRUN_DOCKERD says otherwise. Scenarios use it for what
// differs between eras ([compat:27] stdout ':::801->80/tcp'). A release
// with its minor version that has an API version of its own ([compat:20.10],
// [compat:28.2]) must match that too: [compat:20.10] holds under
// LABRUN_DOCKERD=--compat=20.10, not under the default.
func CompatCondition(era string) (bool, error) {
	want, ok := release.Parse(era)
	if !ok {
		return false, fmt.Errorf("unknown condition compat:%s: want 27, 28 or 29", era)
	}
	o, err := parseDockerd(nil)
	if err != nil {
		return false, fmt.Errorf("%s: %w", DockerdEnv, err)
	}
	if want.APIVersion != "" && strings.Contains(era, ".") && o.APIVersion != want.APIVersion {
		return false, nil
	}
	return o.Era == want.Era, nil
}

// FirewallCondition is the [firewall:BACKEND] condition: true when the
// engine a script starts without flags programs BACKEND (iptables or
// nftables), which is iptables unless $LABRUN_DOCKERD says
// --firewall-backend=nftables. Scenarios use it to read the rules with the
// back end's own tool ([firewall:nftables] on host nft list ruleset).
func FirewallCondition(backend string) (bool, error) {
	if backend != "iptables" && backend != "nftables" {
		return false, fmt.Errorf("unknown condition firewall:%s: want iptables or nftables", backend)
	}
	o, err := parseDockerd(nil)
	if err != nil {
		return false, fmt.Errorf("%s: %w", DockerdEnv, err)
	}
	got := o.FirewallBackend
	if got == "" {
		got = "iptables"
	}
	return got == backend, nil
}
