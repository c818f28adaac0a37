package firewall

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/labrun/labrun/netkit/release"
)

// TestUserChainAtStart: from 28 the controller sets up DOCKER-USER when it
// starts, so an engine with no network (dockerd -b none) has it; up to 27
// only a network create does (fidelity case daemon_bridge_none).
func TestUserChainAtStart(t *testing.T) {
	for _, tc := range []struct {
		era  release.Era
		want bool
	}{{release.Era27, false}, {release.Era28, true}, {release.Era29, true}} {
		rs := newRuleset()
		modelRun(t, rs, [][]Op{Config{Release: release.Release{Era: tc.era}}.Start()})
		save := modelSave(t, rs)
		assert.Equal(t, tc.want, contains(save, ":DOCKER-USER - [0:0]"), "era %s: DOCKER-USER chain", tc.era)
		assert.Equal(t, tc.want, contains(save, "-A FORWARD -j DOCKER-USER\n"), "era %s: FORWARD jump", tc.era)
		if tc.want {
			assert.Less(t, index(save, "-A FORWARD -j DOCKER-USER"), index(save, "-A FORWARD -j DOCKER-FORWARD"),
				"era %s: DOCKER-USER's jump first", tc.era)
		}
	}
}

// TestForwardDropAfterStart: the policy an engine sets when it turns
// forwarding on with its first network, after it started.
func TestForwardDropAfterStart(t *testing.T) {
	rs := newRuleset()
	c := Config{Release: release.Release{Era: release.Era28}}
	modelRun(t, rs, [][]Op{c.Start()})
	assert.True(t, contains(modelSave(t, rs), ":FORWARD ACCEPT [0:0]"), "before")
	modelRun(t, rs, [][]Op{ForwardDrop()})
	assert.True(t, contains(modelSave(t, rs), ":FORWARD DROP [0:0]"), "after")
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func index(s, sub string) int { return strings.Index(s, sub) }
