package shapes

// The types below are the engine API's JSON shapes for Docker 27 (API
// 1.47): field order and names are Docker's, so encoding/json output and
// docker inspect -f templates ({{.State.Pid}},
// {{.NetworkSettings.IPAddress}}) behave as with Docker.

// ContainerJSON is docker inspect's object for a container.
type ContainerJSON struct {
	Id              string
	Created         string
	Path            string
	Args            []string
	State           ContainerState
	Image           string
	Name            string
	RestartCount    int
	Driver          string
	Platform        string
	HostConfig      HostConfig
	Config          ContainerConfig
	NetworkSettings NetworkSettings

	// API and Client are the engine's and its client's API versions
	// (minor numbers), whose shape MarshalJSON writes.
	API, Client int `json:"-"`
}

// ContainerState is docker inspect's State.
type ContainerState struct {
	Status     string
	Running    bool
	Paused     bool
	Restarting bool
	OOMKilled  bool
	Dead       bool
	Pid        int
	ExitCode   int
	Error      string
	StartedAt  string
	FinishedAt string
}

// HostConfig is the networking part of docker inspect's HostConfig. The
// docker CLI sends Dns, DnsOptions and DnsSearch empty rather than null;
// ExtraHosts and Links are null when none was given.
type HostConfig struct {
	NetworkMode     string
	PortBindings    map[string][]PortBindingJSON
	AutoRemove      bool
	Dns             []string
	DnsOptions      []string
	DnsSearch       []string
	ExtraHosts      []string
	Links           []string
	PublishAllPorts bool
}

// ContainerConfig is part of docker inspect's Config.
type ContainerConfig struct {
	Hostname     string
	Domainname   string
	User         string
	ExposedPorts map[string]struct{} `json:",omitempty"`
	Cmd          []string
	Image        string
	MacAddress   string            `json:",omitempty"` // --mac-address, where the release shows it here
	Labels       map[string]string `json:",omitempty"` // --label, and Compose's labels
}

// PortBindingJSON is one host binding: {"HostIp": "0.0.0.0", "HostPort": "8080"}.
type PortBindingJSON struct {
	HostIp   string
	HostPort string
}

// NetworkSettings is docker inspect's NetworkSettings. It holds the fields
// of every API version; MarshalJSON writes those of the engine's, in its
// order (marshal.go).
type NetworkSettings struct {
	Bridge                 string
	SandboxID              string
	SandboxKey             string
	Ports                  map[string][]PortBindingJSON
	HairpinMode            bool
	LinkLocalIPv6Address   string
	LinkLocalIPv6PrefixLen int
	SecondaryIPAddresses   []string
	SecondaryIPv6Addresses []string
	EndpointID             string
	Gateway                string
	GlobalIPv6Address      string
	GlobalIPv6PrefixLen    int
	IPAddress              string
	IPPrefixLen            int
	IPv6Gateway            string
	MacAddress             string
	Networks               map[string]*EndpointSettings

	API int `json:"-"` // the engine API version whose shape MarshalJSON writes
}

// EndpointSettings is one entry of NetworkSettings.Networks (every API
// version's fields; see MarshalJSON).
type EndpointSettings struct {
	IPAMConfig          *EndpointIPAMConfig
	Links               []string
	Aliases             []string
	MacAddress          string
	DriverOpts          map[string]string
	NetworkID           string
	EndpointID          string
	Gateway             string
	IPAddress           string
	IPPrefixLen         int
	IPv6Gateway         string
	GlobalIPv6Address   string
	GlobalIPv6PrefixLen int
	DNSNames            []string
	// GwPriority is the endpoint's gateway priority (API 1.48+; always 0
	// in labrun).
	GwPriority int

	API int `json:"-"` // the engine API version whose shape MarshalJSON writes
}

// EndpointIPAMConfig holds a requested --ip and --ip6.
type EndpointIPAMConfig struct {
	IPv4Address string `json:",omitempty"`
	IPv6Address string `json:",omitempty"`
}

// NetworkJSON is docker network inspect's object, with the fields of every
// API version; MarshalJSON writes those of the engine's, in its order.
type NetworkJSON struct {
	Name       string
	Id         string
	Created    string
	Scope      string
	Driver     string
	EnableIPv4 bool // API 1.48+
	EnableIPv6 bool
	IPAM       IPAMJSON
	Internal   bool
	Attachable bool
	Ingress    bool
	ConfigFrom struct{ Network string }
	ConfigOnly bool
	Containers map[string]NetworkContainer
	Options    map[string]string
	Labels     map[string]string
	// Status is the networks' address use (API 1.52+).
	Status *NetworkStatus

	API, Client int `json:"-"` // the engine's and its client's API versions
}

// IPAMJSON is a network's IPAM section.
type IPAMJSON struct {
	Driver  string
	Options map[string]string
	Config  []IPAMConfig
}

// IPAMConfig is one pool of a network.
type IPAMConfig struct {
	Subnet  string `json:",omitempty"`
	IPRange string `json:",omitempty"`
	Gateway string `json:",omitempty"`
	// AuxiliaryAddresses holds the default bridge's --default-gateway
	// ("DefaultGatewayIPv4").
	AuxiliaryAddresses map[string]string `json:",omitempty"`
}

// NetworkContainer is one container entry of docker network inspect.
type NetworkContainer struct {
	Name        string
	EndpointID  string
	MacAddress  string
	IPv4Address string
	IPv6Address string
}
