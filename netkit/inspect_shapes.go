package netkit

import (
	"bytes"
	"encoding/json"
)

// The JSON shapes of the engine API by version (docs/docker.md §5). The Go types in
// inspect.go hold every field any version has; MarshalJSON writes the
// fields of the object's API version, in that version's order, so that
// docker inspect prints what that engine prints. Each shape is a list of
// keys: a table, not a type per version.

// To a client of an older API version (the CLI negotiates min(its API,
// the engine's), or takes $DOCKER_API_VERSION), the engine answers with
// its own types, changed by its API router as the tables below say
// (docs/docker.md §5.3; observed on 28.5.2 and 29.8.1).

// apiAliasShortID: a client before API 1.45 gets the short ID and the
// hostname in a user-defined network's Aliases, from engines of 1.45+
// (moby/moby v28.5.2 api/server/router/container/inspect.go).
const apiAliasShortID = 45

// sinceAPI are the fields an engine has but writes only to clients of at
// least that API version: a network's Status (moby/moby 29
// daemon/server/router/network/network_routes.go, withStatus).
var sinceAPI = map[string]int{"Status": apiV29}

// legacyBridgeFields are the top-level NetworkSettings fields that an
// engine of API 1.52+ adds for a client before 1.52, from the endpoint on
// "bridge", when the container has one; the whole object then has its keys
// sorted (moby/moby 29 daemon/server/router/container/inspect.go, and
// daemon/internal/compat).
var legacyBridgeFields = []string{"EndpointID", "Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen",
	"IPAddress", "IPPrefixLen", "IPv6Gateway", "MacAddress"}

// forClient drops from keys the fields newer than the client's API.
func forClient(keys []string, client int) []string {
	var out []string
	for _, k := range keys {
		if since, ok := sinceAPI[k]; !ok || client >= since {
			out = append(out, k)
		}
	}
	return out
}

// networkSettingsKeys returns NetworkSettings' keys for API version api.
func networkSettingsKeys(api int) []string {
	switch {
	case api >= apiV29:
		return []string{"SandboxID", "SandboxKey", "Ports", "Networks"}
	case api <= apiShortIDAlias:
		return []string{"Bridge", "SandboxID", "HairpinMode", "LinkLocalIPv6Address", "LinkLocalIPv6PrefixLen",
			"Ports", "SandboxKey", "SecondaryIPAddresses", "SecondaryIPv6Addresses",
			"EndpointID", "Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen", "IPAddress", "IPPrefixLen",
			"IPv6Gateway", "MacAddress", "Networks"}
	}
	return []string{"Bridge", "SandboxID", "SandboxKey", "Ports", "HairpinMode", "LinkLocalIPv6Address",
		"LinkLocalIPv6PrefixLen", "SecondaryIPAddresses", "SecondaryIPv6Addresses",
		"EndpointID", "Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen", "IPAddress", "IPPrefixLen",
		"IPv6Gateway", "MacAddress", "Networks"}
}

// endpointKeys returns EndpointSettings' keys for API version api.
func endpointKeys(api int) []string {
	switch {
	case api >= apiV29:
		return []string{"IPAMConfig", "Links", "Aliases", "DriverOpts", "GwPriority", "NetworkID", "EndpointID",
			"Gateway", "IPAddress", "MacAddress", "IPPrefixLen", "IPv6Gateway", "GlobalIPv6Address",
			"GlobalIPv6PrefixLen", "DNSNames"}
	case api >= apiGwPriority:
		return []string{"IPAMConfig", "Links", "Aliases", "MacAddress", "DriverOpts", "GwPriority", "NetworkID",
			"EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway", "GlobalIPv6Address",
			"GlobalIPv6PrefixLen", "DNSNames"}
	case api <= apiShortIDAlias:
		return []string{"IPAMConfig", "Links", "Aliases", "NetworkID", "EndpointID", "Gateway", "IPAddress",
			"IPPrefixLen", "IPv6Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen", "MacAddress", "DriverOpts"}
	}
	return []string{"IPAMConfig", "Links", "Aliases", "MacAddress", "DriverOpts", "NetworkID", "EndpointID",
		"Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen", "DNSNames"}
}

// networkKeys returns NetworkJSON's keys for API version api.
func networkKeys(api int) []string {
	head := []string{"Name", "Id", "Created", "Scope", "Driver"}
	mid := []string{"IPAM", "Internal", "Attachable", "Ingress", "ConfigFrom", "ConfigOnly"}
	switch {
	case api >= apiV29:
		out := append(head, "EnableIPv4", "EnableIPv6")
		out = append(out, mid...)
		return append(out, "Options", "Labels", "Containers", "Status")
	case api >= apiGwPriority:
		out := append(head, "EnableIPv4", "EnableIPv6")
		out = append(out, mid...)
		return append(out, "Containers", "Options", "Labels")
	}
	out := append(head, "EnableIPv6")
	out = append(out, mid...)
	return append(out, "Containers", "Options", "Labels")
}

// orderedJSON writes an object of the given keys in order, each with its
// value from vals.
func orderedJSON(keys []string, vals map[string]any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		b.Write(kj)
		b.WriteByte(':')
		vj, err := json.Marshal(vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vj)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// MarshalJSON writes the settings in the shape of their API version.
func (s NetworkSettings) MarshalJSON() ([]byte, error) {
	return orderedJSON(networkSettingsKeys(s.api), map[string]any{
		"Bridge": s.Bridge, "SandboxID": s.SandboxID, "SandboxKey": s.SandboxKey, "Ports": s.Ports,
		"HairpinMode": s.HairpinMode, "LinkLocalIPv6Address": s.LinkLocalIPv6Address,
		"LinkLocalIPv6PrefixLen": s.LinkLocalIPv6PrefixLen, "SecondaryIPAddresses": s.SecondaryIPAddresses,
		"SecondaryIPv6Addresses": s.SecondaryIPv6Addresses, "EndpointID": s.EndpointID, "Gateway": s.Gateway,
		"GlobalIPv6Address": s.GlobalIPv6Address, "GlobalIPv6PrefixLen": s.GlobalIPv6PrefixLen,
		"IPAddress": s.IPAddress, "IPPrefixLen": s.IPPrefixLen, "IPv6Gateway": s.IPv6Gateway,
		"MacAddress": s.MacAddress, "Networks": s.Networks,
	})
}

// MarshalJSON writes the endpoint in the shape of its API version.
func (s EndpointSettings) MarshalJSON() ([]byte, error) {
	return orderedJSON(endpointKeys(s.api), map[string]any{
		"IPAMConfig": s.IPAMConfig, "Links": s.Links, "Aliases": s.Aliases, "MacAddress": s.MacAddress,
		"DriverOpts": s.DriverOpts, "GwPriority": s.GwPriority, "NetworkID": s.NetworkID,
		"EndpointID": s.EndpointID, "Gateway": s.Gateway, "IPAddress": s.IPAddress, "IPPrefixLen": s.IPPrefixLen,
		"IPv6Gateway": s.IPv6Gateway, "GlobalIPv6Address": s.GlobalIPv6Address,
		"GlobalIPv6PrefixLen": s.GlobalIPv6PrefixLen, "DNSNames": s.DNSNames,
	})
}

// MarshalJSON writes the network in the shape of its API version, for
// its client's.
func (j NetworkJSON) MarshalJSON() ([]byte, error) {
	client := j.client
	if client == 0 {
		client = j.api
	}
	return orderedJSON(forClient(networkKeys(j.api), client), map[string]any{
		"Name": j.Name, "Id": j.Id, "Created": j.Created, "Scope": j.Scope, "Driver": j.Driver,
		"EnableIPv4": j.EnableIPv4, "EnableIPv6": j.EnableIPv6, "IPAM": j.IPAM, "Internal": j.Internal,
		"Attachable": j.Attachable, "Ingress": j.Ingress, "ConfigFrom": j.ConfigFrom, "ConfigOnly": j.ConfigOnly,
		"Containers": j.Containers, "Options": j.Options, "Labels": j.Labels, "Status": j.Status,
	})
}

// MarshalJSON writes the container in the shape of its engine's API
// version, for its client's: the engine's fields in order, or, from an
// engine of 1.52+ to a client before 1.52 with an endpoint on "bridge",
// every object's keys in alphabetical order with legacyBridgeFields added.
func (j ContainerJSON) MarshalJSON() ([]byte, error) {
	type plain ContainerJSON // without this method
	b, err := json.Marshal(plain(j))
	if err != nil || j.api < apiV29 || j.client >= apiV29 || j.NetworkSettings.Networks["bridge"] == nil {
		return b, err
	}
	return withLegacyBridge(b)
}

// withLegacyBridge adds legacyBridgeFields to a container's JSON through
// maps, whose keys encoding/json sorts, as Docker's compat.Wrap does.
func withLegacyBridge(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	ns, _ := m["NetworkSettings"].(map[string]any)
	nets, _ := ns["Networks"].(map[string]any)
	br, _ := nets["bridge"].(map[string]any)
	if br == nil {
		return b, nil
	}
	for _, k := range legacyBridgeFields {
		if ns[k] == nil {
			ns[k] = br[k]
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte{'\n'}), nil
}

// NetworkStatus is docker network inspect's Status (API 1.52+).
type NetworkStatus struct {
	IPAM NetworkStatusIPAM
}

// NetworkStatusIPAM is Status.IPAM: the use of each subnet.
type NetworkStatusIPAM struct {
	Subnets map[string]SubnetStatus
}

// SubnetStatus is one subnet's use: every allocated address (network,
// broadcast and gateway included), and how many dynamic ones are left.
type SubnetStatus struct {
	IPsInUse            int
	DynamicIPsAvailable int
}
