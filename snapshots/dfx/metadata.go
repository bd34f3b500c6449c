// Package dfx reads and writes the snapshot directories of
// `dfx canister snapshot download` / `upload`: metadata.json,
// wasm_module.bin, wasm_memory.bin, stable_memory.bin and
// wasm_chunk_store/<hex>.bin. An import followed by an export reproduces
// the files byte for byte.
package dfx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/canscope/canscope/snapshots"
)

// metadata.json keys, in the order serde writes ReadCanisterSnapshotMetadataResult.
const (
	keySource      = "source"
	keyTakenAt     = "taken_at_timestamp"
	keyModuleSize  = "wasm_module_size"
	keyGlobals     = "globals"
	keyOldGlobals  = "exported_globals" // older dfx
	keyHeapSize    = "wasm_memory_size"
	keyStableSize  = "stable_memory_size"
	keyChunkStore  = "wasm_chunk_store"
	keyVersion     = "canister_version"
	keyCertified   = "certified_data"
	keyTimer       = "global_timer"
	keyLowWasmHook = "on_low_wasm_memory_hook_status"
)

// canonicalKeys returns the key order of metadata.json canscope writes
// for a snapshot it made itself.
func canonicalKeys() []string {
	return []string{keySource, keyTakenAt, keyModuleSize, keyGlobals, keyHeapSize,
		keyStableSize, keyChunkStore, keyVersion, keyCertified, keyTimer, keyLowWasmHook}
}

// maxMetadataBytes bounds metadata.json: a real one is a few KiB (a full
// chunk store adds about 400 bytes a chunk). The manifest keeps the file
// base64-encoded in its header, which readers bound to 16 MiB: a 12 MiB
// file imported whole would be a snapshot no listing can read, so the
// bound sits well below that.
const maxMetadataBytes = 4 << 20

// Metadata is a parsed metadata.json. Known fields are decoded; the key
// order and unknown keys (with their raw JSON) are kept so Encode writes
// the same document shape back.
type Metadata struct {
	Source          json.RawMessage // e.g. {"taken_from_canister": null}, kept raw
	TakenAt         uint64
	ModuleSize      uint64
	Globals         []snapshots.Global
	HeapSize        uint64
	StableSize      uint64
	Chunks          []snapshots.Hash
	CanisterVersion uint64
	CertifiedData   []byte
	Timer           snapshots.TimerState
	LowWasmHook     string // "" for null

	keys    []string                   // document order; "globals" or "exported_globals" as found
	unknown map[string]json.RawMessage // keys canscope does not interpret
}

// ParseMetadata decodes metadata.json. It accepts unknown keys and both
// globals spellings, and refuses anything it cannot represent faithfully
// (an unknown globals kind, a number out of range, a malformed hash).
func ParseMetadata(b []byte) (*Metadata, error) {
	if len(b) > maxMetadataBytes {
		return nil, fmt.Errorf("metadata.json is %d bytes, more than %d: not a dfx snapshot", len(b), maxMetadataBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("metadata.json: invalid JSON: want an object")
	}
	md := &Metadata{unknown: map[string]json.RawMessage{}}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("metadata.json: invalid JSON: %w", err)
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("metadata.json: invalid JSON at %q: %w", key, err)
		}
		if seen[key] || key == keyGlobals && seen[keyOldGlobals] || key == keyOldGlobals && seen[keyGlobals] {
			return nil, fmt.Errorf("metadata.json: key %q appears twice", key)
		}
		seen[key] = true
		md.keys = append(md.keys, key)
		if err := md.set(key, raw); err != nil {
			return nil, fmt.Errorf("metadata.json: %s: %w", key, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("metadata.json: invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("metadata.json: invalid JSON: data after the object")
	}
	for _, k := range []string{keyModuleSize, keyHeapSize, keyStableSize} {
		if !seen[k] {
			return nil, fmt.Errorf("metadata.json: missing %q: not a dfx snapshot metadata file", k)
		}
	}
	if !seen[keyGlobals] && !seen[keyOldGlobals] {
		return nil, fmt.Errorf("metadata.json: missing %q (or %q)", keyGlobals, keyOldGlobals)
	}
	return md, nil
}

func (md *Metadata) set(key string, raw json.RawMessage) error {
	var err error
	switch key {
	case keySource:
		md.Source = compact(raw)
	case keyTakenAt:
		md.TakenAt, err = parseUint(raw)
	case keyModuleSize:
		md.ModuleSize, err = parseUint(raw)
	case keyHeapSize:
		md.HeapSize, err = parseUint(raw)
	case keyStableSize:
		md.StableSize, err = parseUint(raw)
	case keyVersion:
		md.CanisterVersion, err = parseUint(raw)
	case keyGlobals, keyOldGlobals:
		md.Globals, err = parseGlobals(raw)
	case keyChunkStore:
		md.Chunks, err = parseChunks(raw)
	case keyCertified:
		md.CertifiedData, err = parseBytes(raw, 32)
	case keyTimer:
		md.Timer, err = parseTimer(raw)
	case keyLowWasmHook:
		md.LowWasmHook, err = parseNullString(raw)
	default:
		md.unknown[key] = compact(raw)
	}
	return err
}

func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw // already validated by the decoder; cannot happen
	}
	return b.Bytes()
}

func parseUint(raw json.RawMessage) (uint64, error) {
	v, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want an unsigned 64-bit integer, got %.40s", raw)
	}
	return v, nil
}

// parseGlobals decodes [{"i32": n} | {"i64": n} | {"f32": x} | {"f64": x}
// | {"v128": n} | null, ...].
func parseGlobals(raw json.RawMessage) ([]snapshots.Global, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New("want a list")
	}
	out := make([]snapshots.Global, 0, len(items))
	for i, it := range items {
		g, err := parseGlobal(it)
		if err != nil {
			return nil, fmt.Errorf("global %d: %w", i, err)
		}
		out = append(out, g)
	}
	return out, nil
}

func parseGlobal(raw json.RawMessage) (snapshots.Global, error) {
	if string(raw) == "null" {
		return snapshots.Global{Kind: snapshots.KindNull}, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || len(obj) != 1 {
		return snapshots.Global{}, fmt.Errorf("want {\"<kind>\": value} or null, got %.60s", raw)
	}
	var k string
	var v json.RawMessage
	for k, v = range obj { // exactly one entry
	}
	s := string(v)
	switch snapshots.GlobalKind(k) {
	case snapshots.KindI32:
		n, err := strconv.ParseInt(s, 10, 32)
		return snapshots.Global{Kind: snapshots.KindI32, Bits: uint64(n)}, numErr(err, k, s)
	case snapshots.KindI64:
		n, err := strconv.ParseInt(s, 10, 64)
		return snapshots.Global{Kind: snapshots.KindI64, Bits: uint64(n)}, numErr(err, k, s)
	case snapshots.KindF32:
		if s == "null" {
			// serde_json writes NaN and ±Inf as null: which one it was is
			// lost, so it reads as NaN (which is written back as null).
			return snapshots.Global{Kind: snapshots.KindF32, Bits: uint64(math.Float32bits(float32(math.NaN())))}, nil
		}
		f, err := strconv.ParseFloat(s, 32)
		return snapshots.Global{Kind: snapshots.KindF32, Bits: uint64(math.Float32bits(float32(f)))}, numErr(err, k, s)
	case snapshots.KindF64:
		if s == "null" {
			return snapshots.Global{Kind: snapshots.KindF64, Bits: math.Float64bits(math.NaN())}, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		return snapshots.Global{Kind: snapshots.KindF64, Bits: math.Float64bits(f)}, numErr(err, k, s)
	case snapshots.KindV128:
		n, err := parseV128(v)
		if err != nil {
			return snapshots.Global{}, err
		}
		lo := new(big.Int).And(n, new(big.Int).SetUint64(math.MaxUint64)).Uint64()
		hi := new(big.Int).Rsh(n, 64).Uint64()
		return snapshots.Global{Kind: snapshots.KindV128, Bits: lo, Hi: hi}, nil
	default:
		return snapshots.Global{}, fmt.Errorf("unknown globals kind %q (want i32, i64, f32, f64, v128 or null)", k)
	}
}

// parseV128 reads a v128 value as dfx writes it, a candid Nat through
// num-bigint's serde: a list of u32 digits, least significant first (zero
// is []). A JSON number or a decimal string is accepted too, as older
// tools and hand edits spell it.
func parseV128(v json.RawMessage) (*big.Int, error) {
	n := new(big.Int)
	switch {
	case bytes.HasPrefix(v, []byte("[")):
		var digits []uint32
		if err := json.Unmarshal(v, &digits); err != nil {
			return nil, fmt.Errorf("v128 value %.60s: want a list of u32 digits, least significant first", v)
		}
		for i := len(digits) - 1; i >= 0; i-- {
			n.Lsh(n, 32).Or(n, new(big.Int).SetUint64(uint64(digits[i])))
		}
	case bytes.HasPrefix(v, []byte(`"`)):
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("v128 value %.60s is not a decimal string", v)
		}
		if _, ok := n.SetString(s, 10); !ok {
			return nil, fmt.Errorf("v128 value %.60s is not a decimal string", v)
		}
	default:
		if _, ok := n.SetString(string(v), 10); !ok {
			return nil, fmt.Errorf("v128 value %.60s is not an unsigned 128-bit integer", v)
		}
	}
	if n.Sign() < 0 || n.BitLen() > 128 {
		return nil, fmt.Errorf("v128 value %.60s is not an unsigned 128-bit integer", v)
	}
	return n, nil
}

func numErr(err error, kind, s string) error {
	if err != nil {
		return fmt.Errorf("%s value %.60s out of range or not a number", kind, s)
	}
	return nil
}

func parseChunks(raw json.RawMessage) ([]snapshots.Hash, error) {
	var items []struct {
		Hash json.RawMessage `json:"hash"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New(`want a list of {"hash": [32 bytes]}`)
	}
	out := make([]snapshots.Hash, len(items))
	for i, it := range items {
		b, err := parseBytes(it.Hash, 32)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("chunk %d: hash must be 32 byte values", i)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

// parseBytes decodes a JSON list of byte values, at most max long.
func parseBytes(raw json.RawMessage, max int) ([]byte, error) {
	var vals []uint8
	if !bytes.HasPrefix(raw, []byte("[")) { // a string would decode as base64
		return nil, errors.New("want a list of byte values 0-255")
	}
	if err := json.Unmarshal(raw, &vals); err != nil {
		return nil, errors.New("want a list of byte values 0-255")
	}
	if len(vals) > max {
		return nil, fmt.Errorf("%d bytes, at most %d allowed", len(vals), max)
	}
	return vals, nil
}

func parseTimer(raw json.RawMessage) (snapshots.TimerState, error) {
	switch string(raw) {
	case "null":
		return snapshots.TimerState{Unknown: true}, nil
	case `"inactive"`:
		return snapshots.TimerState{}, nil
	}
	var v struct {
		Active *json.Number `json:"active"`
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	d.DisallowUnknownFields()
	if err := d.Decode(&v); err != nil || v.Active == nil {
		return snapshots.TimerState{}, fmt.Errorf(`want "inactive", {"active": ns} or null, got %.60s`, raw)
	}
	ns, err := strconv.ParseUint(v.Active.String(), 10, 64)
	if err != nil {
		return snapshots.TimerState{}, fmt.Errorf("timer deadline %s is not an unsigned 64-bit integer", v.Active)
	}
	return snapshots.TimerState{Active: true, Deadline: ns}, nil
}

func parseNullString(raw json.RawMessage) (string, error) {
	if string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || s == "" {
		return "", errors.New("want a string or null")
	}
	return s, nil
}

// Encode writes md as dfx does (serde_json::to_string_pretty: 2-space
// indent, one array element per line, no trailing newline), keys in the
// order they were read, or in dfx's order for new metadata.
func (md *Metadata) Encode() ([]byte, error) {
	keys := md.keys
	if len(keys) == 0 {
		keys = canonicalKeys()
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(k))
		b.WriteByte(':')
		md.writeValue(&b, k)
	}
	b.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("encode metadata.json: %w", err)
	}
	return out.Bytes(), nil
}

func (md *Metadata) writeValue(b *bytes.Buffer, key string) {
	u := func(v uint64) { b.WriteString(strconv.FormatUint(v, 10)) }
	list := func(n int, item func(int)) {
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			item(i)
		}
		b.WriteByte(']')
	}
	bytesList := func(v []byte) { list(len(v), func(i int) { u(uint64(v[i])) }) }
	switch key {
	case keySource:
		if len(md.Source) == 0 {
			b.WriteString(`{"metadata_upload":null}`)
		} else {
			b.Write(md.Source)
		}
	case keyTakenAt:
		u(md.TakenAt)
	case keyModuleSize:
		u(md.ModuleSize)
	case keyHeapSize:
		u(md.HeapSize)
	case keyStableSize:
		u(md.StableSize)
	case keyVersion:
		u(md.CanisterVersion)
	case keyGlobals, keyOldGlobals:
		list(len(md.Globals), func(i int) { writeGlobal(b, md.Globals[i]) })
	case keyChunkStore:
		list(len(md.Chunks), func(i int) {
			b.WriteString(`{"hash":`)
			bytesList(md.Chunks[i][:])
			b.WriteByte('}')
		})
	case keyCertified:
		bytesList(md.CertifiedData)
	case keyTimer:
		switch {
		case md.Timer.Unknown:
			b.WriteString("null")
		case md.Timer.Active:
			b.WriteString(`{"active":`)
			u(md.Timer.Deadline)
			b.WriteByte('}')
		default:
			b.WriteString(`"inactive"`)
		}
	case keyLowWasmHook:
		if md.LowWasmHook == "" {
			b.WriteString("null")
		} else {
			b.WriteString(strconv.Quote(md.LowWasmHook))
		}
	default:
		b.Write(md.unknown[key])
	}
}

func writeGlobal(b *bytes.Buffer, g snapshots.Global) {
	var v string
	switch g.Kind {
	case snapshots.KindI32:
		v = strconv.FormatInt(int64(int32(g.Bits)), 10)
	case snapshots.KindI64:
		v = strconv.FormatInt(int64(g.Bits), 10)
	case snapshots.KindF32:
		v = formatFloat(float64(math.Float32frombits(uint32(g.Bits))), 32)
	case snapshots.KindF64:
		v = formatFloat(math.Float64frombits(g.Bits), 64)
	case snapshots.KindV128:
		// num-bigint's serde form of a candid Nat: u32 digits, least
		// significant first, no trailing zero digits (zero is []).
		digits := []uint32{uint32(g.Bits), uint32(g.Bits >> 32), uint32(g.Hi), uint32(g.Hi >> 32)}
		for len(digits) > 0 && digits[len(digits)-1] == 0 {
			digits = digits[:len(digits)-1]
		}
		var d strings.Builder
		d.WriteByte('[')
		for i, x := range digits {
			if i > 0 {
				d.WriteByte(',')
			}
			d.WriteString(strconv.FormatUint(uint64(x), 10))
		}
		d.WriteByte(']')
		v = d.String()
	default:
		b.WriteString("null")
		return
	}
	fmt.Fprintf(b, `{%q:%s}`, g.Kind, v)
}

// formatFloat formats like serde_json (the ryu crate): shortest digits
// that round-trip; plain notation with a ".0" for integers up to 16 digits
// (13 for f32), "0.000123" down to 1e-5, else "1.5e-7" / "1e30". NaN and
// infinities become null, as serde_json writes them.
func formatFloat(f float64, bits int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null"
	}
	sign := ""
	if math.Signbit(f) {
		sign, f = "-", -f
	}
	e := strconv.FormatFloat(f, 'e', -1, bits) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	n := len(digits)
	kk := x + 1 // position of the decimal point relative to the digits
	k := kk - n // value = digits × 10^k
	maxPlain := 16
	if bits == 32 {
		maxPlain = 13
	}
	var s string
	switch {
	case k >= 0 && kk <= maxPlain:
		s = digits + strings.Repeat("0", k) + ".0"
	case kk > 0 && kk <= maxPlain:
		s = digits[:kk] + "." + digits[kk:]
	case kk > -5 && kk <= 0:
		s = "0." + strings.Repeat("0", -kk) + digits
	case n == 1:
		s = digits + "e" + strconv.Itoa(kk-1)
	default:
		s = digits[:1] + "." + digits[1:] + "e" + strconv.Itoa(kk-1)
	}
	return sign + s
}
