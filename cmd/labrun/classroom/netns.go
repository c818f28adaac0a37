package classroom

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/labrun/labrun/netkit/netns"
)

// pinsFile lists, in a live lab's directory, the namespaces `labrun up
// -netns` named under /run/netns, so that a lab whose keeper died (kill -9)
// still has them removed by the next ls, up or down.
const pinsFile = "netns"

// pinNodes names the lab's nodes under /run/netns as LAB-NODE, so that
// `ip netns exec LAB-host ...` recipes work while the lab is up, and
// records them in the lab's directory.
//
// Equivalent to: ip netns attach LAB-NODE PID (each node)
func (k *keeper) pinNodes() error {
	pins, err := k.lab.Pin(PinDir, k.name+"-")
	if werr := os.WriteFile(filepath.Join(k.dir, pinsFile), []byte(strings.Join(pins, "\n")+"\n"), 0o644); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		unpinAll(k.dir)
		return fmt.Errorf("naming the nodes under %s: %w", PinDir, err)
	}
	return nil
}

// unpinAll removes the names that pinNodes recorded in dir.
//
// Equivalent to: ip netns delete LAB-NODE (each node)
func unpinAll(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, pinsFile))
	if err != nil {
		return
	}
	for _, p := range strings.Fields(string(b)) {
		if filepath.Dir(p) == PinDir {
			netns.Unpin(p)
		}
	}
	os.Remove(filepath.Join(dir, pinsFile))
}
