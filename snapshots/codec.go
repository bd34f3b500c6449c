package snapshots

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// manifestMagic opens every encoded manifest; the trailing digit is the
// format version (FORMAT.md).
const manifestMagic = "CSMANIF1"

// maxHeaderBytes bounds the JSON header so a damaged length field cannot
// make a reader allocate gigabytes.
const maxHeaderBytes = 16 << 20

// pageEntryBytes is one binary page table entry: u64 index + 32-byte hash.
const pageEntryBytes = 8 + 32

// manifestHeader is the JSON part of an encoded manifest: everything but
// the page tables and the ID (the ID is the hash of the encoding).
type manifestHeader struct {
	Name              string     `json:"name"`
	Seq               int        `json:"seq"`
	Parent            *ID        `json:"parent,omitempty"`
	ForkedFrom        *ID        `json:"forked_from,omitempty"`
	MadeBy            MadeBy     `json:"made_by"`
	CreatedAt         time.Time  `json:"created_at"`
	Note              string     `json:"note,omitempty"`
	CanisterID        string     `json:"canister_id"`
	TakenAt           uint64     `json:"taken_at"`
	CanisterVersion   uint64     `json:"canister_version"`
	Module            Hash       `json:"module"`
	ModuleHash        Hash       `json:"module_hash"`
	HeapBytes         uint64     `json:"heap_bytes"`
	StableBytes       uint64     `json:"stable_bytes"`
	HeapPagesStored   int        `json:"heap_pages_stored"`
	StablePagesStored int        `json:"stable_pages_stored"`
	Globals           []Global   `json:"globals"`
	CertifiedData     []byte     `json:"certified_data"`
	GlobalTimer       TimerState `json:"global_timer"`
	LowWasmMemoryHook string     `json:"low_wasm_memory_hook,omitempty"`
	Chunks            []Hash     `json:"chunks"`
	DfxMetadata       []byte     `json:"dfx_metadata,omitempty"`
}

// EncodeManifest returns the on-disk encoding of m (FORMAT.md): magic, a
// JSON header, then the heap and stable page tables in binary, 40 bytes a
// page. m.ID is not encoded: it is the SHA-256 of this encoding. The
// summary fields (sizes, page counts) are taken from the tables.
func EncodeManifest(m *Manifest) ([]byte, error) {
	h := manifestHeader{
		Name: m.Name, Seq: m.Seq, Parent: m.Parent, ForkedFrom: m.ForkedFrom,
		MadeBy: m.MadeBy, CreatedAt: m.CreatedAt.UTC(), Note: m.Note,
		CanisterID: m.CanisterID, TakenAt: m.TakenAt, CanisterVersion: m.CanisterVersion,
		Module: m.Module, ModuleHash: m.ModuleHash,
		HeapBytes: m.Heap.Size, StableBytes: m.Stable.Size,
		HeapPagesStored: len(m.Heap.Pages), StablePagesStored: len(m.Stable.Pages),
		Globals: m.Globals, CertifiedData: m.CertifiedData, GlobalTimer: m.GlobalTimer,
		LowWasmMemoryHook: m.LowWasmMemoryHook, Chunks: m.Chunks, DfxMetadata: m.DfxMetadata,
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode manifest %s: %w", m.Ref(), err)
	}
	if len(hdr) > maxHeaderBytes { // every reader would refuse it
		return nil, fmt.Errorf("encode manifest %s: header of %d bytes exceeds %d", m.Ref(), len(hdr), maxHeaderBytes)
	}
	n := len(manifestMagic) + 4 + len(hdr) + 2*16 + (len(m.Heap.Pages)+len(m.Stable.Pages))*pageEntryBytes
	buf := make([]byte, 0, n)
	buf = append(buf, manifestMagic...)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(hdr)))
	buf = append(buf, hdr...)
	buf = appendTable(buf, m.Heap)
	buf = appendTable(buf, m.Stable)
	return buf, nil
}

func appendTable(buf []byte, t PageTable) []byte {
	buf = binary.LittleEndian.AppendUint64(buf, t.Size)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(t.Pages)))
	for _, p := range t.Pages {
		buf = binary.LittleEndian.AppendUint64(buf, p.Index)
		buf = append(buf, p.Hash[:]...)
	}
	return buf
}

// DecodeManifest parses an encoded manifest and checks its invariants
// (sorted tables, sizes within the IC limits, header agreeing with the
// tables). It sets m.ID to the hash of b. Garbage yields an error, never
// a panic or a large allocation.
func DecodeManifest(b []byte) (*Manifest, error) {
	h, rest, err := decodeHeader(b)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Snapshot: h.snapshot(HashOf(b))}
	m.Module = h.Module
	m.Globals = h.Globals
	m.CertifiedData = h.CertifiedData
	m.GlobalTimer = h.GlobalTimer
	m.LowWasmMemoryHook = h.LowWasmMemoryHook
	m.Chunks = h.Chunks
	m.DfxMetadata = h.DfxMetadata
	if m.Heap, rest, err = decodeTable(rest, "heap", MaxWasm64HeapBytes); err != nil {
		return nil, err
	}
	if m.Stable, rest, err = decodeTable(rest, "stable memory", MaxStableBytes); err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("decode manifest: %d trailing bytes", len(rest))
	}
	if h.HeapBytes != m.Heap.Size || h.StableBytes != m.Stable.Size ||
		h.HeapPagesStored != len(m.Heap.Pages) || h.StablePagesStored != len(m.Stable.Pages) {
		return nil, errors.New("decode manifest: header sizes disagree with the page tables")
	}
	return m, nil
}

// DecodeSummary reads only the header of an encoded manifest from r:
// what `ls` needs, without reading page tables. id is the manifest's name
// in the store (it is not re-verified here; Manifest and fsck do that).
func DecodeSummary(r io.Reader, id ID) (Snapshot, error) {
	var pre [len(manifestMagic) + 4]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return Snapshot{}, fmt.Errorf("decode manifest: read header: %w", err)
	}
	if string(pre[:len(manifestMagic)]) != manifestMagic {
		return Snapshot{}, errors.New("decode manifest: bad magic (not a canscope manifest, or a newer format)")
	}
	n := binary.LittleEndian.Uint32(pre[len(manifestMagic):])
	if n > maxHeaderBytes {
		return Snapshot{}, fmt.Errorf("decode manifest: header of %d bytes exceeds %d", n, maxHeaderBytes)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return Snapshot{}, fmt.Errorf("decode manifest: read header: %w", err)
	}
	var h manifestHeader
	if err := json.Unmarshal(hdr, &h); err != nil {
		return Snapshot{}, fmt.Errorf("decode manifest header: %w", err)
	}
	return h.snapshot(id), nil
}

func decodeHeader(b []byte) (manifestHeader, []byte, error) {
	var h manifestHeader
	if len(b) < len(manifestMagic)+4 || string(b[:len(manifestMagic)]) != manifestMagic {
		return h, nil, errors.New("decode manifest: bad magic (not a canscope manifest, or a newer format)")
	}
	b = b[len(manifestMagic):]
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	if uint64(n) > uint64(len(b)) {
		return h, nil, fmt.Errorf("decode manifest: header of %d bytes but only %d bytes left", n, len(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b[:n]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return h, nil, fmt.Errorf("decode manifest header: %w", err)
	}
	return h, b[n:], nil
}

func decodeTable(b []byte, what string, max uint64) (PageTable, []byte, error) {
	var t PageTable
	if len(b) < 16 {
		return t, nil, fmt.Errorf("decode manifest: %s page table truncated", what)
	}
	t.Size = binary.LittleEndian.Uint64(b)
	count := binary.LittleEndian.Uint64(b[8:])
	b = b[16:]
	if count > uint64(len(b))/pageEntryBytes {
		return t, nil, fmt.Errorf("decode manifest: %s page table claims %d pages, only %d bytes left", what, count, len(b))
	}
	t.Pages = make([]Page, count)
	for i := range t.Pages {
		t.Pages[i].Index = binary.LittleEndian.Uint64(b)
		copy(t.Pages[i].Hash[:], b[8:pageEntryBytes])
		b = b[pageEntryBytes:]
	}
	if err := t.Validate(max); err != nil {
		return t, nil, fmt.Errorf("decode manifest: %s: %w", what, err)
	}
	return t, b, nil
}

func (h manifestHeader) snapshot(id ID) Snapshot {
	return Snapshot{
		ID: id, Name: h.Name, Seq: h.Seq, Parent: h.Parent, MadeBy: h.MadeBy,
		CreatedAt: h.CreatedAt, CanisterID: h.CanisterID, TakenAt: h.TakenAt,
		CanisterVersion: h.CanisterVersion, ModuleHash: h.ModuleHash,
		HeapBytes: h.HeapBytes, StableBytes: h.StableBytes,
		HeapPagesStored: h.HeapPagesStored, StablePagesStored: h.StablePagesStored,
		ForkedFrom: h.ForkedFrom, Note: h.Note,
	}
}
