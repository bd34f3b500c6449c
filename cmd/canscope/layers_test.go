package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The dependency rule between folders (CONTRIBUTING.md), checked on the
// imports of every non-test file of the module: a package under dir may
// not import a path starting with any of the forbidden prefixes.
var layers = []struct {
	dirs      []string
	forbidden []string
	why       string
}{
	{[]string{"engine/leb128", "engine/principal", "engine/wasm", "engine/candid", "engine/stable",
		"engine/heap", "engine/meter", "engine/ic0", "engine/validation", "engine"},
		[]string{"snapshots", "engine/workbench", "engine/trace", "engine/layout", "engine/snapcheck", "tui", "themes", "cmd"},
		"the engine core and its leaves read bytes and run wasm; they know no store"},
	{[]string{"engine/"},
		[]string{"snapshots/fsstore", "snapshots/s3store", "tui", "themes", "cmd"},
		"engine packages that use stored snapshots take the store as an interface"},
	{[]string{"snapshots"},
		[]string{"engine", "tui", "themes", "cmd"},
		"the store holds bytes; interpreting them is the engine's"},
	{[]string{"tui", "tui/chart", "tui/frame", "tui/keys", "tui/render", "tui/source", "tui/screens/"},
		[]string{"engine", "cmd"},
		"screens reach the engine only through tui/source and the adapters"},
	{[]string{"themes"},
		[]string{"engine", "snapshots", "tui", "cmd"},
		"themes are plain styles"},
}

func TestLayers(t *testing.T) {
	const module = "github.com/canscope/canscope/"
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module) {
				continue
			}
			p = strings.TrimPrefix(p, module)
			for _, l := range layers {
				if !matches(rel, l.dirs) {
					continue
				}
				for _, bad := range l.forbidden {
					if p == bad || strings.HasPrefix(p, bad+"/") {
						t.Errorf("%s imports %s: %s", filepath.ToSlash(strings.TrimPrefix(path, root+"/")), p, l.why)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files: is the module root at %s?", checked, root)
	}
}

// matches reports whether dir is one of dirs, or below one that ends in "/".
func matches(dir string, dirs []string) bool {
	for _, d := range dirs {
		if dir == d || (strings.HasSuffix(d, "/") && strings.HasPrefix(dir, d)) {
			return true
		}
	}
	return false
}
