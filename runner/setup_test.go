package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/labrun/labrun/netkit"
	"github.com/labrun/labrun/netkit/testkit"
)

// registry is a LabRegistry that records what it is told, and refuses
// every lab once refuse is set.
type registry struct {
	mu         sync.Mutex
	refuse     error
	open       map[*netkit.Lab]bool
	registered int
}

func (r *registry) Register(l *netkit.Lab) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse != nil {
		return r.refuse
	}
	r.open[l] = true
	r.registered++
	return nil
}

func (r *registry) Unregister(l *netkit.Lab) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.open, l)
}

// TestOptionsLabs checks that SetupWith tells Options.Labs of every lab a
// script makes and of the script's end, and that a refused lab fails its
// script with the registry's error when its first command needs the lab,
// before that command does anything (and even under "!").
func TestOptionsLabs(t *testing.T) {
	testkit.RequireLab(t)
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n+".txt"), []byte("! on host false\non host true\n"), 0o644))
	}
	params := func(reg *registry) testscript.Params {
		p := testscript.Params{Dir: dir}
		require.NoError(t, SetupWith(&p, Options{Labs: reg}))
		return p
	}

	reg := &registry{open: map[*netkit.Lab]bool{}}
	for name, r := range runParams(t, params(reg)) {
		if r.Failed() {
			t.Errorf("%s failed:\n%s", name, r.LogText())
		}
	}
	assert.Equal(t, 2, reg.registered, "labs registered")
	assert.Empty(t, reg.open, "labs still open after the scripts")

	reg = &registry{open: map[*netkit.Lab]bool{}, refuse: errors.New("stopping")}
	for name, r := range runParams(t, params(reg)) {
		if !r.Failed() || !strings.Contains(r.LogText(), "making the lab: stopping") || strings.Contains(r.LogText(), "> on host true") {
			t.Errorf("%s: failed %v, want a failure at its first command with the registry's error:\n%s", name, r.Failed(), r.LogText())
		}
	}
}
