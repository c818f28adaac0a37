package runner

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/labrun/labrun/runner/dockercli"
)

// TestProbeFlags checks that the probes take their flags as their usage
// spells them (-timeout D, -udp, -password P), and also with two dashes.
func TestProbeFlags(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		rest     []string
		timeout  time.Duration
		udp      bool
		password string
	}{
		{[]string{"web", "203.0.113.10:80"}, []string{"web", "203.0.113.10:80"}, time.Second, false, "labrun"},
		{[]string{"-timeout", "300ms", "web", "a:1"}, []string{"web", "a:1"}, 300 * time.Millisecond, false, "labrun"},
		{[]string{"-udp", "-timeout=2s", "web", "a:1"}, []string{"web", "a:1"}, 2 * time.Second, true, "labrun"},
		{[]string{"--timeout", "3s", "--udp", "web", "a:1"}, []string{"web", "a:1"}, 3 * time.Second, true, "labrun"},
		{[]string{"-timeout", "1s", "-udp", "web", "a:1"}, []string{"web", "a:1"}, time.Second, true, "labrun"},
		// An ssh COMMAND keeps its own flags.
		{[]string{"-password", "-x", "client", "root@a", "ls", "-la"}, []string{"client", "root@a", "ls", "-la"}, time.Second, false, "-x"},
		{[]string{"--", "-client"}, []string{"-client"}, time.Second, false, "labrun"},
	} {
		udp, password := false, "labrun"
		rest, timeout, err := probeFlags(tc.args, time.Second, func(fs *dockercli.FlagSet) {
			fs.Bool(&udp, "", "udp")
			fs.String(&password, "", "password")
		})
		if !assert.NoError(t, err, "probeFlags(%q)", tc.args) {
			continue
		}
		assert.Equal(t, tc.rest, rest, "probeFlags(%q): arguments left", tc.args)
		assert.Equal(t, tc.timeout, timeout, "probeFlags(%q): timeout", tc.args)
		assert.Equal(t, tc.udp, udp, "probeFlags(%q): udp", tc.args)
		assert.Equal(t, tc.password, password, "probeFlags(%q): password", tc.args)
	}
	for _, args := range [][]string{{"-bogus", "web", "a:1"}, {"-timeout", "never", "web", "a:1"}, {"-timeout", "-1s", "web"}} {
		_, _, err := probeFlags(args, time.Second, nil)
		assert.ErrorIs(t, err, ErrUsage, "probeFlags(%q)", args)
	}
}

// FuzzProbeFlags feeds the probes' flag parser with arbitrary command lines
// (one argument per whitespace-separated word, as a scenario line splits
// them): it never panics, refuses what it cannot use with ErrUsage, and
// what it accepts is consistent. `make fuzz` runs it.
func FuzzProbeFlags(f *testing.F) {
	for _, prefix := range []string{"reach ", "ping ", "http ", "ssh "} {
		fuzzSeeds(f, prefix)
	}
	for _, s := range []string{
		"client 192.168.190.128:80", "-udp -timeout 300ms client 203.0.113.10:53",
		"-timeout=2s -password x client root@192.168.190.128:10111 hostname -f",
		"--timeout 1s client 1.2.3.4:5", "-timeout 0 client", "-timeout", "-udp=false x y", "-- -x y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		var udp bool
		var password string
		rest, timeout, err := probeFlags(args, time.Second, func(fs *dockercli.FlagSet) {
			fs.Bool(&udp, "", "udp")
			fs.String(&password, "", "password")
		})
		if err != nil {
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("probeFlags(%q): error %#v is not a usage error", args, err)
			}
			return
		}
		if timeout <= 0 {
			t.Fatalf("probeFlags(%q): timeout %v", args, timeout)
		}
		if len(rest) > len(args) {
			t.Fatalf("probeFlags(%q): more arguments left (%q) than given", args, rest)
		}
	})
}

// fuzzSeeds are command lines from the bad-input table.
func fuzzSeeds(f *testing.F, prefix string) {
	for _, b := range badInputs {
		if rest, ok := strings.CutPrefix(b.cmd, prefix); ok {
			f.Add(rest)
		}
	}
}

func TestParseSSHTarget(t *testing.T) {
	for _, tc := range []struct {
		in, user, addr string
	}{
		{"192.168.190.128", "root", "192.168.190.128:22"},
		{"root@192.168.190.128:10111", "root", "192.168.190.128:10111"},
		{"alice@10.0.0.1", "alice", "10.0.0.1:22"},
		{"[::1]:2222", "root", "[::1]:2222"},
		{"::1", "root", "[::1]:22"},
	} {
		user, addr, err := parseSSHTarget(tc.in)
		assert.NoError(t, err, "parseSSHTarget(%q)", tc.in)
		assert.Equal(t, tc.user, user, "parseSSHTarget(%q): user", tc.in)
		assert.Equal(t, tc.addr, addr.String(), "parseSSHTarget(%q): address", tc.in)
	}
	_, _, err := parseSSHTarget("root@host")
	assert.Error(t, err, "parseSSHTarget(root@host): no error for a name")
}
