// Package shapes is the JSON objects of the Docker Engine API that labrun's
// engine writes (docs/docker.md §5): a container's inspect object, its
// NetworkSettings and endpoints, a network's, each holding the fields of
// every API version, and for each the list of its keys, in the order an
// engine of that version writes them, and what an engine writes to a client
// of an older version. Each shape is a table, not a type per version.
//
// It is not where the objects are filled in: netkit's engine builds them
// from its containers and networks. It imports nothing of labrun.
package shapes

import (
	"bytes"
	"encoding/json"
	"time"
)

// API versions (minor numbers) whose shapes differ.
const (
	// ShortIDAlias: up to API 1.43, a container on a user-defined
	// network has its short ID in Aliases, and endpoints have no DNSNames.
	ShortIDAlias = 43
	// GwPriority: from API 1.48 (Docker 28.0), endpoints have GwPriority
	// and networks EnableIPv4.
	GwPriority = 48
	// V29: from API 1.52 (Docker 29.0), NetworkSettings has only
	// SandboxID, SandboxKey, Ports and Networks, and networks have Status.
	V29 = 52
)

// To a client of an older API version (the CLI negotiates min(its API,
// the engine's), or takes $DOCKER_API_VERSION), the engine answers with
// its own types, changed by its API router as the tables below say
// (docs/docker.md §5.3; observed on 28.5.2 and 29.8.1).

// AliasShortID: a client before API 1.45 gets the short ID and the
// hostname in a user-defined network's Aliases, from engines of 1.45+
// (moby/moby v28.5.2 api/server/router/container/inspect.go).
const AliasShortID = 45

// sinceAPI are the fields an engine has but writes only to clients of at
// least that API version: a network's Status (moby/moby 29
// daemon/server/router/network/network_routes.go, withStatus).
var sinceAPI = map[string]int{"Status": V29}

// LegacyBridgeFields are the top-level NetworkSettings fields that an
// engine of API 1.52+ adds for a client before 1.52, from the endpoint on
// "bridge", when the container has one; the whole object then has its keys
// sorted (moby/moby 29 daemon/server/router/container/inspect.go, and
// daemon/internal/compat).
var LegacyBridgeFields = []string{"EndpointID", "Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen",
	"IPAddress", "IPPrefixLen", "IPv6Gateway", "MacAddress"}

// ForClient drops from keys the fields newer than the client's API.
func ForClient(keys []string, client int) []string {
	var out []string
	for _, k := range keys {
		if since, ok := sinceAPI[k]; !ok || client >= since {
			out = append(out, k)
		}
	}
	return out
}

// NetworkSettingsKeys returns a container's NetworkSettings keys for API version api.
func NetworkSettingsKeys(api int) []string {
	switch {
	case api >= V29:
		return []string{"SandboxID", "SandboxKey", "Ports", "Networks"}
	case api <= ShortIDAlias:
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

// EndpointKeys returns an endpoint's keys for API version api.
func EndpointKeys(api int) []string {
	switch {
	case api >= V29:
		return []string{"IPAMConfig", "Links", "Aliases", "DriverOpts", "GwPriority", "NetworkID", "EndpointID",
			"Gateway", "IPAddress", "MacAddress", "IPPrefixLen", "IPv6Gateway", "GlobalIPv6Address",
			"GlobalIPv6PrefixLen", "DNSNames"}
	case api >= GwPriority:
		return []string{"IPAMConfig", "Links", "Aliases", "MacAddress", "DriverOpts", "GwPriority", "NetworkID",
			"EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway", "GlobalIPv6Address",
			"GlobalIPv6PrefixLen", "DNSNames"}
	case api <= ShortIDAlias:
		return []string{"IPAMConfig", "Links", "Aliases", "NetworkID", "EndpointID", "Gateway", "IPAddress",
			"IPPrefixLen", "IPv6Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen", "MacAddress", "DriverOpts"}
	}
	return []string{"IPAMConfig", "Links", "Aliases", "MacAddress", "DriverOpts", "NetworkID", "EndpointID",
		"Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen", "DNSNames"}
}

// NetworkKeys returns a network's keys for API version api.
func NetworkKeys(api int) []string {
	head := []string{"Name", "Id", "Created", "Scope", "Driver"}
	mid := []string{"IPAM", "Internal", "Attachable", "Ingress", "ConfigFrom", "ConfigOnly"}
	switch {
	case api >= V29:
		out := append(head, "EnableIPv4", "EnableIPv6")
		out = append(out, mid...)
		return append(out, "Options", "Labels", "Containers", "Status")
	case api >= GwPriority:
		out := append(head, "EnableIPv4", "EnableIPv6")
		out = append(out, mid...)
		return append(out, "Containers", "Options", "Labels")
	}
	out := append(head, "EnableIPv6")
	out = append(out, mid...)
	return append(out, "Containers", "Options", "Labels")
}

// Ordered writes an object of the given keys in order, each with its
// value from vals.
func Ordered(keys []string, vals map[string]any) ([]byte, error) {
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

// Time is a time as the engine writes it: RFC 3339 with nanoseconds, in
// UTC, and Go's zero time for none.
func Time(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// PseudoNetwork is docker network ls's pseudo-network "host" or "none",
// which exist on every Docker host, with its ID.
func PseudoNetwork(name, id string) NetworkJSON {
	driver := name
	if name == "none" {
		driver = "null"
	}
	return NetworkJSON{Name: name, Id: id, Scope: "local", Driver: driver,
		IPAM: IPAMJSON{Driver: "default", Config: []IPAMConfig{}}, Containers: map[string]NetworkContainer{},
		Options: map[string]string{}, Labels: map[string]string{}}
}
