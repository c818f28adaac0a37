package docs_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The house's rules, as docs/architecture.md draws them: imports point down,
// from cmd/labrun (the command line) to the applications, to runner (the
// scenario language), to runner's own leaves (the Docker CLI emulation and
// the images), to checks and netkit. netkit knows nothing above it, so that a
// plain Go test can use it alone.
var houseRules = []struct {
	from  string // the importing packages: this path and those below it
	tests bool   // whether the rule also holds for _test.go files
	// deny lists the forbidden packages, each with those below it; only
	// the forbidden packages themselves, not those below them; allow,
	// when set, the only module packages that may be imported.
	deny, only, allow []string
	why               string
}{
	{from: "netkit", tests: true, deny: []string{"runner", "checks", "cmd"},
		why: "netkit knows nothing above it"},
	{from: "checks", allow: []string{"netkit/netns"},
		why: "checks enters namespaces through netkit's namespace door only"},
	{from: "checks", tests: true, deny: []string{"runner", "cmd"},
		why: "checks' tests build labs with netkit, never with the runner"},
	{from: "runner", tests: true, deny: []string{"cmd"},
		why: "the runner is the scenario language: the command line and the applications sit above it"},
	{from: "runner/dockercli", tests: true, only: []string{"runner"}, deny: []string{"runner/compose"},
		why: "the Docker CLI emulation sits below the scenario commands that use it, and below its plugins"},
	{from: "runner/compose", tests: true, only: []string{"runner"},
		why: "docker compose is a plugin of the Docker CLI emulation, below the scenario commands that use it"},
	{from: "runner/images", tests: true, only: []string{"runner"}, deny: []string{"runner/dockercli", "checks"},
		why: "the images' programs sit below the Docker CLI emulation"},
}

const (
	maxFileLines    = 600  // a non-test Go file
	maxPackageLines = 4000 // a package's non-test Go files together
)

// goFile is one Go file of the module, as the layout test sees it.
type goFile struct {
	rel     string // path from the module root, with slashes
	pkg     string // its directory's path from the module root ("" for the root)
	test    bool
	imports []string // the module's own packages it imports, from the module root
	lines   int
	hasDoc  bool // a package doc comment stands above its package clause
}

func TestLayout(t *testing.T) {
	files := moduleFiles(t)
	t.Run("imports", func(t *testing.T) {
		for _, f := range files {
			for _, imp := range f.imports {
				if msg := forbidden(f, imp); msg != "" {
					t.Errorf("%s imports %s: %s", f.rel, imp, msg)
				}
			}
		}
	})
	t.Run("sizes", func(t *testing.T) {
		perPkg := map[string]int{}
		for _, f := range files {
			if f.test {
				continue
			}
			perPkg[f.pkg] += f.lines
			if f.lines > maxFileLines {
				t.Errorf("%s has %d lines: split it (at most %d lines a non-test file)", f.rel, f.lines, maxFileLines)
			}
		}
		var pkgs []string
		for p := range perPkg {
			pkgs = append(pkgs, p)
		}
		sort.Strings(pkgs)
		for _, p := range pkgs {
			if perPkg[p] > maxPackageLines {
				t.Errorf("package %s has %d lines of non-test code: split it (at most %d)", p, perPkg[p], maxPackageLines)
			}
		}
	})
}

// TestLayoutRules checks the checker on made-up files: a rule that never
// fires would let the house decay unseen.
func TestLayoutRules(t *testing.T) {
	for _, tt := range []struct {
		f    goFile
		imp  string
		want bool
	}{
		{goFile{pkg: "netkit"}, "runner", true},
		{goFile{pkg: "netkit/link", test: true}, "checks", true},
		{goFile{pkg: "netkit"}, "netkit/netns", false},
		{goFile{pkg: "checks"}, "netkit", true},
		{goFile{pkg: "checks"}, "netkit/netns", false},
		{goFile{pkg: "checks", test: true}, "netkit", false},
		{goFile{pkg: "checks", test: true}, "runner", true},
		{goFile{pkg: "runner"}, "cmd/labrun/classroom", true},
		{goFile{pkg: "runner"}, "runner/dockercli", false},
		{goFile{pkg: "runner/dockercli"}, "runner", true},
		{goFile{pkg: "runner/dockercli"}, "runner/images", false},
		{goFile{pkg: "runner/dockercli"}, "runner/compose", true},
		{goFile{pkg: "runner/compose"}, "runner/dockercli", false},
		{goFile{pkg: "runner/compose"}, "runner", true},
		{goFile{pkg: "runner/images"}, "runner/dockercli", true},
		{goFile{pkg: "runner/images"}, "netkit/ports", false},
		{goFile{pkg: "cmd/labrun"}, "runner", false},
		{goFile{pkg: "cmd/labrun/classroom"}, "runner", false},
	} {
		assert.Equal(t, tt.want, forbidden(tt.f, tt.imp) != "", "%s (test %v) importing %s: forbidden", tt.f.pkg, tt.f.test, tt.imp)
	}
}

// forbidden says why f may not import imp, or "" when it may.
func forbidden(f goFile, imp string) string {
	for _, r := range houseRules {
		if !under(f.pkg, r.from) || (f.test && !r.tests) {
			continue
		}
		for _, d := range r.deny {
			if under(imp, d) {
				return r.why
			}
		}
		for _, d := range r.only {
			if imp == d {
				return r.why
			}
		}
		if r.allow != nil && !under(imp, r.from) {
			ok := false
			for _, a := range r.allow {
				ok = ok || under(imp, a)
			}
			if !ok {
				return r.why + " (allowed: " + strings.Join(r.allow, ", ") + ")"
			}
		}
	}
	return ""
}

// under reports whether pkg is dir or below it.
func under(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }

// moduleFiles reads every Go file of the module, leaving out what the go
// command ignores (testdata, vendor, names starting with . or _) and nested
// modules: its package directory, its imports of the module's own packages,
// its length and whether it has a package doc.
func moduleFiles(t *testing.T) []goFile {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	module := modulePath(t, filepath.Join(root, "go.mod"))
	var files []goFile
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		af, err := parser.ParseFile(fset, path, src, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		f := goFile{
			rel:    filepath.ToSlash(rel),
			pkg:    filepath.ToSlash(filepath.Dir(rel)),
			test:   strings.HasSuffix(name, "_test.go"),
			lines:  bytes.Count(src, []byte("\n")),
			hasDoc: af.Doc != nil,
		}
		if f.pkg == "." {
			f.pkg = ""
		}
		for _, is := range af.Imports {
			p, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if p == module {
				f.imports = append(f.imports, "")
			} else if rest, ok := strings.CutPrefix(p, module+"/"); ok {
				f.imports = append(f.imports, rest)
			}
		}
		files = append(files, f)
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, files, "no Go files found under the module root")
	return files
}

// modulePath reads the module path from go.mod's module line.
func modulePath(t *testing.T, gomod string) string {
	t.Helper()
	fh, err := os.Open(gomod)
	require.NoError(t, err, "module root not found above docs/")
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`)
		}
	}
	require.FailNow(t, "no module line", "%s", gomod)
	return ""
}
