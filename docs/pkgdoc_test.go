// Package docs_test checks that every package of the module has exactly one
// package doc comment (house rule 2: it states the package's room), and
// (layout_test.go) that the packages keep the house's shape: imports point
// down and no file or package outgrows its room. These tests live in docs/
// because they are about the whole house and belong to no package; docs/
// holds no other Go code.
package docs_test

import (
	"path"
	"sort"
	"testing"
)

func TestPackageDocs(t *testing.T) {
	withDoc := map[string][]string{} // package dir -> its non-test files with a package doc
	for _, f := range moduleFiles(t) {
		if f.test {
			continue
		}
		if _, ok := withDoc[f.pkg]; !ok {
			withDoc[f.pkg] = nil
		}
		if f.hasDoc {
			withDoc[f.pkg] = append(withDoc[f.pkg], path.Base(f.rel))
		}
	}
	pkgs := make([]string, 0, len(withDoc))
	for p := range withDoc {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		switch docs := withDoc[p]; len(docs) {
		case 0:
			t.Errorf("no package doc in %s: give exactly one file a package doc comment that states the package's room (docs/architecture.md)", p)
		case 1:
		default:
			t.Errorf("multiple files with package doc in %s: %q: keep exactly one (a license or build header directly above `package` counts as a doc: leave a blank line)", p, docs)
		}
	}
}
