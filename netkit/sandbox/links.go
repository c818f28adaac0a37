package sandbox

import (
	"net/netip"

	"github.com/labrun/labrun/netkit/etcfiles"
	"github.com/labrun/labrun/netkit/ports"
	"github.com/labrun/labrun/netkit/release"
)

// Linked is the running container a legacy --link names, as its parent
// sees it on the default bridge.
type Linked struct {
	Alias, Name, Hostname string
	Addr                  netip.Addr
	Exposed               []ports.Port
	Env                   []string // its -e variables
}

// LinkRecords are the parent's /etc/hosts lines of its links (moby/moby
// daemon/container_operations_unix.go addLegacyLinks, v28.5.2).
func LinkRecords(ls []Linked) []etcfiles.Record {
	var out []etcfiles.Record
	for _, l := range ls {
		out = append(out, etcfiles.LinkRecord(l.Addr, l.Alias, l.Hostname, l.Name))
	}
	return out
}

// LinkEnv returns the variables the links set in parent's processes, the
// main one and docker exec's (moby/moby daemon/links/links.go ToEnv and
// daemon/exec.go, v28.5.2); none from Docker 29.
func LinkEnv(r release.Release, parent string, ls []Linked) []string {
	var out []string
	for _, l := range ls {
		out = append(out, etcfiles.LinkEnv(r, l.Alias, parent, l.Addr, l.Exposed, l.Env)...)
	}
	return out
}
