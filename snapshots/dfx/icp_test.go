package dfx

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/canscope/canscope/snapshots/dfx/dfxtest"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// icpDownload writes a directory the way `icp canister snapshot download
// -o DIR` leaves it (crates/icp-cli/src/commands/canister/snapshot/
// download.rs): wasm_chunk_store/ always, an empty stable_memory.bin for an
// empty stable memory, no wasm_memory.bin for an empty heap, and the .lock
// file its directory lock creates and never removes.
func icpDownload(t *testing.T, spec dfxtest.Spec) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dl")
	if err := dfxtest.Write(dir, spec); err != nil {
		t.Fatal(err)
	}
	if spec.StablePages == 0 {
		if err := os.WriteFile(filepath.Join(dir, StableFile), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if spec.HeapPages == 0 {
		if err := os.Remove(filepath.Join(dir, HeapFile)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, icpLock), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestImportIcpCliLayout(t *testing.T) {
	for _, spec := range []dfxtest.Spec{{HeapPages: 0}, {HeapPages: 2, HeapData: []uint64{1}}, {HeapPages: 1, StablePages: 2, StableData: []uint64{0}, Chunks: 1}} {
		st, err := fsstore.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		dir := icpDownload(t, spec)
		if _, err := Import(context.Background(), st, dir, ImportOptions{Name: "icp"}); err != nil {
			t.Fatalf("%+v: %v", spec, err)
		}
	}
}

// TestUnfinishedIcpDownloadRefused: icp-cli pre-sizes its files, so an
// unfinished download looks complete but for its progress file or a held
// lock; the import is refused naming the file and the resume command, and
// the store stays as it was.
func TestUnfinishedIcpDownloadRefused(t *testing.T) {
	spec := dfxtest.Spec{HeapPages: 2, HeapData: []uint64{1}}
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"progress file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, icpDownloadProgress), []byte(`{"wasm_module":{"frontier":0,"ahead":[]}}`), 0o644)
		}, ".download_progress.json: the icp-cli download into this directory did not finish; complete it with `icp canister snapshot download <canister> <snapshot-id> -o "},
		{"progress temp file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, icpDownloadProgress+".tmp"), nil, 0o644)
		}, ".download_progress.json.tmp: the icp-cli download"},
		{"held lock", func(t *testing.T, dir string) {
			f, err := os.Open(filepath.Join(dir, icpLock))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
				t.Fatal(err)
			}
		}, ".lock is locked: icp-cli is still downloading into this directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			storeDir := t.TempDir()
			st, err := fsstore.Open(storeDir)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			dir := icpDownload(t, spec)
			tt.setup(t, dir)
			before := treeOf(t, storeDir)
			_, err = Import(context.Background(), st, dir, ImportOptions{Name: "icp"})
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("import: %v\nwant one line containing %q", err, tt.want)
			}
			if after := treeOf(t, storeDir); after != before {
				t.Fatalf("the store changed:\n%s\n--- became ---\n%s", before, after)
			}
		})
	}
}

// treeOf lists the files under dir with their sizes.
func treeOf(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() != "lock" {
			b.WriteString(strings.TrimPrefix(p, dir) + " " + fi.Mode().String() + "\n")
		}
		return nil
	})
	return b.String()
}
