package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCanMove: only the diagram's arrows; nothing from outside the set.
func TestCanMove(t *testing.T) {
	all := []State{Created, Running, Stopped, Removed}
	legal := map[[2]State]bool{
		{Created, Running}: true, // docker start
		{Created, Removed}: true, // docker rm
		{Running, Stopped}: true, // docker stop, or the main process exits
		{Stopped, Running}: true, // docker start again
		{Stopped, Removed}: true, // docker rm
	}
	for _, from := range all {
		for _, to := range all {
			assert.Equal(t, legal[[2]State{from, to}], CanMove(from, to), "CanMove(%s, %s)", from, to)
		}
	}
	assert.False(t, CanMove(State(len(transitions)), Created), "a state outside the set may move")
	assert.Equal(t, "State(9)", State(9).String())
}
