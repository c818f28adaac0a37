package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit/testkit"
)

// TestKeptLab: a failed scenario run with -keep leaves its lab pinned;
// labrun ls lists it as kept with its nodes, and labrun down NAME removes
// it as it removes a live lab.
func TestKeptLab(t *testing.T) {
	testkit.RequireLab(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "keepme.txt")
	require.NoError(t, os.WriteFile(file, []byte("docker run -d --name web httpd\non host false\n"), 0o644))
	code, out, _ := runCLI("-keep", file)
	require.Equal(t, 1, code, "the scenario fails:\n%s", out)
	m := regexp.MustCompile(`remove it with: labrun down (keepme-[0-9a-f]{6}) `).FindStringSubmatch(out)
	require.NotNil(t, m, "the run names the kept lab:\n%s", out)
	name := m[1]
	t.Cleanup(func() { runCLI("down", name) })

	code, out, _ = runCLI("ls", "-v")
	require.Equal(t, 0, code)
	assert.Regexp(t, `(?m)^`+name+` +- +kept +1 +-$`, out)
	assert.Contains(t, out, "/run/netns/labrun-"+name+"-web")

	code, out, _ = runCLI("down", name)
	require.Equal(t, 0, code, out)
	assert.Equal(t, "lab "+name+" is down\n", out)
	left, _ := filepath.Glob("/run/netns/labrun-" + name + "-*")
	assert.Empty(t, left, "pins left")
	code, _, stderr := runCLI("down", name)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `no live or kept lab "`+name+`"`)
}
