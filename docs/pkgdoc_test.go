// Package docs_test checks that every package of the module has exactly one
// package doc comment (house rule 2: it states the package's room), and
// (layout_test.go) that the packages keep the house's shape: imports point
// down and no file or package outgrows its room. These tests live in docs/
// because they are about the whole house and belong to no package; docs/
// holds no other Go code.
package docs_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestPackageDocs(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above docs/: %v", err)
	}

	dirs := map[string][]string{} // dir -> its non-test .go files
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			// What the go command ignores, and nested modules.
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			dirs[filepath.Dir(path)] = append(dirs[filepath.Dir(path)], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("found no Go packages under the module root")
	}

	pkgDirs := make([]string, 0, len(dirs))
	for d := range dirs {
		pkgDirs = append(pkgDirs, d)
	}
	sort.Strings(pkgDirs)
	fset := token.NewFileSet()
	for _, dir := range pkgDirs {
		rel, _ := filepath.Rel(root, dir)
		var withDoc []string
		for _, file := range dirs[dir] {
			f, err := parser.ParseFile(fset, file, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Errorf("%v", err)
				continue
			}
			if f.Doc != nil {
				withDoc = append(withDoc, filepath.Base(file))
			}
		}
		switch len(withDoc) {
		case 0:
			t.Errorf("no package doc in %s: give exactly one file a package doc comment that states the package's room (style.md, Part 2 rule 2)", rel)
		case 1:
		default:
			t.Errorf("multiple files with package doc in %s: %q: keep exactly one (a license or build header directly above `package` counts as a doc: leave a blank line)", rel, withDoc)
		}
	}
}
