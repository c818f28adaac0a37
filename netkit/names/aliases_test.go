package names

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDNSNames: name, aliases, short ID, hostname, once each (seen on
// 28.5.2 and 29.8.1: ["web","site","www","<id12>","webhost"]).
func TestDNSNames(t *testing.T) {
	id := strings.Repeat("ab", 32)
	assert.Equal(t, []string{"web", "site", "www", id[:12], "webhost"}, DNSNames("web", []string{"site", "www", "site"}, id, "webhost"))
	assert.Equal(t, []string{"web", id[:12]}, DNSNames("web", nil, id, id[:12]), "the default hostname is the short ID")
	assert.Equal(t, []string{"web", id[:12]}, DNSNames("web", []string{"web"}, id, "web"))
}

// TestLegacyAliases: before API 1.44, the requested aliases as they are,
// then the short ID and a hostname other than the name (seen on
// 20.10.24: ["site","www","site","<id12>","webhost"]).
func TestLegacyAliases(t *testing.T) {
	id := strings.Repeat("cd", 32)
	assert.Equal(t, []string{"site", "www", "site", id[:12], "webhost"}, LegacyAliases([]string{"site", "www", "site"}, "web", id, "webhost"))
	assert.Equal(t, []string{id[:12]}, LegacyAliases(nil, "web", id, id[:12]))
	assert.Equal(t, []string{id[:12]}, LegacyAliases([]string{}, "web", id, "web"), "a hostname that is the name")
	assert.Equal(t, []string{"webhost", id[:12]}, LegacyAliases([]string{"webhost"}, "web", id, "webhost"))
}

func TestLinks(t *testing.T) {
	assert.Equal(t, "/w:/c/web", Link("w", "c", "web"))
	assert.Equal(t, "w:web", LinkArg("w", "web"))
	assert.Equal(t, "w", LinkArg("w", ""))
	assert.Equal(t, []string{"a", "b"}, Dedup([]string{"a", "b", "a"}))
}
