package shapes

import (
	"bytes"
	"encoding/json"
)

// The types in types.go hold every field any API version has;
// MarshalJSON writes the fields of the object's API version, in that
// version's order, so that docker inspect prints what that engine prints.

// MarshalJSON writes the settings in the shape of their API version.
func (s NetworkSettings) MarshalJSON() ([]byte, error) {
	return Ordered(NetworkSettingsKeys(s.API), map[string]any{
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
	return Ordered(EndpointKeys(s.API), map[string]any{
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
	client := j.Client
	if client == 0 {
		client = j.API
	}
	return Ordered(ForClient(NetworkKeys(j.API), client), map[string]any{
		"Name": j.Name, "Id": j.Id, "Created": j.Created, "Scope": j.Scope, "Driver": j.Driver,
		"EnableIPv4": j.EnableIPv4, "EnableIPv6": j.EnableIPv6, "IPAM": j.IPAM, "Internal": j.Internal,
		"Attachable": j.Attachable, "Ingress": j.Ingress, "ConfigFrom": j.ConfigFrom, "ConfigOnly": j.ConfigOnly,
		"Containers": j.Containers, "Options": j.Options, "Labels": j.Labels, "Status": j.Status,
	})
}

// MarshalJSON writes the container in the shape of its engine's API
// version, for its client's: the engine's fields in order, or, from an
// engine of 1.52+ to a client before 1.52 with an endpoint on "bridge" or
// a Config.MacAddress (the fields that engine adds for such a client),
// every object's keys in alphabetical order, with LegacyBridgeFields added
// where there is a "bridge" endpoint.
func (j ContainerJSON) MarshalJSON() ([]byte, error) {
	type plain ContainerJSON // without this method
	b, err := json.Marshal(plain(j))
	if err != nil || j.API < V29 || j.Client >= V29 || j.NetworkSettings.Networks["bridge"] == nil && j.Config.MacAddress == "" {
		return b, err
	}
	return withLegacyBridge(b)
}

// withLegacyBridge adds LegacyBridgeFields to a container's JSON, if it has
// a "bridge" endpoint, through maps, whose keys encoding/json sorts, as
// Docker's compat.Wrap does.
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
	for _, k := range LegacyBridgeFields {
		if br != nil && ns[k] == nil {
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
	IPsInUse            uint64
	DynamicIPsAvailable uint64
}
