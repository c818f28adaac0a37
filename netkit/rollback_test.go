package netkit_test

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/initproc"
	"github.com/labrun/labrun/netkit/testkit"
)

// Programs that fail in the ways a container's main process can: before it
// is ready, by never getting ready, and right after it said it was.
func init() {
	initproc.Register("rollback-fail", func(args []string, ready func()) error {
		return errors.New("deliberate failure before ready")
	})
	initproc.Register("rollback-hang", func(args []string, ready func()) error {
		select {}
	})
	initproc.Register("rollback-exit", func(args []string, ready func()) error {
		ready()
		return errors.New("deliberate failure after ready")
	})
}

// TestRollback makes netkit operations fail half-way, in one lab, and checks
// after each that the lab is as it was before it (rollbackState): a failed
// operation undoes what it did. Where the kernel cannot see a leak (an
// address or a host port still allocated), the next operation that needs
// it shows it.
func TestRollback(t *testing.T) {
	lab, e := newLab(t, netkit.LabOptions{}, netkit.DaemonOptions{})
	// A running container, published, and a user network with one free
	// address, so that failures happen next to live state.
	_, err := e.Run(netkit.RunOptions{Name: "keep", Publish: mustBindings(t, "801:80")})
	require.NoError(t, err)
	_, err = e.CreateNetwork(netkit.NetworkOptions{Name: "tiny", Subnet: netip.MustParsePrefix("10.9.0.0/29")})
	require.NoError(t, err)

	fails := []struct {
		name string
		op   func() error
		want string // in the error
	}{
		{"main process fails before ready", func() error {
			_, err := e.Run(netkit.RunOptions{Name: "f1", Program: "rollback-fail", Publish: mustBindings(t, "802:80")})
			return err
		}, "deliberate failure before ready"},
		{"main process never ready", func() error {
			_, err := e.Run(netkit.RunOptions{Name: "f2", Program: "rollback-hang", ReadyTimeout: 300 * time.Millisecond,
				Publish: mustBindings(t, "803:80/udp")})
			return err
		}, "main process not ready after 300ms"},
		{"main process exits once ready", func() error {
			c, err := e.Run(netkit.RunOptions{Name: "f3", Program: "rollback-exit", Publish: mustBindings(t, "804:80")})
			if err != nil {
				return err // it exited before Run saw it running
			}
			// It started, then exited by itself: it is torn down.
			code := c.Wait()
			return fmt.Errorf("container f3 exited by itself (state %s, status %d)", c.State(), code)
		}, "container f3"},
		{"second binding's port taken", func() error {
			_, err := e.Run(netkit.RunOptions{Name: "f4", Publish: append(mustBindings(t, "805:80"), mustBindings(t, "801:81")...)})
			return err
		}, "Bind for 0.0.0.0:801 failed: port is already allocated"},
		{"container mode, main process fails", func() error {
			_, err := e.Run(netkit.RunOptions{Name: "f5", Program: "rollback-fail", Network: netkit.Mode{Kind: netkit.ModeContainer, Container: "keep"}})
			return err
		}, "deliberate failure before ready"},
		{"user network, main process fails", func() error {
			_, err := e.Run(netkit.RunOptions{Name: "f6", Program: "rollback-fail", Network: netkit.Mode{Network: "tiny"}, IP: netip.MustParseAddr("10.9.0.6")})
			return err
		}, "deliberate failure before ready"},
		{"connect to a full network", func() error {
			// tiny (/29) has .2 to .6 for containers: fill it, fail one more.
			var made []string
			defer func() {
				for _, n := range made {
					e.Remove(n, true)
				}
			}()
			for i := 0; ; i++ {
				name := fmt.Sprintf("fill%d", i)
				if _, err := e.Run(netkit.RunOptions{Name: name, Network: netkit.Mode{Network: "tiny"}}); err != nil {
					break
				}
				made = append(made, name)
			}
			return e.Connect("tiny", "keep", netkit.ConnectOptions{})
		}, "no available IPv4 addresses on this network's address pools: tiny"},
		{"network with an overlapping subnet", func() error {
			_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "over", Subnet: netip.MustParsePrefix("10.9.0.0/24")})
			return err
		}, "Pool overlaps"},
		{"network with a gateway outside its subnet", func() error {
			_, err := e.CreateNetwork(netkit.NetworkOptions{Name: "gw", Subnet: netip.MustParsePrefix("10.8.0.0/24"), Gateway: netip.MustParseAddr("10.7.0.1")})
			return err
		}, "no matching subnet for gateway 10.7.0.1"},
	}
	for _, f := range fails {
		before := rollbackState(t, lab)
		err := f.op()
		require.Error(t, err, f.name)
		require.Contains(t, err.Error(), f.want, f.name)
		testkit.AssertUnchanged(t, before, rollbackState(t, lab), f.name+": the lab")
		// Docker keeps a container whose start failed, created: it goes,
		// so that the next case can take its name's place.
		for _, c := range e.Containers(true) {
			if c.State() != "running" {
				require.NoError(t, e.Remove(c.ID, true))
			}
		}
	}

	// What the failures had allocated is free again: the host ports, the
	// addresses (the lowest free one is handed out first), the subnet.
	for i, spec := range []string{"802:80", "803:80/udp", "804:80", "805:80"} {
		c, err := e.Run(netkit.RunOptions{Name: fmt.Sprintf("again%d", i), Publish: mustBindings(t, spec)})
		require.NoError(t, err, "publishing %s again", spec)
		require.Equal(t, fmt.Sprintf("172.17.0.%d", 3+i), c.IP("").String(), "the address of container again%d", i)
	}
	c, err := e.Run(netkit.RunOptions{Name: "tiny1", Network: netkit.Mode{Network: "tiny"}, IP: netip.MustParseAddr("10.9.0.6")})
	require.NoError(t, err, "--ip 10.9.0.6 again")
	require.Equal(t, "10.9.0.6", c.IP("tiny").String())
	_, err = e.CreateNetwork(netkit.NetworkOptions{Name: "gw", Subnet: netip.MustParsePrefix("10.8.0.0/24")})
	require.NoError(t, err, "the subnet of the refused network")
}

// rollbackState describes the lab as a failed operation must leave it, a
// fact a line: every node's links, addresses and routes (the host's and
// every running container's), listening sockets, and the host's iptables
// rules (testkit.NSState); the engine's networks and endpoints; the
// processes descending from this one; and the network namespaces it holds.
func rollbackState(t *testing.T, lab *netkit.Lab) testkit.Snapshot {
	t.Helper()
	var s testkit.Snapshot
	nodes := map[string]*netkit.Node{"host": lab.Host()}
	e := lab.Engine()
	e.Settle() // the engine's start ends in the background (ip6tables)
	for _, c := range e.Containers(false) {
		if n := c.Node(); n != nil {
			nodes["container "+c.Name] = n
		}
	}
	for name, n := range nodes {
		state, err := testkit.NSState(n.NS(), testkit.StateOptions{IPTables: name == "host"})
		require.NoError(t, err)
		for _, l := range state {
			s.Addf("%s: %s", name, l)
		}
	}
	for _, n := range e.Networks() {
		j := n.Inspect(e)
		s.Addf("network %s %s %s", n.Name, n.Bridge, n.Subnet)
		for _, c := range j.Containers {
			s.Addf("endpoint %s %s %s", n.Name, c.Name, c.IPv4Address)
		}
	}
	for _, p := range testkit.Descendants(os.Getpid()) {
		s.Addf("process %s", p)
	}
	s = append(s, testkit.HeldNamespaces()...)
	return s.Sorted()
}
