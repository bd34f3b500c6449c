package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/candid"
)

// golden compares got with testdata/<name>.golden; CANSCOPE_UPDATE_GOLDEN=1
// rewrites the file instead.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if os.Getenv("CANSCOPE_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (CANSCOPE_UPDATE_GOLDEN=1 creates it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

func detect(t *testing.T, mem []byte, stableTypes string) *Layout {
	t.Helper()
	l, err := Detect(bytes.NewReader(mem), uint64(len(mem)), stableTypes)
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	return l
}

// managerFixture has every structure type in interleaved buckets: memory 0
// grows after memory 1 so its buckets are not contiguous.
func managerFixture() []byte {
	img := newStableImage(2)
	img.grow(0, 1)
	img.write(0, 0, btreeV1Header(16, 32, 116, 3))
	img.grow(1, 1)
	img.write(1, 0, vecHeader(vecMagic, 3, 8, true))
	img.grow(0, 2) // memory 0 now needs a second bucket: bucket 2
	img.grow(2, 1)
	img.write(2, 0, logIndex(5, 12))
	img.grow(3, 1)
	img.write(3, 0, logData("hello", "stable!"))
	img.grow(4, 1)
	img.write(4, 0, cellHeader([]byte("config")))
	img.grow(5, 1)
	img.write(5, 0, btreeV2Header(1024, 52, 1_000_000))
	img.grow(6, 1)
	img.write(6, 0, vecHeader(minHeapMagic, 7, 300, false))
	img.grow(7, 1) // grown, never written
	img.grow(8, 1)
	img.write(8, 0, []byte("custom format"))
	return img.bytes()
}

func TestMemoryManager(t *testing.T) {
	mem := managerFixture()
	l := detect(t, mem, "")
	if l.Kind != KindMemoryManager {
		t.Fatalf("kind %s (%s)", l.Kind, l.Summary)
	}
	m := l.Manager
	if m.BucketSizePages != 2 || m.AllocatedBuckets != 10 || len(m.Memories) != 9 || len(m.Problems) != 0 {
		t.Fatalf("manager %+v", m)
	}
	if got := m.Memories[0].Buckets; len(got) != 2 || got[0] != 0 || got[1] != 2 {
		t.Errorf("memory 0 buckets %v, want [0 2]", got)
	}
	want := map[int]string{0: "BTreeMap", 1: "Vec", 2: "Log index", 3: "Log data", 4: "Cell", 5: "BTreeMap", 6: "MinHeap", 8: "unknown"}
	for _, mem := range m.Memories {
		got := ""
		if mem.Structure != nil {
			got = mem.Structure.Type
		}
		if got != want[mem.ID] {
			t.Errorf("memory %d structure %q, want %q", mem.ID, got, want[mem.ID])
		}
	}
	if e := m.Memories[0].Structure.Entries; e == nil || *e != 3 {
		t.Errorf("BTreeMap entries %v, want 3", e)
	}
	if s := m.Memories[5].Structure; s.PageSize != 1024 || *s.Entries != 1_000_000 {
		t.Errorf("BTreeMap v2 %+v", s)
	}
	if s := m.Memories[2].Structure; *s.Entries != 2 || *s.DataBytes != 12 {
		t.Errorf("log index %+v", s)
	}
	golden(t, "manager.txt", l.String())
	js, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "manager.json", string(js)+"\n")
}

func TestMemoryAtAndDescribe(t *testing.T) {
	l := detect(t, managerFixture(), "")
	bucket := func(b int) uint64 { s, _ := l.Manager.StableRange(b); return s }
	tests := []struct {
		offset uint64
		id     int
		ok     bool
		label  string
	}{
		{0, 0, false, "memory-manager header"},
		{wasmPageSize - 1, 0, false, "memory-manager header"},
		{bucket(0), 0, true, "memory 0 (BTreeMap)"},
		{bucket(1) + 5, 1, true, "memory 1 (Vec)"},
		{bucket(2) + 2*wasmPageSize - 1, 0, true, "memory 0 (BTreeMap)"},
		{bucket(9), 8, true, "memory 8 (unknown)"},
		{bucket(8), 7, true, "memory 7"},
		{bucket(10), 0, false, "unallocated"},
	}
	for _, tt := range tests {
		id, ok := l.MemoryAt(tt.offset)
		if id != tt.id || ok != tt.ok {
			t.Errorf("MemoryAt(%d) = %d, %v; want %d, %v", tt.offset, id, ok, tt.id, tt.ok)
		}
		if got := l.Describe(tt.offset); got != tt.label {
			t.Errorf("Describe(%d) = %q, want %q", tt.offset, got, tt.label)
		}
	}
	if got := l.DescribeRange(wasmPageSize, bucket(3)); got != "memory 0 (BTreeMap), memory 1 (Vec)" {
		t.Errorf("DescribeRange = %q", got)
	}
	if got := l.DescribeRange(0, 1<<40); !strings.HasPrefix(got, "memory-manager header, memory 0 (BTreeMap)") || !strings.HasSuffix(got, "unallocated") {
		t.Errorf("DescribeRange of everything = %q", got)
	}
	var none *Layout
	if _, ok := none.MemoryAt(5); ok || none.Describe(5) != "" {
		t.Error("a nil layout labels offsets")
	}
}

func TestFreeBucketsAndProblems(t *testing.T) {
	img := newStableImage(1)
	img.grow(0, 1)
	img.grow(1, 1)
	img.grow(2, 1)
	mem := img.bytes()
	// Release memory 1's bucket, as try_release_virtual_memory_buckets
	// does, and claim more pages for memory 2 than its bucket holds.
	mem[managerHeaderSize+1] = unallocatedBucket
	mem[40+8] = 0
	mem[40+16] = 5
	l := detect(t, mem, "")
	m := l.Manager
	if len(m.FreeBuckets) != 1 || m.FreeBuckets[0] != 1 {
		t.Errorf("free buckets %v, want [1]", m.FreeBuckets)
	}
	if len(m.Problems) != 1 || !strings.Contains(m.Problems[0], "memory 2 has 5 pages but only 1 bucket") {
		t.Errorf("problems %q", m.Problems)
	}
	if got := l.Describe(2 * wasmPageSize); got != "free bucket" {
		t.Errorf("Describe(free bucket) = %q", got)
	}
	golden(t, "problems.txt", l.String())
}

func TestStructureWithoutManager(t *testing.T) {
	tests := []struct {
		name, magic, summary string
		mem                  []byte
	}{
		{"btree", btreeMagic, "stable structure at offset 0 (no MemoryManager): BTreeMap, 9 entries, keys ≤ 8 B, values ≤ 100 B", btreeV1Header(8, 100, 52, 9)},
		{"vec", vecMagic, "stable structure at offset 0 (no MemoryManager): Vec, 2 entries, variable size ≤ 300 B", vecHeader(vecMagic, 2, 300, false)},
		{"cell", cellMagic, "stable structure at offset 0 (no MemoryManager): Cell, value of 3 bytes", cellHeader([]byte("abc"))},
		{"bad version", btreeMagic, "stable structure at offset 0 (no MemoryManager): BTreeMap, unsupported layout version 9", append([]byte("BTR\x09"), make([]byte, 60)...)},
	}
	for _, tt := range tests {
		mem := make([]byte, wasmPageSize)
		copy(mem, tt.mem)
		l := detect(t, mem, "")
		if l.Kind != KindStructure || l.Structure.Magic != tt.magic || l.Summary != tt.summary {
			t.Errorf("%s: kind %s summary %q", tt.name, l.Kind, l.Summary)
		}
		if l.Describe(100) != l.Structure.Type {
			t.Errorf("%s: Describe = %q", tt.name, l.Describe(100))
		}
	}
}

func TestNotALayout(t *testing.T) {
	tests := []struct {
		name string
		mem  []byte
		kind Kind
	}{
		{"empty", nil, KindEmpty},
		{"zeros", make([]byte, wasmPageSize), KindUnknown},
		{"text", []byte("just some bytes a canister wrote"), KindUnknown},
		{"short", []byte("MG"), KindUnknown},
	}
	for _, tt := range tests {
		l := detect(t, tt.mem, "")
		if l.Kind != tt.kind {
			t.Errorf("%s: kind %s, want %s", tt.name, l.Kind, tt.kind)
		}
		if tt.kind == KindUnknown && l.Summary != "not a stable-structures layout: no MGR magic at offset 0" {
			t.Errorf("%s: summary %q", tt.name, l.Summary)
		}
		if _, ok := l.MemoryAt(0); ok {
			t.Errorf("%s: MemoryAt labels an unknown layout", tt.name)
		}
	}
}

func TestCorruptManager(t *testing.T) {
	tests := []struct {
		name    string
		edit    func([]byte) []byte
		problem string
	}{
		{"truncated header", func(m []byte) []byte { return m[:100] }, "ends inside the 2080-byte header"},
		{"version", func(m []byte) []byte { m[3] = 7; return m }, "layout version 7 is not supported"},
		{"zero bucket size", func(m []byte) []byte { m[6], m[7] = 0, 0; return m }, "bucket size is 0 pages"},
		{"owner beyond allocated", func(m []byte) []byte { m[managerHeaderSize+20] = 3; return m }, "bucket 20 is owned by memory 3"},
		{"buckets beyond the end", func(m []byte) []byte { return m[:2*wasmPageSize] }, "buckets need"},
	}
	for _, tt := range tests {
		mem := tt.edit(managerFixture())
		l := detect(t, mem, "")
		if l.Kind != KindMemoryManager || !strings.Contains(strings.Join(l.Manager.Problems, "\n"), tt.problem) {
			t.Errorf("%s: kind %s, problems %q, want one mentioning %q", tt.name, l.Kind, l.Manager.Problems, tt.problem)
		}
	}
}

// TestDetectReadsLittle checks that a huge, mostly zero stable memory is
// recognised from a few small reads.
func TestDetectReadsLittle(t *testing.T) {
	var read int64
	mem := managerFixture()
	r := sparse{data: mem, size: 5 << 30, read: &read}
	l, err := Detect(r, 5<<30, "")
	if err != nil || l.Kind != KindMemoryManager {
		t.Fatalf("Detect: %v, %v", l, err)
	}
	if read > 64<<10 {
		t.Errorf("read %d bytes to detect the layout, want at most 64 KiB", read)
	}
}

func FuzzDetect(f *testing.F) {
	f.Add(managerFixture()[:3*wasmPageSize], "")
	f.Add(btreeV1Header(1, 2, 3, 4), "")
	f.Add([]byte("\x10\x00\x00\x00DIDL\x00\x00"), "actor { stable var x : Nat }")
	f.Add([]byte("MGR\x01\xff\xff\x01\x00"), "")
	f.Fuzz(func(t *testing.T, mem []byte, stableTypes string) {
		l, err := Detect(bytes.NewReader(mem), uint64(len(mem)), stableTypes)
		if err != nil {
			t.Fatalf("Detect on in-memory bytes failed: %v", err)
		}
		if l.Summary == "" {
			t.Fatal("no summary")
		}
		_ = l.String()
		l.DescribeRange(0, uint64(len(mem))+wasmPageSize)
		if _, err := json.Marshal(l); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkDetect measures recognising a MemoryManager layout in a 5 GiB,
// mostly zero stable memory.
func BenchmarkDetect(b *testing.B) {
	r := sparse{data: managerFixture(), size: 5 << 30}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Detect(r, 5<<30, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCandidAtOffsetZero(t *testing.T) {
	msg, err := candid.EncodeText(`(record { entries = vec { "a"; "b" }; owner = principal "aaaaa-aa" })`, nil)
	if err != nil {
		t.Fatal(err)
	}
	mem := make([]byte, wasmPageSize)
	copy(mem, msg)
	l := detect(t, mem, "")
	if l.Kind != KindCandid || l.Candid.Bytes != uint64(len(msg)) {
		t.Fatalf("layout %s", l.Summary)
	}
	golden(t, "candid.txt", l.String())
	if l.Describe(3) != "Candid (stable_save)" || l.Describe(uint64(len(msg))) != "" {
		t.Errorf("Describe: %q, %q", l.Describe(3), l.Describe(uint64(len(msg))))
	}
	copy(mem, "DIDL\x00\x01\x71\x7f")
	if l := detect(t, mem, ""); l.Kind != KindCandid || !strings.Contains(l.Summary, "does not decode") {
		t.Errorf("broken message: %s", l.Summary)
	}
}

type failingReader struct{}

func (failingReader) ReadAt(p []byte, off int64) (int, error) {
	return 0, errors.New("blob 1a2b: checksum mismatch")
}

// TestDetectReadError: a failed read is an error naming the offset, not
// a verdict about the layout.
func TestDetectReadError(t *testing.T) {
	_, err := Detect(failingReader{}, 1<<20, "")
	if err == nil || !strings.Contains(err.Error(), "read stable memory at 0: blob 1a2b: checksum mismatch") {
		t.Errorf("error %v", err)
	}
}

// TestDetectShallow: the same regions as Detect, without decoding.
func TestDetectShallow(t *testing.T) {
	var read int64
	img := make([]byte, 2*wasmPageSize)
	msg, _ := candid.EncodeText(`(vec { 1; 2; 3 })`, nil)
	copy(img, msg)
	for _, mem := range [][]byte{managerFixture(), img} {
		deep := detect(t, mem, "")
		shallow, err := DetectShallow(sparse{data: mem, size: int64(len(mem)), read: &read}, uint64(len(mem)), "")
		if err != nil {
			t.Fatal(err)
		}
		if shallow.Kind != deep.Kind {
			t.Errorf("shallow kind %s, deep %s", shallow.Kind, deep.Kind)
		}
		for _, off := range []uint64{0, 5, wasmPageSize, 3 * wasmPageSize} {
			if a, b := shallow.Describe(off), deep.Describe(off); a != b && shallow.Kind != KindCandid {
				t.Errorf("Describe(%d): shallow %q, deep %q", off, a, b)
			}
		}
	}
	if read > 80<<10 {
		t.Errorf("shallow detection read %d bytes", read)
	}
}
