package runner

import (
	"errors"
	"slices"
	"testing"
	"time"
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
		rest, timeout, err := probeFlags(tc.args, time.Second, func(fs *flagSet) {
			fs.Bool(&udp, "", "udp")
			fs.String(&password, "", "password")
		})
		if err != nil || !slices.Equal(rest, tc.rest) || timeout != tc.timeout || udp != tc.udp || password != tc.password {
			t.Errorf("probeFlags(%q) = %q, %v, udp %v, password %q, %v; want %q, %v, udp %v, password %q",
				tc.args, rest, timeout, udp, password, err, tc.rest, tc.timeout, tc.udp, tc.password)
		}
	}
	for _, args := range [][]string{{"-bogus", "web", "a:1"}, {"-timeout", "never", "web", "a:1"}, {"-timeout", "-1s", "web"}} {
		if _, _, err := probeFlags(args, time.Second, nil); !errors.Is(err, ErrUsage) {
			t.Errorf("probeFlags(%q): error %v, want a usage error", args, err)
		}
	}
}
