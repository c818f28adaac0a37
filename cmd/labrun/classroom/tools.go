package classroom

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// netTools are the network tools that the exercises use in every node and
// container. Nodes and containers run the machine's own programs (there is
// no image filesystem), so they are the machine's: `make deps` installs
// iputils-ping. Where the machine lacks one and has busybox, the lab's
// tools directory supplies busybox's applet of that name.
var netTools = []string{"ping", "ping6", "nslookup", "wget"}

// linkTools makes dir/NAME a link to busybox for each of netTools that look
// does not find, when look finds busybox, and returns the names it linked.
func linkTools(dir string, look func(string) (string, error)) ([]string, error) {
	busybox, err := look("busybox")
	if err != nil {
		return nil, nil
	}
	var linked []string
	for _, name := range netTools {
		if _, err := look(name); err == nil {
			continue
		}
		// Equivalent to: ln -s /bin/busybox DIR/ping
		if err := os.Symlink(busybox, filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrExist) {
			return linked, fmt.Errorf("linking %s to busybox: %w", name, err)
		}
		linked = append(linked, name)
	}
	return linked, nil
}

// addTools fills the lab's tools directory (linkTools) and appends it to
// the keeper's PATH, which its shells, `docker exec` and the lab's
// commands inherit: the machine's programs come first.
func (k *keeper) addTools() error {
	dir := filepath.Join(k.dir, "tools")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if _, err := linkTools(dir, exec.LookPath); err != nil {
		return err
	}
	path := os.Getenv("PATH")
	if !strings.Contains(":"+path+":", ":"+dir+":") {
		os.Setenv("PATH", path+":"+dir)
	}
	return nil
}
