package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

const versionHelp = `Print labrun's module version, the VCS commit and time it was built from (and
whether the checkout had changes), and the Go release that built it, from the
build information Go records in the binary. labrun --version prints the same.
`

// buildCommit and buildTime are the commit and its time when the build
// set them (make build: -ldflags -X), for builds that Go stamped with no
// VCS information (GOFLAGS=-buildvcs=false).
var buildCommit, buildTime, buildModified string

// versionMain runs labrun version (and labrun --version).
func versionMain(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: labrun version")
		return 2
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(info))
	return 0
}

// versionLine says which labrun info (nil when the binary has none)
// describes: "labrun VERSION", then the commit (REV, TIME[, modified]) and
// the Go release and platform on lines of their own. A build from a
// checkout that no release tag names is "(devel)" as Go says; a build
// without VCS information says so.
func versionLine(info *debug.BuildInfo) string {
	version, goVersion := "(devel)", runtime.Version()
	settings := map[string]string{}
	if info != nil {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
	}
	if settings["vcs.revision"] == "" && buildCommit != "" {
		settings["vcs.revision"], settings["vcs.time"], settings["vcs.modified"] = buildCommit, buildTime, buildModified
	}
	vcs := "none recorded (go run, go test, or go build with -buildvcs=false; make build records it)"
	if rev := settings["vcs.revision"]; rev != "" {
		vcs = rev
		var notes []string
		if t := settings["vcs.time"]; t != "" {
			notes = append(notes, t)
		}
		if settings["vcs.modified"] == "true" {
			notes = append(notes, "modified")
		}
		if len(notes) > 0 {
			vcs += " (" + strings.Join(notes, ", ") + ")"
		}
	}
	return fmt.Sprintf("labrun %s\ncommit: %s\ngo:     %s %s/%s", version, vcs, goVersion, runtime.GOOS, runtime.GOARCH)
}
