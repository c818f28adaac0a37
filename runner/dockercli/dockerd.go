package dockercli

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/firewall"
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
	var bip, fixed, gw, ip, compat, mtu string
	icc, iptables, fwd, masq, proxy := true, true, true, true, true
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
	rest, err := fs.Parse(args)
	if err != nil {
		return o, err
	}
	if len(rest) > 0 {
		return o, &flagError{`"dockerd" accepts no arguments.`}
	}
	o.NoICC, o.NoIPTables, o.NoIPForward, o.NoIPMasq, o.NoUserlandProxy = !icc, !iptables, !fwd, !masq, !proxy
	if compat != "" {
		r, ok := parseCompat(compat)
		if !ok {
			return o, &flagError{fmt.Sprintf("invalid argument %q for \"--compat\" flag: labrun knows Docker 20.10 and 23 to 29", compat)}
		}
		o.Era, o.APIVersion = r.era, r.api
	}
	switch o.FirewallBackend {
	case "", "iptables":
	case "nftables":
		if o.Era < firewall.Era29 {
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

// compatRelease is what --compat names: a firewall era and the engine API
// version of the release (which selects the JSON shapes).
type compatRelease struct {
	era firewall.Era
	api string
}

// compatAPI is the engine API version of each Docker release (the
// DefaultVersion of moby's api/common.go in each release).
var compatAPI = map[string]string{
	"20.10": "1.41", "23.0": "1.42", "24.0": "1.43", "25.0": "1.44", "26.0": "1.45", "26.1": "1.45",
	"27.0": "1.46", "27.1": "1.46", "27.2": "1.47", "27.3": "1.47", "27.4": "1.47", "27.5": "1.47",
	"28.0": "1.48", "28.1": "1.49", "28.2": "1.50", "28.3": "1.51", "28.4": "1.51", "28.5": "1.51",
	"29.0": "1.52",
}

// parseCompat reads a --compat value: a major release ("27", "20.10") or
// a full version ("28.2.2", "20.10.24+dfsg1"). A major release alone is
// the era's newest API version.
func parseCompat(v string) (compatRelease, bool) {
	v, _, _ = strings.Cut(v, "+")
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	major, err := strconv.Atoi(parts[0])
	if err != nil {
		return compatRelease{}, false
	}
	var r compatRelease
	switch {
	case major == 20 || (major >= 23 && major <= 27):
		r.era = firewall.Era27
	case major == 28:
		r.era = firewall.Era28
	case major >= 29 && major < 30:
		r.era = firewall.Era29
	default:
		return compatRelease{}, false
	}
	if major == 20 && (len(parts) < 2 || parts[1] != "10") {
		return compatRelease{}, false
	}
	if len(parts) >= 2 {
		r.api = compatAPI[parts[0]+"."+parts[1]]
		if r.api == "" && major == 29 {
			r.api = compatAPI["29.0"] // 29.x speaks up to 1.55; labrun's shapes are 1.52's
		}
	}
	if len(parts) == 1 && major < 27 {
		r.api = compatAPI[parts[0]+".0"]
	}
	if major == 20 {
		r.api = compatAPI["20.10"]
	}
	return r, true
}

// CompatCondition is the [compat:ERA] condition: true when the engine a
// script starts without flags reproduces era ERA (27, 28 or 29), which is
// 27 unless $LABRUN_DOCKERD says otherwise. Scenarios use it for what
// differs between eras ([compat:27] stdout ':::801->80/tcp'). A release
// with its minor version that has an API version of its own ([compat:20.10],
// [compat:28.2]) must match that too: [compat:20.10] holds under
// LABRUN_DOCKERD=--compat=20.10, not under the default.
func CompatCondition(era string) (bool, error) {
	want, ok := parseCompat(era)
	if !ok {
		return false, fmt.Errorf("unknown condition compat:%s: want 27, 28 or 29", era)
	}
	o, err := parseDockerd(nil)
	if err != nil {
		return false, fmt.Errorf("%s: %w", DockerdEnv, err)
	}
	if want.api != "" && strings.Contains(era, ".") && o.APIVersion != want.api {
		return false, nil
	}
	return o.Era == want.era, nil
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
