package dockercli

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path"
	"regexp"
	"strings"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/release"
)

// The docker CLI's validators of docker run's name options, which it runs
// as each flag is set (docker/cli opts/opts.go and opts/hosts.go, the same
// in v27.5.1, v28.0.0 and v29.7.2): their errors are pflag's `invalid
// argument "V" for "--add-host" flag: ERR` (FlagSet.CheckedList), and what
// they return is what the CLI sends to the engine.

// validateIPAddress is opts.ValidateIPAddress (--dns): the address in
// Go's net.IP form ("0:0::1" gives "::1").
func validateIPAddress(val string) (string, error) {
	if ip := net.ParseIP(strings.TrimSpace(val)); ip != nil {
		return ip.String(), nil
	}
	return "", fmt.Errorf("IP address is not correctly formatted: %s", val)
}

var (
	alphaRE  = regexp.MustCompile(`[a-zA-Z]`)
	domainRE = regexp.MustCompile(`^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9]))(:?\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])))*)\.?\s*$`)
)

// validateDNSSearch is opts.ValidateDNSSearch (--dns-search): "." or a
// domain, kept without its final dot.
func validateDNSSearch(val string) (string, error) {
	if val = strings.Trim(val, " "); val == "." {
		return val, nil
	}
	if alphaRE.FindString(val) == "" {
		return "", fmt.Errorf("%s is not a valid domain", val)
	}
	if m := domainRE.FindStringSubmatch(val); len(m) > 0 && len(m[1]) < 255 {
		return m[1], nil
	}
	return "", fmt.Errorf("%s is not a valid domain", val)
}

// validateExtraHost is opts.ValidateExtraHost (--add-host): NAME:IP or
// NAME=IP, the address possibly in brackets, or host-gateway; sent to the
// engine as NAME:IP with the address as typed.
func validateExtraHost(val string) (string, error) {
	k, v, ok := strings.Cut(val, "=")
	if !ok {
		k, v, ok = strings.Cut(val, ":")
	}
	if !ok || k == "" || strings.Contains(k, ":") {
		return "", fmt.Errorf("bad format for add-host: %q", val)
	}
	if v != "host-gateway" {
		if len(v) > 2 && v[0] == '[' && v[len(v)-1] == ']' {
			v = v[1 : len(v)-1]
		}
		if _, err := validateIPAddress(v); err != nil {
			return "", fmt.Errorf("invalid IP address in add-host: %q", v)
		}
	}
	return k + ":" + v, nil
}

// parseLink is opts.ParseLink (--link NAME[:ALIAS], or the engine's own
// /NAME:/PARENT/ALIAS): the alias is "" when none was given.
func parseLink(val string) (netkit.Link, error) {
	if val == "" {
		return netkit.Link{}, errors.New("empty string specified for links")
	}
	arr := strings.SplitN(val, ":", 3)
	switch {
	case len(arr) > 2:
		return netkit.Link{}, errors.New("bad format for links: " + val)
	case len(arr) == 1:
		return netkit.Link{Name: val}, nil
	case strings.HasPrefix(arr[0], "/"):
		_, alias := path.Split(arr[1])
		return netkit.Link{Name: arr[0][1:], Alias: alias}, nil
	}
	return netkit.Link{Name: arr[0], Alias: arr[1]}, nil
}

func validateLink(val string) (string, error) {
	_, err := parseLink(val)
	return val, err
}

// userDefined is container.NetworkMode.IsUserDefined as the CLI asks it
// of docker run's --network ("" is the CLI's "default").
func userDefined(network string) bool {
	switch network {
	case "", "default", "bridge", "host", "none":
		return false
	}
	return !strings.HasPrefix(network, "container:") && network != "container"
}

// localhostDNSWarning is the CLI's warning for a --dns address on the
// loopback, without "WARNING: ": the CLI before 28 prints
// "Localhost DNS setting (--dns=ADDR) may fail in containers." before it
// creates the container (early true), for an address its regular
// expression matches (which takes any IPv6 address ending in ::1); 28
// adds "Localhost DNS (ADDR) may fail in containers." to the engine's
// warnings after, for a loopback address (docker/cli
// cli/command/container/create.go, v27.5.1 warnOnLocalhostDNS, v28.2.2
// localhostDNSWarning); 29 prints none (docker/cli commit c06c08531a,
// v29.0.0).
func localhostDNSWarning(cli release.Era, dns []string) (msg string, early bool) {
	for _, s := range dns {
		switch a, err := netip.ParseAddr(s); {
		case cli == release.Era27 && localhost27RE.MatchString(s):
			return fmt.Sprintf("Localhost DNS setting (--dns=%s) may fail in containers.", s), true
		case cli == release.Era28 && err == nil && a.IsLoopback():
			return fmt.Sprintf("Localhost DNS (%s) may fail in containers.", a), false
		}
	}
	return "", false
}

// localhost27RE is the CLI's ipLocalhost before 28 (docker/cli v27.5.1
// cli/command/container/create.go).
var localhost27RE = regexp.MustCompile(`((127\.([0-9]{1,3}\.){2}[0-9]{1,3})|(::1)$)`)
