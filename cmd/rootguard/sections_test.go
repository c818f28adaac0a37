package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNamedNamespacesAndForwarding: the guard that `make test` runs after the
// whole suite sees a named namespace left in /run/netns (a lab pinned and
// never removed) and a changed ip_forward, with or without -ignore-docker,
// which never leaves those sections out.
func TestNamedNamespacesAndForwarding(t *testing.T) {
	before := snapshot{"netns": {"mine"}, "sysctl": {"net.ipv4.ip_forward = 1", "net.ipv6.conf.all.forwarding = 0"}}
	after := snapshot{"netns": {"labrun-publish-ports-a1b2c3-host", "mine"}, "sysctl": {"net.ipv4.ip_forward = 0", "net.ipv6.conf.all.forwarding = 0"}}
	for _, ignore := range []bool{false, true} {
		b, a := before, after
		if ignore {
			subnets := dockerSubnets(b, a)
			b, _ = withoutDocker(b, subnets)
			a, _ = withoutDocker(a, subnets)
		}
		got := compare(b, a)
		for _, want := range []string{"+ labrun-publish-ports-a1b2c3-host", "- net.ipv4.ip_forward = 1", "+ net.ipv4.ip_forward = 0"} {
			assert.Contains(t, got, want, "ignore-docker %v", ignore)
		}
	}

	// -ignore-netns leaves out the matching names only, on both sides.
	got := compare(withoutNetns(before, "labrun-*"), withoutNetns(after, "labrun-*"))
	assert.NotContains(t, got, "labrun-publish-ports-a1b2c3-host", "-ignore-netns labrun-*")
	assert.Contains(t, got, "+ net.ipv4.ip_forward = 0", "-ignore-netns leaves the other sections")
	assert.Equal(t, []string{"mine"}, withoutNetns(after, "labrun-*")["netns"])
	assert.Equal(t, []string{"labrun-publish-ports-a1b2c3-host", "mine"}, after["netns"], "withoutNetns changed its argument")

	// namedNetns lists what `ip netns list` lists: the files in the directory.
	dir := t.TempDir()
	for _, n := range []string{"b", "a"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o444)
	}
	names, err := namedNetns(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, names)
	names, err = namedNetns(filepath.Join(dir, "missing"))
	require.NoError(t, err, "namedNetns(missing dir)")
	assert.Nil(t, names, "namedNetns(missing dir)")
}
