package etcfiles

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/labrun/labrun/netkit/release"
)

// HostGateway is the --add-host address that stands for the host's
// gateway addresses (moby/moby v28.5.2 opts/hosts.go HostGatewayName).
const HostGateway = "host-gateway"

// ErrInvalidExtraHost is matched, with errors.Is, by every
// *ExtraHostError.
var ErrInvalidExtraHost = errors.New("invalid --add-host")

// ErrNoHostGateway is Docker's refusal of host-gateway when it has no
// gateway address (moby/moby v28.5.2 daemon/container_operations.go
// buildSandboxOptions).
var ErrNoHostGateway = errors.New("unable to derive the IP value for host-gateway")

// ExtraHostError is an --add-host value Docker rejects; Msg is Docker's
// text, `bad format for add-host: "x"` or `invalid IP address in add-host:
// "y"`.
type ExtraHostError struct{ Msg string }

// Error returns Msg.
func (e *ExtraHostError) Error() string { return e.Msg }

// Is reports whether target is ErrInvalidExtraHost.
func (e *ExtraHostError) Is(target error) bool { return target == ErrInvalidExtraHost }

func extraHostErr(format string, args ...any) error {
	return &ExtraHostError{Msg: fmt.Sprintf(format, args...)}
}

// ParseExtraHost checks one --add-host value as the docker CLI does and
// returns the API's form, "name:ip" (docker/cli v28.0.0 opts/hosts.go
// ValidateExtraHost, the same from 25.0 to 29). The forms are name:ip,
// name=ip, name:::1, name=::1 and name=[::1] (brackets are stripped, for
// IPv4 too); the address may be host-gateway. The address is kept as
// written (it is checked with net.ParseIP after trimming spaces). A
// rejected value gives an *ExtraHostError.
func ParseExtraHost(s string) (string, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		k, v, ok = strings.Cut(s, ":")
	}
	if !ok || k == "" || strings.Contains(k, ":") {
		return "", extraHostErr("bad format for add-host: %q", s)
	}
	if v != HostGateway {
		if len(v) > 2 && v[0] == '[' && v[len(v)-1] == ']' {
			v = v[1 : len(v)-1]
		}
		if !validIP(v) {
			return "", extraHostErr("invalid IP address in add-host: %q", v)
		}
	}
	return k + ":" + v, nil
}

// validIP is opts.ValidateIPAddress's test (docker/cli v28.0.0 and
// moby/moby v28.5.2 opts/opts.go).
func validIP(s string) bool { return net.ParseIP(strings.TrimSpace(s)) != nil }

// ExtraRecords turns --add-host API forms ("name:ip", split at the first
// colon) into hosts records as r does (moby/moby v28.5.2
// daemon/container_operations.go buildSandboxOptions and
// libnetwork/sandbox_dns_unix.go buildHostsFile):
//   - host-gateway is gw's first address before 28, each of them (one
//     record each) from 28, or ErrNoHostGateway when gw is empty;
//   - before 28 the address is written as given (Record.Literal); 28
//     refuses one netip cannot read ("could not parse extra host IP"), 29
//     leaves it out and unmaps IPv4-mapped addresses.
//
// A value the daemon's own check refuses gives an *ExtraHostError.
func ExtraRecords(r release.Release, extra []string, gw []netip.Addr) ([]Record, error) {
	var recs []Record
	for _, e := range extra {
		name, ip, ok := strings.Cut(e, ":")
		if !ok || name == "" {
			return nil, extraHostErr("bad format for add-host: %q", e)
		}
		if ip == HostGateway {
			if len(gw) == 0 {
				return nil, ErrNoHostGateway
			}
			addrs := gw
			if !r.HostGatewayAll() {
				addrs = gw[:1]
			}
			for _, a := range addrs {
				if r.ExtraHostsUnmapped() {
					a = a.Unmap()
				}
				recs = append(recs, Record{Addr: a, Names: []string{name}})
			}
			continue
		}
		if !validIP(ip) {
			return nil, extraHostErr("invalid IP address in add-host: %q", ip)
		}
		a, err := netip.ParseAddr(ip)
		switch {
		case !r.HostsParsedAddrs():
			recs = append(recs, Record{Addr: a, Names: []string{name}, Literal: ip})
		case err == nil && r.ExtraHostsUnmapped():
			recs = append(recs, Record{Addr: a.Unmap(), Names: []string{name}})
		case err == nil:
			recs = append(recs, Record{Addr: a, Names: []string{name}})
		case !r.ExtraHostsUnmapped():
			return nil, &ExtraHostError{Msg: fmt.Sprintf("could not parse extra host IP %s: %v", ip, err)}
		}
	}
	return recs, nil
}
