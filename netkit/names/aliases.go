package names

import "slices"

// A container's names on a network and its links, as the daemon makes
// them from docker run's --name, -h, --network-alias and --link.

// DNSNames returns an endpoint's DNS names on a user-defined network: the
// container's name, its aliases in order, its short ID (the first 12 hex
// digits of id) and its hostname, each once; the first is the one PTR
// answers give (moby/moby v28.5.2 daemon/container_operations.go
// buildEndpointDNSNames).
func DNSNames(name string, aliases []string, id, hostname string) []string {
	return Dedup(append(append([]string{name}, aliases...), id[:12], hostname))
}

// LegacyAliases returns an endpoint's Aliases on a user-defined network
// before DNSNames (API 1.43 and before): the requested ones as they are,
// then the short ID and a hostname other than the name, each unless among
// them (moby/moby v20.10.24 daemon/container_operations.go
// updateNetworkConfig; seen on 20.10.24).
func LegacyAliases(aliases []string, name, id, hostname string) []string {
	out := append([]string(nil), aliases...)
	if !slices.Contains(out, id[:12]) {
		out = append(out, id[:12])
	}
	if hostname != name && !slices.Contains(out, hostname) {
		out = append(out, hostname)
	}
	return out
}

// Dedup drops the repeats of a list, keeping the first of each
// (moby/moby internal/sliceutil.Dedup).
func Dedup(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// Link is a legacy link as docker inspect's HostConfig.Links shows it:
// "/CHILD:/PARENT/ALIAS" (moby/moby v28.5.2 daemon/inspect.go).
func Link(child, parent, alias string) string { return "/" + child + ":/" + parent + "/" + alias }

// LinkArg is a --link as the CLI sends it, NAME or NAME:ALIAS, which a
// user-defined network's endpoint keeps as its Links.
func LinkArg(name, alias string) string {
	if alias == "" {
		return name
	}
	return name + ":" + alias
}
