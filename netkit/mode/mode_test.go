package mode

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]Mode{
		"": {}, "default": {}, "bridge": {}, "host": {Kind: Host}, "none": {Kind: None},
		"container:web": {Kind: Container, Container: "web"}, "app": {Network: "app"},
	} {
		got, err := Parse(in)
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"container", "container:"} {
		_, err := Parse(in)
		assert.EqualError(t, err, "invalid container format container:<name|id>", in)
	}
	for m, want := range map[Mode]string{{}: "bridge", {Network: "bridge"}: "bridge", {Network: "app"}: "app",
		{Kind: Host}: "host", {Kind: None}: "none", {Kind: Container, Container: "web"}: "container:web"} {
		assert.Equal(t, want, m.String())
	}
}
