package classroom

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/labrun/labrun/netkit/userns"
)

// A live lab is its maker's alone: root's under /run/labrun, an ordinary
// user's under their own RunDir (mode 0700), its keeper answering its
// owner only (ownerOnly). Root sees every user's labs, with their owners,
// but cannot enter them: they live in their user's namespace.

// otherLab is an ordinary user's live lab, as root sees it.
type otherLab struct {
	name, owner, dir string
	pid              int
}

// othersLabs lists, for root, the live labs of ordinary users: those
// under /run/user/UID/labrun and /tmp/labrun-UID whose keeper runs.
func othersLabs() []otherLab {
	if _, rootless := userns.Rootless(); rootless || os.Geteuid() != 0 {
		return nil
	}
	var pids []string
	for _, pattern := range []string{"/run/user/*/labrun/*/keeper.pid", filepath.Join(os.TempDir(), "labrun-*/*/keeper.pid")} {
		m, _ := filepath.Glob(pattern)
		pids = append(pids, m...)
	}
	var out []otherLab
	for _, p := range pids {
		b, err := os.ReadFile(p)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || perr != nil || syscall.Kill(pid, 0) != nil {
			continue
		}
		dir := filepath.Dir(p)
		owner := "?"
		if st, err := os.Stat(dir); err == nil {
			uid := st.Sys().(*syscall.Stat_t).Uid
			owner = strconv.Itoa(int(uid))
			if u, err := user.LookupId(owner); err == nil {
				owner = u.Username
			}
		}
		out = append(out, otherLab{name: filepath.Base(dir), owner: owner, dir: dir, pid: pid})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].owner+"/"+out[i].name < out[j].owner+"/"+out[j].name })
	return out
}

// printOthers prints othersLabs' table for root's labrun ls.
func printOthers(w io.Writer, others []otherLab) {
	fmt.Fprintln(w, "\nother users' labs (theirs alone: root sees them, and cannot enter them):")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "LAB\tOWNER\tKEEPER\tDIRECTORY")
	for _, o := range others {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", o.name, o.owner, o.pid, o.dir)
	}
	tw.Flush()
}
