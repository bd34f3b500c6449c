package tui

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	st "github.com/canscope/canscope/tui/internal/screentest"
)

// captureBlock matches a capture in the README: a marker naming a
// golden file, then a text block holding its content.
var captureBlock = regexp.MustCompile("(?s)<!-- capture ([A-Za-z0-9_/]+) -->\n```text\n(.*?)```")

// TestReadmeCaptures keeps the README's screen captures identical to the
// golden files; -update rewrites them from the goldens.
func TestReadmeCaptures(t *testing.T) {
	const readme = "../README.md"
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	var failed bool
	out := captureBlock.ReplaceAllFunc(b, func(block []byte) []byte {
		m := captureBlock.FindSubmatch(block)
		found++
		golden, err := os.ReadFile(filepath.Join(st.Dir(), string(m[1])+".golden"))
		if err != nil {
			t.Errorf("capture %s: %v", m[1], err)
			failed = true
			return block
		}
		if string(m[2]) != string(golden) && !st.Updating() {
			t.Errorf("capture %s in %s differs from its golden file; run go test ./tui/... -update", m[1], readme)
			failed = true
		}
		return []byte("<!-- capture " + string(m[1]) + " -->\n```text\n" + string(golden) + "```")
	})
	if found < 7 {
		t.Errorf("%s has %d captures, want one per screen (7)", readme, found)
	}
	if st.Updating() && !failed {
		if err := os.WriteFile(readme, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
