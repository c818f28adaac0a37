package images

import (
	"os/exec"
	"strings"
	"sync"
)

// Argv returns the command line that runs argv as a container of these
// images would: labrun's containers run the machine's programs, and a
// program the machine lacks but busybox's image has (nslookup, wget, …)
// runs as busybox's applet of that name, as busybox's image links it. look
// finds a program as the container's PATH would (exec.LookPath).
func Argv(argv []string, look func(string) (string, error)) []string {
	if len(argv) == 0 || strings.Contains(argv[0], "/") {
		return argv
	}
	if _, err := look(argv[0]); err == nil {
		return argv
	}
	bb, err := look("busybox")
	if err != nil || !busyboxApplets(bb)[argv[0]] {
		return argv
	}
	return append([]string{bb}, argv...)
}

var (
	appletsMu sync.Mutex
	applets   = map[string]map[string]bool{} // busybox path → its applets
)

// busyboxApplets returns the applets of the busybox at path.
//
// Equivalent to: busybox --list
func busyboxApplets(path string) map[string]bool {
	appletsMu.Lock()
	defer appletsMu.Unlock()
	if a, ok := applets[path]; ok {
		return a
	}
	a := map[string]bool{}
	if out, err := exec.Command(path, "--list").Output(); err == nil {
		for _, name := range strings.Fields(string(out)) {
			a[name] = true
		}
	}
	applets[path] = a
	return a
}
