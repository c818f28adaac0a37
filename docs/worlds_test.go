package docs_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWorldsExample: docs/worlds.md shows the default world file as it is.
func TestWorldsExample(t *testing.T) {
	file, err := os.ReadFile("../worlds/classroom.yaml")
	require.NoError(t, err)
	doc, err := os.ReadFile("worlds.md")
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(doc), "```yaml\n"+string(file)+"```\n"),
		"docs/worlds.md's example is not worlds/classroom.yaml: copy the file into it")
}
