package runner

import (
	"io"
	"sort"
	"strings"
	"sync"
)

// Subcommand is a labrun subcommand defined in a package of its own, such as
// runner/classroom's up, shell, down, exercise and grade. Such a package
// builds on runner (it imports it), so runner cannot call it directly: it
// registers its subcommands with AddSubcommand from an init function, and the
// labrun binary imports it for that effect.
type Subcommand struct {
	// Name is the first argument that selects the subcommand.
	Name string
	// Usage is its synopsis after "labrun " ("up [-name NAME] [FILE]"),
	// listed by labrun -h; empty for a hidden subcommand.
	Usage string
	// Run runs it with the arguments after its name and returns the exit
	// status.
	Run func(args []string, stdout, stderr io.Writer) int
}

var (
	subMu       sync.Mutex
	subcommands = map[string]Subcommand{}
)

// AddSubcommand registers s. It panics on a duplicate name or a name that
// labrun itself uses (clean, bench), as registration happens at init.
func AddSubcommand(s Subcommand) {
	subMu.Lock()
	defer subMu.Unlock()
	if _, dup := subcommands[s.Name]; dup || s.Name == "clean" || s.Name == "bench" || s.Run == nil {
		panic("runner: subcommand defined twice or without Run: " + s.Name)
	}
	subcommands[s.Name] = s
}

// lookupSubcommand finds a registered subcommand by name.
func lookupSubcommand(name string) (Subcommand, bool) {
	subMu.Lock()
	defer subMu.Unlock()
	s, ok := subcommands[name]
	return s, ok
}

// subcommandUsage lists the registered subcommands' synopses, one a line
// each ending in a newline, for labrun's usage text.
func subcommandUsage() string {
	subMu.Lock()
	defer subMu.Unlock()
	var lines []string
	for _, s := range subcommands {
		if s.Usage != "" {
			lines = append(lines, "       labrun "+s.Usage)
		}
	}
	sort.Strings(lines)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}
