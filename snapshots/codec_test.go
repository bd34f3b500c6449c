package snapshots

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

func sampleManifest() *Manifest {
	parent := h(9)
	return &Manifest{
		Snapshot: Snapshot{
			Name: "prod", Seq: 3, Parent: &parent, MadeBy: MadeByImport,
			CreatedAt:  time.Date(2026, 11, 26, 5, 0, 0, 123000, time.UTC),
			CanisterID: "ryjl3-tyaaa-aaaaa-aaaba-cai", TakenAt: 1764000000000000001,
			CanisterVersion: 43, ModuleHash: h(4), Note: "imported",
		},
		Module:            h(4),
		Heap:              PageTable{Size: 128 * PageSize, Pages: []Page{{0, h(1)}, {127, h(2)}}},
		Stable:            PageTable{Size: 1 << 30, Pages: []Page{{5, h(3)}}},
		Globals:           []Global{{Kind: KindI32, Bits: 65536}, {Kind: KindNull}, {Kind: KindV128, Bits: 1, Hi: 2}},
		CertifiedData:     []byte{1, 2, 3},
		GlobalTimer:       TimerState{Active: true, Deadline: 17},
		LowWasmMemoryHook: "ready",
		Chunks:            []Hash{h(5), h(6)},
		DfxMetadata:       []byte(`{"x": 1}`),
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m := sampleManifest()
	m.HeapBytes, m.StableBytes, m.HeapPagesStored, m.StablePagesStored = m.Heap.Size, m.Stable.Size, 2, 1
	b, err := EncodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	m.ID = HashOf(b)
	if !reflect.DeepEqual(got, m) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, m)
	}
	sum, err := DecodeSummary(bytes.NewReader(b), m.ID)
	if err != nil || !reflect.DeepEqual(sum, m.Snapshot) {
		t.Errorf("DecodeSummary = %+v, %v; want %+v", sum, err, m.Snapshot)
	}
	// A 4 GiB heap table costs 40 bytes a stored page, not hex JSON.
	big := sampleManifest()
	big.Heap = PageTable{Size: MaxHeapBytes}
	for i := range uint64(65536) {
		big.Heap.Pages = append(big.Heap.Pages, Page{i, h(byte(i) | 1)})
	}
	eb, err := EncodeManifest(big)
	if err != nil {
		t.Fatal(err)
	}
	if len(eb) > 65536*40+4096 {
		t.Errorf("4 GiB heap manifest is %d bytes, want about %d", len(eb), 65536*40)
	}
}

func TestDecodeManifestRejects(t *testing.T) {
	good, err := EncodeManifest(sampleManifest())
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]byte{
		"empty":      nil,
		"bad magic":  append([]byte("XXXXXXXX"), good[8:]...),
		"truncated":  good[:len(good)-5],
		"trailing":   append(append([]byte(nil), good...), 0),
		"huge count": append(append([]byte(nil), good[:len(good)-16-40]...), 0, 0, 0, 64, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
	}
	for name, b := range tests {
		if _, err := DecodeManifest(b); err == nil {
			t.Errorf("%s: DecodeManifest accepted it", name)
		}
	}
}

// FuzzDecodeManifest: garbage never panics or allocates past its size, and
// whatever decodes re-encodes to the same bytes.
func FuzzDecodeManifest(f *testing.F) {
	good, err := EncodeManifest(sampleManifest())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(manifestMagic))
	f.Add(good[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifest(b)
		if err != nil {
			return
		}
		if _, err := EncodeManifest(m); err != nil {
			t.Fatalf("decoded manifest does not re-encode: %v", err)
		}
		if _, err := DecodeSummary(bytes.NewReader(b), m.ID); err != nil {
			t.Fatalf("DecodeManifest accepted what DecodeSummary rejects: %v", err)
		}
	})
}
