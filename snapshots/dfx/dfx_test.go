package dfx

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx/dfxtest"
	"github.com/canscope/canscope/snapshots/fsstore"
	"golang.org/x/sys/unix"
)

func openStore(t testing.TB) *fsstore.Store {
	t.Helper()
	st, err := fsstore.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func writeDir(t testing.TB, spec dfxtest.Spec) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "snap")
	if err := dfxtest.Write(dir, spec); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tree lists every file under dir with its size: the state a refused
// operation must leave unchanged.
func tree(t testing.TB, dir string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		fi, _ := d.Info()
		lines = append(lines, fmt.Sprintf("%s %d", strings.TrimPrefix(p, dir), fi.Size()))
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// dataExtents returns the data regions of a (possibly sparse) file.
func dataExtents(t testing.TB, f *os.File, size int64) [][2]int64 {
	var out [][2]int64
	for off := int64(0); off < size; {
		data, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
		if err != nil {
			break
		}
		hole, err := unix.Seek(int(f.Fd()), data, unix.SEEK_HOLE)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, [2]int64{data, hole})
		off = hole
	}
	return out
}

// sameFile compares two files byte for byte, reading only where either
// holds data (holes read as zeros in both), so multi-GiB sparse memories
// compare in milliseconds.
func sameFile(t testing.TB, a, b string) {
	t.Helper()
	fa, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	sa, _ := fa.Stat()
	sb, _ := fb.Stat()
	if sa.Size() != sb.Size() {
		t.Fatalf("%s is %d bytes, %s is %d", a, sa.Size(), b, sb.Size())
	}
	ranges := append(dataExtents(t, fa, sa.Size()), dataExtents(t, fb, sb.Size())...)
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for _, r := range ranges {
		for off := r[0]; off < r[1]; off += int64(len(ba)) {
			n := min(int64(len(ba)), r[1]-off)
			if _, err := fa.ReadAt(ba[:n], off); err != nil && err != io.EOF {
				t.Fatal(err)
			}
			if _, err := fb.ReadAt(bb[:n], off); err != nil && err != io.EOF {
				t.Fatal(err)
			}
			if !bytes.Equal(ba[:n], bb[:n]) {
				t.Fatalf("%s and %s differ in [%d, %d)", a, b, off, off+n)
			}
		}
	}
}

func sameDir(t testing.TB, a, b string) {
	t.Helper()
	if ta, tb := tree(t, a), tree(t, b); ta != tb {
		t.Fatalf("file sets differ:\n%s\n--- vs ---\n%s", ta, tb)
	}
	filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			sameFile(t, p, filepath.Join(b, strings.TrimPrefix(p, a)))
		}
		return nil
	})
}

func TestImportExportRoundTrip(t *testing.T) {
	tests := map[string]dfxtest.Spec{
		"heap with zero pages, no stable": {HeapPages: 40, HeapData: []uint64{0, 1, 7, 39}, Seed: 1},
		"empty stable file absent":        {HeapPages: 2, HeapData: []uint64{1}, Chunks: 2, Seed: 2},
		"old globals, unknown key":        {HeapPages: 3, HeapData: []uint64{0}, StablePages: 5, StableData: []uint64{4}, OldGlobals: true, UnknownKey: true, Seed: 3},
		"sparse 5 GiB wasm64 heap":        {HeapPages: 5 << 14, HeapData: []uint64{0, 65535, 65536, 5<<14 - 1}, Memory64: true, Seed: 6},
		"wasm64 heap at the 18 GiB cap":   {HeapPages: snapshots.MaxWasm64HeapBytes / PageSizeForTest, HeapData: []uint64{3, snapshots.MaxWasm64HeapBytes/PageSizeForTest - 1}, Memory64: true, Seed: 7},
		"sparse 5 GiB stable":             {HeapPages: 16, HeapData: []uint64{2, 3}, StablePages: 5 << 14, StableData: []uint64{0, 1, 65536, 5<<14 - 1}, Chunks: 1, Seed: 4},
		"empty heap":                      {StablePages: 1, StableData: []uint64{0}, Seed: 5},
	}
	for name, spec := range tests {
		t.Run(name, func(t *testing.T) {
			st := openStore(t)
			src := writeDir(t, spec)
			snap, err := Import(context.Background(), st, src, ImportOptions{Name: "prod", CanisterID: "aaaaa-aa"})
			if err != nil {
				t.Fatal(err)
			}
			if snap.Ref() != "prod@1" || snap.CanisterID != "aaaaa-aa" || snap.MadeBy != snapshots.MadeByImport ||
				snap.HeapBytes != spec.HeapPages*PageSizeForTest || snap.HeapPagesStored != len(spec.HeapData) ||
				snap.StablePagesStored != len(spec.StableData) || (snap.ModuleHash != snapshots.HashOf(dfxtest.Module()) && !spec.Memory64) {
				t.Errorf("snapshot = %+v", snap)
			}
			m, err := st.Manifest(snap.ID)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			if err := Export(context.Background(), st, m, out); err != nil {
				t.Fatal(err)
			}
			sameDir(t, src, out)
			if spec.StablePages == 0 {
				if _, err := os.Stat(filepath.Join(out, StableFile)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("empty stable memory exported as a file: %v", err)
				}
			}
			// dfx writes wasm_chunk_store/ only for a snapshot with chunks.
			if _, err := os.Stat(filepath.Join(out, ChunkDir)); (err == nil) != (spec.Chunks > 0) {
				t.Errorf("%d chunks, %s/ exported: %v", spec.Chunks, ChunkDir, err == nil)
			}
		})
	}
}

// PageSizeForTest keeps the table above readable.
const PageSizeForTest = snapshots.PageSize

func TestReimportStoresOnlyChangedPages(t *testing.T) {
	st := openStore(t)
	data := make([]uint64, 50)
	for i := range data {
		data[i] = uint64(i * 2)
	}
	spec := dfxtest.Spec{HeapPages: 100, HeapData: data, Seed: 7}
	a, err := Import(context.Background(), st, writeDir(t, spec), ImportOptions{Name: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	blobs := func() int {
		rep, err := st.Check(context.Background())
		if err != nil || !rep.OK {
			t.Fatalf("fsck: %+v, %v", rep, err)
		}
		return rep.BlobsChecked
	}
	before, files := blobs(), strings.Count(tree(t, st.Dir()), "\n")
	spec.Changed = []uint64{10, 20}
	spec.Version = 1
	b, err := Import(context.Background(), st, writeDir(t, spec), ImportOptions{Name: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	// Two new pages (in one or two packs: a pack per CPU is written)
	// plus one manifest; module, chunks and 48 pages shared.
	if after := blobs(); after-before != 2 {
		t.Errorf("re-import added %d blobs, want 2", after-before)
	}
	if after := strings.Count(tree(t, st.Dir()), "\n"); after-files < 2 || after-files > 3 {
		t.Errorf("re-import added %d files, want 2 or 3 (packs and a manifest)", after-files)
	}
	ma, _ := st.Manifest(a.ID)
	mb, _ := st.Manifest(b.ID)
	d := snapshots.Diff(ma, mb)
	want := []snapshots.Range{
		{Start: 10 * PageSizeForTest, End: 11 * PageSizeForTest, Kind: snapshots.RangeChanged},
		{Start: 20 * PageSizeForTest, End: 21 * PageSizeForTest, Kind: snapshots.RangeChanged},
	}
	if fmt.Sprint(d.Heap.Ranges) != fmt.Sprint(want) || b.Ref() != "prod@2" {
		t.Errorf("diff of the two imports = %+v (%s)", d.Heap.Ranges, b.Ref())
	}
	if len(d.Metadata) != 1 || d.Metadata[0].Key != "canister_version" {
		t.Errorf("metadata changes = %+v, want only canister_version", d.Metadata)
	}
}

// TestImportHeapCapFollowsModule: a heap above 4 GiB imports with a wasm64
// module (round trip above) and is refused, with nothing stored, with a
// wasm32 one, as ValidatedSnapshotMetadata::validate refuses it in wasm32
// mode (WasmMemoryTooLarge).
func TestImportHeapCapFollowsModule(t *testing.T) {
	st := openStore(t)
	src := writeDir(t, dfxtest.Spec{HeapPages: 5 << 14, HeapData: []uint64{1, 5<<14 - 1}, Seed: 8})
	_, err := Import(context.Background(), st, src, ImportOptions{Name: "prod"})
	if err == nil || !strings.Contains(err.Error(), "4 GiB heap limit for a wasm32 module") {
		t.Fatalf("import of a 5 GiB wasm32 heap: %v", err)
	}
	if all, _ := st.List(); len(all) != 0 {
		t.Fatalf("refused import stored %d snapshots", len(all))
	}
}

func TestImportRefusesBadInput(t *testing.T) {
	spec := dfxtest.Spec{HeapPages: 4, HeapData: []uint64{1}, StablePages: 2, StableData: []uint64{0}, Chunks: 2}
	edit := func(f func(dir string) error) func(string) error { return f }
	replaceMeta := func(old, new string) func(string) error {
		return func(dir string) error {
			p := filepath.Join(dir, MetadataFile)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if !bytes.Contains(b, []byte(old)) {
				return fmt.Errorf("metadata lacks %q", old)
			}
			return os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644)
		}
	}
	tests := map[string]struct {
		mutate func(dir string) error
		err    string
	}{
		"missing heap file":   {edit(func(d string) error { return os.Remove(filepath.Join(d, HeapFile)) }), "wasm_memory.bin is missing"},
		"truncated heap":      {edit(func(d string) error { return os.Truncate(filepath.Join(d, HeapFile), 3*PageSizeForTest) }), "wasm_memory.bin is 196608 bytes but metadata.json says 262144"},
		"missing stable file": {edit(func(d string) error { return os.Remove(filepath.Join(d, StableFile)) }), "stable_memory.bin is missing"},
		"longer stable":       {edit(func(d string) error { return os.Truncate(filepath.Join(d, StableFile), 3*PageSizeForTest) }), "stable_memory.bin is 196608 bytes"},
		"missing module":      {edit(func(d string) error { return os.Remove(filepath.Join(d, ModuleFile)) }), "wasm_module.bin is missing"},
		"missing metadata":    {edit(func(d string) error { return os.Remove(filepath.Join(d, MetadataFile)) }), "metadata.json"},
		"invalid json": {edit(func(d string) error {
			return os.WriteFile(filepath.Join(d, MetadataFile), []byte(`{"globals": [`), 0o644)
		}), "invalid JSON"},
		"unknown globals":     {replaceMeta(`"f32": 0.5`, `"f16": 0.5`), `unknown globals kind "f16"`},
		"heap over 4 GiB":     {replaceMeta(`"wasm_memory_size": 262144`, `"wasm_memory_size": 4295032832`), "4 GiB heap limit for a wasm32 module"},
		"heap over 18 GiB":    {replaceMeta(`"wasm_memory_size": 262144`, `"wasm_memory_size": 19327418368`), "18 GiB wasm64 heap limit"},
		"stable over 500 GiB": {replaceMeta(`"stable_memory_size": 131072`, `"stable_memory_size": 537001000000000`), "500 GiB"},
		"module over limit":   {replaceMeta(`"wasm_module_size": `, `"wasm_module_size": 9999999999`), "module limit"},
		"chunk hash mismatch": {edit(func(d string) error {
			entries, _ := os.ReadDir(filepath.Join(d, ChunkDir))
			return os.WriteFile(filepath.Join(d, ChunkDir, entries[1].Name()), []byte("tampered"), 0o644)
		}), "not its name"},
		"missing chunk": {edit(func(d string) error {
			entries, _ := os.ReadDir(filepath.Join(d, ChunkDir))
			return os.Remove(filepath.Join(d, ChunkDir, entries[0].Name()))
		}), "chunk store"},
		"metadata over 4 MiB": {edit(func(d string) error {
			return os.WriteFile(filepath.Join(d, MetadataFile), bytes.Repeat([]byte(" "), 5<<20), 0o644)
		}), "metadata.json is larger than 4194304 bytes"},
		"chunk listed twice": {edit(func(d string) error {
			entries, _ := os.ReadDir(filepath.Join(d, ChunkDir))
			h, _ := hex.DecodeString(strings.TrimSuffix(entries[0].Name(), ".bin"))
			return os.WriteFile(filepath.Join(d, MetadataFile), dfxtest.Metadata(spec, [][32]byte{[32]byte(h), [32]byte(h)}), 0o644)
		}), "listed twice"},
		"metadata is a FIFO": {edit(func(d string) error {
			os.Remove(filepath.Join(d, MetadataFile))
			return unix.Mkfifo(filepath.Join(d, MetadataFile), 0o644)
		}), "metadata.json is not a regular file"},
		"chunk is a FIFO": {edit(func(d string) error {
			entries, _ := os.ReadDir(filepath.Join(d, ChunkDir))
			p := filepath.Join(d, ChunkDir, entries[0].Name())
			os.Remove(p)
			return unix.Mkfifo(p, 0o644)
		}), "is not a regular file"},
		"heap is a FIFO": {edit(func(d string) error {
			os.Remove(filepath.Join(d, HeapFile))
			return unix.Mkfifo(filepath.Join(d, HeapFile), 0o644)
		}), "wasm_memory.bin is not a regular file"},
		"heap not whole pages":   {replaceMeta(`"wasm_memory_size": 262144`, `"wasm_memory_size": 262145`), "not a multiple of the 64 KiB wasm page size"},
		"stable not whole pages": {replaceMeta(`"stable_memory_size": 131072`, `"stable_memory_size": 131000`), "StableMemoryNotPageAligned"},
		"unlisted chunk": {edit(func(d string) error {
			return os.WriteFile(filepath.Join(d, ChunkDir, strings.Repeat("ab", 32)+".bin"), []byte("x"), 0o644)
		}), "not listed"},
	}
	if os.Geteuid() != 0 { // root reads a mode-000 file anyway
		tests["unreadable stable file"] = struct {
			mutate func(dir string) error
			err    string
		}{edit(func(d string) error { return os.Chmod(filepath.Join(d, StableFile), 0) }), "permission denied"}
	}
	st := openStore(t)
	if _, err := Import(context.Background(), st, writeDir(t, spec), ImportOptions{Name: "good"}); err != nil {
		t.Fatal(err)
	}
	before := tree(t, st.Dir())
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeDir(t, spec)
			if err := tt.mutate(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Import(context.Background(), st, dir, ImportOptions{Name: "bad"})
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error = %v, want containing %q", err, tt.err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if after := tree(t, st.Dir()); after != before {
				t.Errorf("refused import changed the store:\n%s\n--- was ---\n%s", after, before)
			}
		})
	}
}

func TestExportRefusesNonEmptyDir(t *testing.T) {
	st := openStore(t)
	snap, err := Import(context.Background(), st, writeDir(t, dfxtest.Spec{HeapPages: 1}), ImportOptions{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := st.Manifest(snap.ID)
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "keep.txt"), []byte("mine"), 0o644)
	if err := Export(context.Background(), st, m, out); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("export into a non-empty dir: %v", err)
	}
	if got := tree(t, out); got != "/keep.txt 4" {
		t.Errorf("refused export touched the directory: %s", got)
	}
}

func TestExportOfDerivedSnapshots(t *testing.T) {
	st := openStore(t)
	src := writeDir(t, dfxtest.Spec{HeapPages: 2, HeapData: []uint64{0}, OldGlobals: true, UnknownKey: true, Seed: 9})
	snap, err := Import(context.Background(), st, src, ImportOptions{Name: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := st.Manifest(snap.ID)

	// A child whose heap grew: metadata keeps dfx's document (spelling,
	// unknown key, source) with the new size.
	child := m.Child(snapshots.MadeByCall)
	h, err := st.PutPage([]byte("new data"))
	if err != nil {
		t.Fatal(err)
	}
	child.Heap = child.Heap.Patch(3*PageSizeForTest, []snapshots.Page{{Index: 2, Hash: h}})
	child.CanisterVersion = 99
	csnap, err := st.Commit(context.Background(), child)
	if err != nil {
		t.Fatal(err)
	}
	cm, _ := st.Manifest(csnap.ID)
	out := filepath.Join(t.TempDir(), "child")
	if err := Export(context.Background(), st, cm, out); err != nil {
		t.Fatal(err)
	}
	meta, _ := os.ReadFile(filepath.Join(out, MetadataFile))
	orig, _ := os.ReadFile(filepath.Join(src, MetadataFile))
	wantMeta := bytes.Replace(orig, []byte(`"wasm_memory_size": 131072`), []byte(`"wasm_memory_size": 196608`), 1)
	wantMeta = bytes.Replace(wantMeta, []byte(`"canister_version": 0`), []byte(`"canister_version": 99`), 1)
	if !bytes.Equal(meta, wantMeta) {
		t.Errorf("derived metadata.json:\n%s\nwant:\n%s", meta, wantMeta)
	}
	if fi, _ := os.Stat(filepath.Join(out, HeapFile)); fi.Size() != 3*PageSizeForTest {
		t.Errorf("heap file is %d bytes", fi.Size())
	}

	// A snapshot canscope made from scratch: dfx's canonical document.
	fresh := &snapshots.Manifest{
		Snapshot: snapshots.Snapshot{Name: "scratch", MadeBy: snapshots.MadeByInstall, CanisterVersion: 1},
		Module:   m.Module,
		Heap:     snapshots.PageTable{Size: PageSizeForTest, Pages: []snapshots.Page{{Index: 0, Hash: h}}},
		Globals:  []snapshots.Global{{Kind: snapshots.KindI32, Bits: 5}},
	}
	fsnap, err := st.Commit(context.Background(), fresh)
	if err != nil {
		t.Fatal(err)
	}
	fm, _ := st.Manifest(fsnap.ID)
	out2 := filepath.Join(t.TempDir(), "fresh")
	if err := Export(context.Background(), st, fm, out2); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(out2, MetadataFile))
	want := fmt.Sprintf(`{
  "source": {
    "metadata_upload": null
  },
  "taken_at_timestamp": 0,
  "wasm_module_size": %d,
  "globals": [
    {
      "i32": 5
    }
  ],
  "wasm_memory_size": 65536,
  "stable_memory_size": 0,
  "wasm_chunk_store": [],
  "canister_version": 1,
  "certified_data": [],
  "global_timer": "inactive",
  "on_low_wasm_memory_hook_status": null
}`, len(dfxtest.Module()))
	if string(got) != want {
		t.Errorf("fresh metadata.json:\n%s\nwant:\n%s", got, want)
	}
	// And it imports back to the same state.
	back, err := Import(context.Background(), st, out2, ImportOptions{Name: "back"})
	if err != nil {
		t.Fatal(err)
	}
	bm, _ := st.Manifest(back.ID)
	d := snapshots.Diff(fm, bm)
	if len(d.Heap.Ranges)+len(d.Stable.Ranges)+len(d.Globals) != 0 {
		t.Errorf("re-import of a canscope export differs: %+v", d)
	}
}

func TestExportOfDamagedSnapshotCleansUp(t *testing.T) {
	st := openStore(t)
	snap, err := Import(context.Background(), st, writeDir(t, dfxtest.Spec{HeapPages: 8, HeapData: []uint64{1, 2, 5}, Seed: 3}), ImportOptions{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := st.Manifest(snap.ID)
	x := m.Heap.Pages[1].Hash.String()
	if err := fsstore.Damage(st.Dir(), m.Heap.Pages[1].Hash, []byte("rot")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	err = Export(context.Background(), st, m, out)
	if err == nil || !strings.Contains(err.Error(), "heap: page 2: blob "+x[:12]) {
		t.Fatalf("export of a damaged snapshot: %v", err)
	}
	if got := tree(t, out); got != "" {
		t.Errorf("failed export left files behind:\n%s", got)
	}
}

// Import's progress counts data bytes against their total, holes not at
// all; export's counts stored pages.
func TestProgressCountsData(t *testing.T) {
	spec := dfxtest.Spec{HeapPages: 64, HeapData: []uint64{3, 4, 40}, StablePages: 1024, StableData: []uint64{7, 900}}
	st := openStore(t)
	var p snapshots.Progress
	snap, err := Import(context.Background(), st, writeDir(t, spec), ImportOptions{Name: "p", Progress: &p})
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(5 * PageSizeForTest); p.Total.Load() != want || p.Done.Load() != want {
		t.Errorf("import progress %d of %d, want %d of %d (the data pages)", p.Done.Load(), p.Total.Load(), want, want)
	}
	m, _ := st.Manifest(snap.ID)
	var e snapshots.Progress
	if err := ExportProgress(context.Background(), st, m, filepath.Join(t.TempDir(), "out"), &e); err != nil {
		t.Fatal(err)
	}
	if e.Done.Load() != e.Total.Load() || e.Total.Load() != 5*PageSizeForTest {
		t.Errorf("export progress %d of %d, want 5 pages", e.Done.Load(), e.Total.Load())
	}
}
