package names

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestContainer: the names real Docker 28.5.2 and 29.8.1 engines accept and
// refuse (docs/docker.md §6).
func TestContainer(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		ok         bool
	}{
		{"aa", "aa", true},
		{"web", "web", true},
		{"Web-1.a_b", "Web-1.a_b", true},
		{"9lives", "9lives", true},
		{"/web", "web", true}, // Docker strips one leading '/'
		{"a", "", false},      // at least two characters
		{"/a", "", false},     // ... after the '/'
		{"_web", "", false},   // a letter or digit first
		{".web", "", false},
		{"-web", "", false},
		{"web!", "", false}, // outside the set
		{"we b", "", false},
		{"wéb", "", false},
		{"//web", "", false}, // one '/' only
		{"web/", "", false},
		{"", "", false},
	} {
		got, ok := Container(tt.name)
		assert.Equal(t, tt.ok, ok, "%q", tt.name)
		assert.Equal(t, tt.want, got, "%q", tt.name)
	}
}

func TestRandomAndIDs(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z]+_[a-z]+$`)
	for range 20 {
		n := Random()
		assert.Regexp(t, valid, n)
		_, ok := Container(n)
		assert.True(t, ok, "a random name %q must be one Docker accepts", n)
	}
	assert.Regexp(t, `^[0-9a-f]{64}$`, ID())
	assert.NotEqual(t, ID(), ID())
	assert.Equal(t, StableHex("x", 12), StableHex("x", 12))
	assert.Len(t, StableHex("x", 40), 40)
}

// TestNearest: a prefix or a near miss is suggested, a far word is not.
func TestNearest(t *testing.T) {
	nodes := []string{"host", "client", "gateway", "internet", "web"}
	for word, want := range map[string]string{"hots": "host", "HOST": "host", "gate": "gateway", "clinet": "client",
		"wbe": "web", "xyzzy": "", "internt": "internet", "eht0": ""} {
		assert.Equal(t, want, Nearest(word, nodes), "Nearest(%q)", word)
	}
	assert.Equal(t, "eth0", Nearest("eht0", []string{"lo", "eth0", "eth1"}))
	assert.Equal(t, 1, EditDistance("hlep", "help"))
}
