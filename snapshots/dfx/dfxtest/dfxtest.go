// Package dfxtest writes realistic `dfx canister snapshot download`
// directories for tests and benchmarks: sparse memory files with
// pseudo-random data pages, a small module with a Candid interface, chunk
// store entries, and metadata.json in dfx's exact format.
package dfxtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// PageSize is the wasm page size the memories are laid out in.
const PageSize = 64 << 10

// Spec describes a snapshot directory to write.
type Spec struct {
	HeapPages   uint64   // heap size in 64 KiB pages
	StablePages uint64   // stable memory size in pages; 0 omits stable_memory.bin
	HeapData    []uint64 // heap pages holding data; the rest are zero
	StableData  []uint64 // stable pages holding data (the file stays sparse)
	// Seed picks the data; Changed lists pages whose data is drawn from
	// another seed, to make a second snapshot differing in those pages.
	Seed    uint64
	Changed []uint64
	Chunks  int // chunk store entries
	Version uint64
	// OldGlobals spells the globals key as older dfx did
	// (exported_globals); UnknownKey adds a key canscope does not know.
	OldGlobals bool
	UnknownKey bool
	// Memory64 writes Module64 (a wasm64 module, as Motoko's enhanced
	// orthogonal persistence builds) instead of Module.
	Memory64 bool
}

// Seed is the seed-sized snapshot of issue 14: a 4 GiB heap and a
// 40 GiB sparse stable memory holding 85,000 pages (5.6 GB) of
// incompressible data, laid out as a canister's would be: the heap's
// first 40,000 pages in use, stable memory a contiguous region followed
// by scattered pages. The import and export benchmarks generate it.
func Seed() Spec {
	spec := Spec{HeapPages: 1 << 16, StablePages: 10 << 16, Seed: 7, Chunks: 2}
	for i := uint64(0); i < 40000; i++ {
		spec.HeapData = append(spec.HeapData, i)
	}
	for i := uint64(0); i < 40000; i++ {
		spec.StableData = append(spec.StableData, i)
	}
	for i := uint64(0); i < 5000; i++ {
		spec.StableData = append(spec.StableData, 40000+i*121)
	}
	return spec
}

// module is the module spec writes.
func (spec Spec) module() []byte {
	if spec.Memory64 {
		return Module64()
	}
	return Module()
}

// Write creates dir (which must not exist) holding the snapshot spec
// describes.
func Write(dir string, spec Spec) error {
	if err := os.MkdirAll(filepath.Join(dir, "wasm_chunk_store"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_module.bin"), spec.module(), 0o644); err != nil {
		return err
	}
	changed := map[uint64]bool{}
	for _, c := range spec.Changed {
		changed[c] = true
	}
	if err := writeMemory(filepath.Join(dir, "wasm_memory.bin"), spec.HeapPages, spec.HeapData, spec.Seed, changed); err != nil {
		return err
	}
	if spec.StablePages > 0 {
		if err := writeMemory(filepath.Join(dir, "stable_memory.bin"), spec.StablePages, spec.StableData, spec.Seed^0x5157, changed); err != nil {
			return err
		}
	}
	var hashes [][32]byte
	for i := range spec.Chunks {
		c := bytes.Repeat([]byte(fmt.Sprintf("chunk %d of seed %d;", i, spec.Seed)), 1000)
		h := sha256.Sum256(c)
		hashes = append(hashes, h)
		if err := os.WriteFile(filepath.Join(dir, "wasm_chunk_store", hex.EncodeToString(h[:])+".bin"), c, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "metadata.json"), Metadata(spec, hashes), 0o644)
}

// writeMemory writes a sparse file of pages pages, data only in data.
func writeMemory(path string, pages uint64, data []uint64, seed uint64, changed map[uint64]bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(int64(pages * PageSize)); err != nil {
		return err
	}
	buf := make([]byte, PageSize)
	for _, idx := range data {
		s := seed
		if changed[idx] {
			s ^= 0xc4a9
		}
		FillPage(buf, s, idx)
		if _, err := f.WriteAt(buf, int64(idx*PageSize)); err != nil {
			return err
		}
	}
	return f.Close()
}

// FillPage fills buf with the pseudo-random content of page idx under seed.
func FillPage(buf []byte, seed, idx uint64) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	binary.LittleEndian.PutUint64(key[8:], idx)
	rand.NewChaCha8(key).Read(buf)
}

// Metadata returns metadata.json for spec, byte for byte as dfx writes it
// (serde_json pretty printing), with the given chunk hashes.
func Metadata(spec Spec, chunks [][32]byte) []byte {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	byteList := func(indent string, v []byte) {
		if len(v) == 0 {
			w("[]")
			return
		}
		w("[\n")
		for i, x := range v {
			sep := ","
			if i == len(v)-1 {
				sep = ""
			}
			w("%s  %d%s\n", indent, x, sep)
		}
		w("%s]", indent)
	}
	globals := "globals"
	if spec.OldGlobals {
		globals = "exported_globals"
	}
	w("{\n  \"source\": {\n    \"taken_from_canister\": null\n  },\n")
	w("  \"taken_at_timestamp\": %d,\n", 1764000000000000000+spec.Seed)
	w("  \"wasm_module_size\": %d,\n", len(spec.module()))
	w("  %q: [\n    {\n      \"i32\": -7\n    },\n    {\n      \"i64\": %d\n    },\n    {\n      \"f32\": 0.5\n    },\n    {\n      \"f64\": 1e-7\n    },\n    {\n      \"v128\": [\n        4294967295,\n        4294967295,\n        4294967295,\n        4294967295\n      ]\n    },\n    null,\n    {\n      \"i64\": 123456789\n    }\n  ],\n", globals, int64(spec.Seed)-9)
	w("  \"wasm_memory_size\": %d,\n", spec.HeapPages*PageSize)
	w("  \"stable_memory_size\": %d,\n", spec.StablePages*PageSize)
	if len(chunks) == 0 {
		w("  \"wasm_chunk_store\": [],\n")
	} else {
		w("  \"wasm_chunk_store\": [\n")
		for i, h := range chunks {
			w("    {\n      \"hash\": ")
			byteList("      ", h[:])
			if i < len(chunks)-1 {
				w("\n    },\n")
			} else {
				w("\n    }\n")
			}
		}
		w("  ],\n")
	}
	w("  \"canister_version\": %d,\n", spec.Version)
	w("  \"certified_data\": ")
	byteList("  ", []byte{0xde, 0xad, byte(spec.Seed)})
	w(",\n  \"global_timer\": {\n    \"active\": 1764000000000000000\n  },\n")
	w("  \"on_low_wasm_memory_hook_status\": \"condition_not_satisfied\"")
	if spec.UnknownKey {
		w(",\n  \"future_field\": {\n    \"nested\": [\n      1,\n      \"two\"\n    ],\n    \"empty\": []\n  }")
	}
	w("\n}")
	return []byte(b.String())
}

// Module returns a small valid wasm module: one exported query
// `canister_query greet`, and a `icp:public candid:service` section.
func Module() []byte { return module(false) }

// Module64 is Module with one memory64 of one page: a wasm64 module.
func Module64() []byte { return module(true) }

func module(memory64 bool) []byte {
	section := func(id byte, payload []byte) []byte {
		return append(append([]byte{id}, byte(len(payload))), payload...)
	}
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(1, []byte{1, 0x60, 0, 0})...) // type: () -> ()
	m = append(m, section(3, []byte{1, 0})...)          // one function of type 0
	if memory64 {
		m = append(m, section(5, []byte{1, 0x04, 1})...) // one memory: limits flag 0x04 (memory64), min 1 page
	}
	m = append(m, section(7, append(append([]byte{1}, name("canister_query greet")...), 0, 0))...) // export func 0
	m = append(m, section(10, []byte{1, 2, 0, 0x0b})...)                                           // body: end
	candid := "service : { greet : () -> (text) query }"
	m = append(m, section(0, append(name("icp:public candid:service"), candid...))...)
	return m
}
