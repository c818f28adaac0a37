package link

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/labrun/labrun/netkit/batch"
)

// Deleter deletes the host-side veths of netkit's engine. Deleting a link waits
// for an RCU grace period (about 20 ms on a 2-core machine) however many
// links go with it, and deletions do not overlap in the kernel, so one by
// one a lab of 1000 containers would take 20 s to remove. The deleter
// batches instead (package batch): veths that several goroutines delete at
// the same time (docker rm -f of many containers, an engine stopping) are
// put in one link group and deleted with one request. A container being
// stopped announces its veths (Expect) before it kills its process, so that
// a batch waits for them. A deletion that runs alone (the usual case in a
// scenario) is a plain ip link del. Either way Delete returns once the
// veth, and with it its peer, is gone.
//
// Equivalent to: ip link set vethX nomaster group G; ip link set vethY
// nomaster group G; …; ip link del group G
type Deleter struct {
	lender Lender
	group  batch.Group[string]
}

// Lender lends the connections a Deleter works with, bound to the
// namespace of the links it deletes. Borrow's connection is the caller's
// alone until GiveBack; both are safe for concurrent use.
type Lender interface {
	Borrow() (*Conn, error)
	GiveBack(*Conn)
}

// NewDeleter returns a Deleter of the links in the namespace of l's
// connections.
func NewDeleter(l Lender) *Deleter {
	d := &Deleter{lender: l}
	d.group.Run = d.deleteBatch
	return d
}

// vethGroup is the link group veths are moved to just before a batch
// deletes them. It only has to differ from 0, every link's default group
// (deleting group 0 would delete every link): the namespace is the lab's
// own, where nothing else uses link groups.
const vethGroup = 0x4c52 // "LR"

// Expect announces n veths that the caller is about to delete.
func (d *Deleter) Expect(n int) *batch.Ticket { return d.group.Expect(n) }

// Delete deletes the veth named name; a veth already gone is not an error.
// t, if not nil, is the ticket that announced it.
//
// Equivalent to: ip link del NAME
func (d *Deleter) Delete(name string, t *batch.Ticket) error {
	return d.group.Do(name, t)
}

// deleteBatch deletes a batch of veths, returning each one's error. Each
// leaves its bridge before the group goes: a port deleted while still on
// the bridge makes the bridge re-select every remaining port's state twice
// (when it goes down, and when it leaves), one that has left, once.
func (d *Deleter) deleteBatch(names []string) []error {
	errs := make([]error, len(names))
	c, err := d.lender.Borrow()
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	defer d.lender.GiveBack(c)
	if len(names) == 1 {
		errs[0] = c.Delete(names[0])
		return errs
	}
	var grouped []int
	for i, name := range names {
		if err := c.LeaveBridge(name, vethGroup); err != nil {
			if !errors.Is(err, unix.ENODEV) { // gone already
				errs[i] = c.Delete(name)
			}
			continue
		}
		grouped = append(grouped, i)
	}
	if len(grouped) == 0 {
		return errs
	}
	if err := c.DeleteGroup(vethGroup); err != nil {
		// Whatever is left of the group goes one by one.
		for _, i := range grouped {
			errs[i] = c.Delete(names[i])
		}
	}
	return errs
}

// LeaveBridge takes the link named name off its bridge and moves it to
// link group group, in one request that names it (no lookup first); a link
// that is gone gives an error that matches unix.ENODEV. A port that has
// left its bridge this way is deleted with one re-selection of the
// bridge's other ports' states instead of two (see Deleter).
//
// Equivalent to: ip link set dev NAME nomaster group GROUP
func (c *Conn) LeaveBridge(name string, group uint32) error {
	req := nl.NewNetlinkRequest(unix.RTM_SETLINK, unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(0)))
	req.AddData(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(group)))
	if _, err := c.raw.roundTrip(req); err != nil {
		return fmt.Errorf("moving %s to link group %d: %w", name, group, err)
	}
	return nil
}

// Delete deletes the link named name in c's namespace, and with it its veth
// peer, with one request that names it; one already gone is not an error.
//
// Equivalent to: ip link del NAME
func (c *Conn) Delete(name string) error {
	if err := c.dellink(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name))); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("deleting veth %s: %w", name, err)
	}
	return nil
}

// DeleteGroup deletes every link of link group group in c's namespace with
// one request (the kernel unregisters them, and their veth peers, as one
// batch). group must not be 0, every link's default group.
//
// Equivalent to: ip link del group GROUP
func (c *Conn) DeleteGroup(group uint32) error {
	if group == 0 {
		return fmt.Errorf("deleting link group 0: %w", unix.EINVAL)
	}
	if err := c.dellink(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(group))); err != nil {
		return fmt.Errorf("deleting link group %d: %w", group, err)
	}
	return nil
}

// dellink sends one RTM_DELLINK for the link or links that by names (a
// name or a group). vishvananda/netlink looks a link up before it deletes
// it and has no call for groups, so the request goes on the raw socket
// (see AddVeth).
func (c *Conn) dellink(by *nl.RtAttr) error {
	req := nl.NewNetlinkRequest(unix.RTM_DELLINK, unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(by)
	_, err := c.raw.roundTrip(req)
	return err
}
