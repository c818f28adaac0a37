package runner

import (
	"fmt"
	"net/netip"

	"github.com/labrun/labrun/netkit"
)

var dockerdCmd = Cmd{
	Name:  "dockerd",
	Usage: "[-b BRIDGE] [--bip CIDR] [--fixed-cidr CIDR] [--default-gateway IP] [--icc=false] [--iptables=false] [--ip-forward=false] [--ip-masq=false] [--ip IP] [--userland-proxy=false]",
	Summary: "(Re)start the lab's Docker engine on `host` with dockerd's networking flags. " +
		"A running engine stops first, as when dockerd restarts: its containers stop and stay; user-defined networks stay. " +
		"The first `docker` command starts the engine with no flags if the scenario did not.",
	Detail: "Flags take dockerd's forms: `--bip=192.168.1.1/24` or `--bip 192.168.1.1/24`, " +
		"booleans only as `--icc=false`. A bad flag or a refused combination prints dockerd's own message " +
		"(`unknown flag: --foo`, `failed to start daemon: You specified -b & --bip, ...`) on stderr and fails.",
	Negatable: true,
	Run:       runDockerd,
}

// parseDockerd parses dockerd's networking flags into netkit's options. The
// error is what dockerd prints (without its "See 'dockerd --help'." line).
func parseDockerd(args []string) (netkit.DaemonOptions, error) {
	var o netkit.DaemonOptions
	var bip, fixed, gw, ip string
	icc, iptables, fwd, masq, proxy := true, true, true, true, true
	fs := &flagSet{interspersed: true}
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
	rest, err := fs.Parse(args)
	if err != nil {
		return o, err
	}
	if len(rest) > 0 {
		return o, &flagError{`"dockerd" accepts no arguments.`}
	}
	o.NoICC, o.NoIPTables, o.NoIPForward, o.NoIPMasq, o.NoUserlandProxy = !icc, !iptables, !fwd, !masq, !proxy
	if bip != "" {
		if o.BIP, err = netip.ParsePrefix(bip); err != nil || !o.BIP.Addr().Is4() {
			return o, &flagError{fmt.Sprintf("invalid argument %q for \"--bip\" flag: invalid CIDR address: %s", bip, bip)}
		}
	}
	if fixed != "" {
		if o.FixedCIDR, err = netip.ParsePrefix(fixed); err != nil || !o.FixedCIDR.Addr().Is4() {
			return o, &flagError{fmt.Sprintf("invalid argument %q for \"--fixed-cidr\" flag: invalid CIDR address: %s", fixed, fixed)}
		}
	}
	if gw != "" {
		if o.DefaultGateway, err = netip.ParseAddr(gw); err != nil || !o.DefaultGateway.Is4() {
			return o, &flagError{fmt.Sprintf("invalid argument %q for \"--default-gateway\" flag: invalid string being converted to IP address: %s", gw, gw)}
		}
	}
	if ip != "" {
		if o.IP, err = netip.ParseAddr(ip); err != nil {
			return o, &flagError{fmt.Sprintf("invalid argument %q for \"--ip\" flag: invalid string being converted to IP address: %s", ip, ip)}
		}
	}
	return o, nil
}

func runDockerd(e *Env, args []string) error {
	o, err := parseDockerd(args)
	if err != nil {
		fmt.Fprintf(e.Stderr(), "%s\nSee 'dockerd --help'.\n", err)
		return &exitError{what: "dockerd", code: 1}
	}
	if _, err := e.Lab().StartEngine(o); err != nil {
		fmt.Fprintf(e.Stderr(), "failed to start daemon: %s\n", err)
		return &exitError{what: "dockerd", code: 1}
	}
	return nil
}
