package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// EndpointIPError checks an endpoint's requested address (docker run or
// network connect --ip) on a network as the daemon does from API 1.44
// (Docker 25): every reason is given, joined under "invalid endpoint
// settings:" (one as it is, several as "* " lines). A predefined network
// (the default bridge) refuses any address; a network whose subnet was not
// given (static false) refuses it too; else the address must lie in the
// subnet (moby/moby daemon/container_operations.go
// validateEndpointSettings and api/types/network/endpoint.go
// validateEndpointIPAddress, v28.5.2). No address (ip not valid) has no
// reason. alias is the reason of network-scoped aliases asked of a
// predefined network (AliasOnPredefined, AliasOnPredefined29), or "",
// which comes second. It is nil when the request is fine.
func EndpointIPError(predefined, static bool, subnet netip.Prefix, ip netip.Addr, alias string) error {
	var errs []string
	if predefined && ip.IsValid() {
		errs = append(errs, "user specified IP address is supported on user defined networks only")
	}
	if alias != "" {
		errs = append(errs, alias)
	}
	switch {
	case !ip.IsValid():
	case !static:
		errs = append(errs, "user specified IP address is supported only when connecting to networks with user configured subnets")
	case !subnet.Contains(ip):
		errs = append(errs, fmt.Sprintf("no configured subnet or ip-range contain the IP address %s", ip))
	}
	return endpointSettingsError(errs)
}

// EndpointIPError29 is EndpointIPError as Docker 29.8 words and checks it
// (release.Release.EndpointIPTexts29): a predefined network refuses any
// address, and the address must lie in the network's subnet, whether or
// not its subnet was given (moby/moby v2.0.0-beta.24
// daemon/container_operations.go validateEndpointSettings).
func EndpointIPError29(predefined bool, subnet netip.Prefix, ip netip.Addr, alias string) error {
	var errs []string
	if predefined && ip.IsValid() {
		errs = append(errs, "user-specified IP address is supported on user-defined networks only")
	}
	if alias != "" {
		errs = append(errs, alias)
	}
	if ip.IsValid() && !subnet.Contains(ip) {
		errs = append(errs, fmt.Sprintf("no configured subnet contains IP address %s", ip))
	}
	return endpointSettingsError(errs)
}

// The daemon's reason for network-scoped aliases (docker network connect
// --alias) on a predefined network: up to 28 (moby/moby v28.5.2
// runconfig/errors.go ErrUnsupportedNetworkAndAlias, the same in
// v20.10.24), and from 29.0 (moby/moby docker-v29.0.0
// daemon/container_operations.go validateEndpointSettings).
const (
	AliasOnPredefined   = "network-scoped alias is supported only for containers in user defined networks"
	AliasOnPredefined29 = "network-scoped aliases are only supported for user-defined networks"
)

// endpointSettingsError joins an endpoint's reasons as the daemon does:
// none is no error, one as it is, several as "* " lines, under "invalid
// endpoint settings:" (moby/moby daemon/container_operations.go, with
// multierror.Join).
func endpointSettingsError(errs []string) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errors.New("invalid endpoint settings:\n" + errs[0])
	}
	return errors.New("invalid endpoint settings:\n* " + strings.Join(errs, "\n* "))
}

// ConnectErrorV1 is network connect's one reason before API 1.44 for --ip
// ip and --alias (aliases) on a network (predefined: a network Docker
// made; userSubnet: its subnet was the user's), or nil (moby/moby
// v20.10.24 daemon/container_operations.go validateNetworkingConfig).
func ConnectErrorV1(predefined, userSubnet bool, subnet netip.Prefix, ip netip.Addr, aliases bool) error {
	switch {
	case ip.IsValid() && predefined:
		return errors.New("user specified IP address is supported on user defined networks only")
	case aliases && predefined:
		return errors.New(AliasOnPredefined)
	case ip.IsValid() && !userSubnet:
		return errors.New("user specified IP address is supported only when connecting to networks with user configured subnets")
	case ip.IsValid() && !subnet.Contains(ip):
		return fmt.Errorf("no configured subnet or ip-range contain the IP address %s", ip)
	}
	return nil
}
