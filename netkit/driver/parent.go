package driver

import (
	"strconv"
	"strings"
)

// Network is a macvlan or ipvlan network as its driver keeps it.
type Network struct {
	ID     string
	Config Config
	// Parent is the link its children hang on (Config.ParentLink).
	Parent string
	// CreatedParent: the driver made the parent (an 802.1Q sub-interface
	// or a dummy), or, for macvlan, another network on it did; the last
	// such network removes it (Docker's CreatedSlaveLink).
	CreatedParent bool
}

// Make is what creating a network makes of its parent.
type Make int

const (
	// MakeNothing: the parent exists.
	MakeNothing Make = iota
	// MakeVLAN: the 802.1Q sub-interface Plan.Parent of Plan.Lower.
	MakeVLAN
	// MakeDummy: the dummy link Plan.Parent.
	MakeDummy
)

// Plan is what creating a network does about its parent link.
type Plan struct {
	Parent string
	Make   Make
	// Lower and VID: an 802.1Q parent's link and VLAN id.
	Lower string
	VID   int
	// Created: the parent is the driver's (see Network.CreatedParent).
	Created bool
}

// plan decides what creating network id with cfg does about its parent,
// given the driver's other networks and which links exist on the host
// (moby/moby libnetwork/drivers/macvlan/macvlan_network.go createNetwork,
// macvlan_setup.go createVlanLink and parseVlan, and their ipvlan twins,
// v28.5.2):
//   - macvlan: any number of networks share a parent, but passthru wants
//     it alone, both ways; ipvlan: one network per parent, and the error
//     names the existing network by its dummy name ("di-" and its ID),
//     even for a real parent;
//   - a parent that does not exist is made: the network's dummy when no
//     parent was given, else NAME.VID, an 802.1Q sub-interface of NAME;
//   - a macvlan network on a parent that another network's driver made
//     shares its removal.
func plan(id string, cfg Config, others []*Network, exists func(string) bool) (Plan, error) {
	p := Plan{Parent: cfg.ParentLink(id)}
	for _, o := range others {
		if o.Parent != p.Parent || o.ID == id || o.Config.Driver != cfg.Driver {
			continue
		}
		if cfg.Driver == IPvlan {
			return Plan{}, errorf(ErrConflict, "network %s is already using parent interface %s", DummyName(IPvlan, o.ID), p.Parent)
		}
		if cfg.Macvlan == MacvlanPassthru {
			return Plan{}, errorf(ErrConflict, "cannot use mode passthru, macvlan network %s is already using parent interface %s", o.ID, p.Parent)
		}
		if o.Config.Macvlan == MacvlanPassthru {
			return Plan{}, errorf(ErrConflict, "macvlan network %s is already using parent interface %s in mode passthru", o.ID, p.Parent)
		}
	}
	if exists(p.Parent) {
		for _, o := range others {
			if cfg.Driver == Macvlan && o.Config.Driver == Macvlan && o.Parent == p.Parent && o.CreatedParent {
				p.Created = true
			}
		}
		return p, nil
	}
	p.Created = true
	if p.Parent == DummyName(cfg.Driver, id) {
		p.Make = MakeDummy
		return p, nil
	}
	if !strings.Contains(p.Parent, ".") {
		return Plan{}, errorf(ErrInvalid, "invalid subinterface vlan name %s, example formatting is eth0.10", p.Parent)
	}
	lower, vid, err := ParseVLAN(p.Parent, exists)
	if err != nil {
		return Plan{}, err
	}
	if vid > 4094 || vid < 1 {
		return Plan{}, errorf(ErrInvalid, "vlan id must be between 1-4094, received: %d", vid)
	}
	p.Make, p.Lower, p.VID = MakeVLAN, lower, vid
	return p, nil
}

// ParseVLAN parses an 802.1Q parent's name, NAME.VID, whose NAME must
// exist (moby/moby libnetwork/drivers/macvlan/macvlan_setup.go parseVlan,
// v28.5.2). The VID's range is not checked.
func ParseVLAN(name string, exists func(string) bool) (lower string, vid int, err error) {
	parts := strings.Split(name, ".")
	if len(parts) != 2 {
		return "", 0, errorf(ErrInvalid, "required interface name format is: name.vlan_id, ex. eth0.10 for vlan 10, instead received %s", name)
	}
	vid, aerr := strconv.Atoi(parts[1])
	if aerr != nil {
		return "", 0, errorf(ErrInvalid, "unable to parse a valid vlan id from: %s (ex. eth0.10 for vlan 10)", parts[1])
	}
	if !exists(parts[0]) {
		return "", 0, errorf(ErrInvalid, "-o parent interface was not found on the host: %s", parts[0])
	}
	return parts[0], vid, nil
}

// removesParent reports whether removing network n removes its parent,
// given the driver's networks (n among them) and whether the parent still
// exists: only a parent the driver made, and for macvlan only with its
// last network (DeleteNetwork, parentHasSingleUser).
func removesParent(n *Network, nets []*Network, exists bool) bool {
	if !n.CreatedParent || !exists {
		return false
	}
	users := 0
	for _, o := range nets {
		if o.Parent == n.Parent && o.Config.Driver == n.Config.Driver {
			users++
		}
	}
	return n.Config.Driver == IPvlan || users == 1
}
