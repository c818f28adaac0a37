package runner

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/world"
)

// TestWorldErrors: a bad world fails the world command with the file's
// name as the script gives it, the line and the field, before any lab is
// built; world after the lab is built is refused.
func TestWorldErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("lan.yaml", "lans: [lan]\nnodes:\n  a:\n    interfaces:\n      eth0: {lan: lna}\n")
	write("flags.yaml", "nodes:\n  h:\n    dockerd: --bop 1\n")
	built := false
	e := &Env{st: &scriptState{world: world.Default(), workdir: dir, makeLab: func(*world.World) (*netkit.Lab, error) {
		built = true
		return nil, nil
	}}, stdout: new(bytes.Buffer), stderr: new(bytes.Buffer)}
	for args, want := range map[string]string{
		"lan.yaml":    `lan.yaml:5: nodes.a.interfaces.eth0.lan: no LAN "lna" (lans: lan); did you mean "lan"?`,
		"flags.yaml":  "flags.yaml:3: nodes.h.dockerd: not dockerd's flags: unknown flag: --bop",
		"two-host":    `no shipped world "two-host" (shipped: classroom, line-50, two-hosts); did you mean "two-hosts"?`,
		"nosuch.yaml": "reading world file: open " + filepath.Join(dir, "nosuch.yaml") + ": no such file or directory",
	} {
		err := runWorld(e, []string{args})
		assert.EqualError(t, err, want, "world %s", args)
	}
	assert.ErrorIs(t, runWorld(e, nil), ErrUsage)
	assert.False(t, built, "a lab was built")
	assert.Equal(t, world.Default(), e.st.world, "the world after errors")

	require.NoError(t, runWorld(e, []string{"two-hosts"}))
	assert.Equal(t, "two-hosts", e.st.world.Name)
	e.st.lab = &netkit.Lab{}
	assert.ErrorContains(t, runWorld(e, []string{"classroom"}), "the lab is already built")
}

// TestScriptWorld: the world a script picks for labrun up: its
// world.yaml section, its first command, or none.
func TestScriptWorld(t *testing.T) {
	for _, tc := range []struct {
		script, want string
	}{
		{"# a comment\n\nworld two-hosts\ndocker ps\n", "two-hosts"},
		{"world 'w.yaml'\n-- w.yaml --\nname: mine\nnodes:\n  a: {}\n", "mine"},
		{"docker ps\n-- world.yaml --\nname: section\nnodes:\n  a: {}\n", "section"},
		{"docker ps\nworld two-hosts\n", ""},
		{"", ""},
	} {
		w, err := ScriptWorld(txtar.Parse([]byte(tc.script)), t.TempDir())
		require.NoError(t, err, "%q", tc.script)
		if tc.want == "" {
			assert.Nil(t, w, "%q", tc.script)
		} else if assert.NotNil(t, w, "%q", tc.script) {
			assert.Equal(t, tc.want, w.Name, "%q", tc.script)
		}
	}
	_, err := ScriptWorld(txtar.Parse([]byte("-- world.yaml --\nnodes:\n  a: {rooter: true}\n")), "")
	assert.ErrorContains(t, err, `world.yaml:2: nodes.a.rooter: unknown field "rooter"`)
}

// TestLabErrorFatal: a lab that cannot be built is a labError, which the
// adapter treats as fatal even under "!": no command ran.
func TestLabErrorFatal(t *testing.T) {
	e := &Env{st: &scriptState{world: world.Default(), makeLab: func(*world.World) (*netkit.Lab, error) {
		return nil, os.ErrPermission
	}}, stdout: new(bytes.Buffer), stderr: new(bytes.Buffer)}
	err := runOn(e, []string{"host", "true"})
	var le *labError
	require.ErrorAs(t, err, &le)
	assert.ErrorIs(t, err, os.ErrPermission)
	assert.EqualError(t, err, "making the lab: permission denied")
}
