package workbench

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
)

// The heap image a transplant keeps only makes sense to a module that
// lays memory out as the one that wrote it: its static data where the old
// data segments put it, the allocator starting at the same __heap_base,
// the stack below the same __stack_pointer, and function pointers stored
// in the heap indexing a table that holds the same functions. A recompile
// can move any of these. The checks here compare the two modules' wasm
// (no run needed), the rehearsal stays the final proof.

// Names of the layout checks in a Report.
const (
	CheckDataSegments = "data segments"
	CheckLayoutGlobal = "layout globals"
	CheckTable        = "table"
	CheckMemoryInit   = "memory initial size"
)

// FunctionChange is a function the fixed module changes, adds or removes,
// by name (the name section's, else "$<index>") and the SHA-256 of its
// body (with call targets read as names, so a shifted function index is
// not a change).
type FunctionChange struct {
	Name    string `json:"name"`
	Change  string `json:"change"` // "changed", "added" or "removed"
	OldHash string `json:"old_hash,omitempty"`
	NewHash string `json:"new_hash,omitempty"`
}

// layoutChecks compares old's and fixed's heap layout (raw or gzipped
// wasm) with the captured globals of m.
func layoutChecks(m *snapshots.Manifest, oldCode, newCode []byte) ([]Check, []FunctionChange) {
	old, err := parseModule(oldCode)
	if err != nil {
		return []Check{{Name: CheckDataSegments, Detail: "not compared: the snapshot's module does not parse: " + err.Error()}}, nil
	}
	fixed, err := parseModule(newCode)
	if err != nil {
		return []Check{{Name: CheckDataSegments, Detail: "not compared: the fixed module does not parse: " + err.Error()}}, nil
	}
	checks := []Check{
		dataCheck(old, fixed),
		layoutGlobalsCheck(m, old, fixed),
		tableCheck(old, fixed),
		memoryInitCheck(old, fixed),
	}
	if c, ok := stableTypesCheck(old, fixed); ok {
		checks = append(checks, c)
	}
	return checks, functionChanges(old, fixed)
}

func parseModule(code []byte) (*wasm.Module, error) {
	raw, err := wasm.Decompress(code)
	if err != nil {
		return nil, err
	}
	return wasm.Parse(raw)
}

// constExpr renders a constant offset or initialiser expression: its
// value for i32/i64.const, else its text ("global.get 3").
func constExpr(expr []byte) (uint64, string) {
	ins, err := wasm.DecodeExpr(expr)
	if err != nil || len(ins) == 0 {
		return 0, "?"
	}
	switch ins[0].Op {
	case wasm.OpI32Const:
		v := uint64(uint32(ins[0].Value))
		return v, fmt.Sprintf("%#x", v)
	case wasm.OpI64Const:
		v := uint64(ins[0].Value)
		return v, fmt.Sprintf("%#x", v)
	case wasm.OpGlobalGet:
		return 0, "global.get " + strconv.Itoa(int(ins[0].Index))
	}
	return 0, "expr " + hex.EncodeToString(expr)
}

// segment describes a data segment: where it goes and what it holds.
type segment struct {
	where string // the offset, or "passive"
	size  int
	hash  [32]byte
}

func segments(m *wasm.Module) []segment {
	out := make([]segment, 0, len(m.Data))
	for _, d := range m.Data {
		s := segment{where: "passive", size: len(d.Init), hash: sha256.Sum256(d.Init)}
		if d.Mode == wasm.ModeActive {
			_, s.where = constExpr(d.Offset)
		}
		out = append(out, s)
	}
	return out
}

func dataCheck(old, fixed *wasm.Module) Check {
	c := Check{Name: CheckDataSegments}
	a, b := segments(old), segments(fixed)
	var diffs []string
	for i := range max(len(a), len(b)) {
		switch {
		case i >= len(a):
			diffs = append(diffs, fmt.Sprintf("segment %d at %s (%d bytes) is new", i, b[i].where, b[i].size))
		case i >= len(b):
			diffs = append(diffs, fmt.Sprintf("segment %d at %s (%d bytes) is gone", i, a[i].where, a[i].size))
		case a[i].where != b[i].where || a[i].size != b[i].size:
			diffs = append(diffs, fmt.Sprintf("segment %d: %s (%d bytes) → %s (%d bytes)", i, a[i].where, a[i].size, b[i].where, b[i].size))
		case a[i].hash != b[i].hash:
			diffs = append(diffs, fmt.Sprintf("segment %d at %s: same size, other bytes", i, a[i].where))
		}
	}
	if len(diffs) == 0 {
		c.OK = true
		c.Detail = fmt.Sprintf("%d segments at the same addresses with the same bytes", len(a))
		return c
	}
	c.Differs = true
	c.Detail = summarise(diffs) + ": the captured heap holds the old static data"
	return c
}

// summarise joins the first few differences and counts the rest.
func summarise(diffs []string) string {
	const shown = 3
	if len(diffs) <= shown {
		return strings.Join(diffs, "; ")
	}
	return strings.Join(diffs[:shown], "; ") + fmt.Sprintf("; and %d more", len(diffs)-shown)
}

// layoutGlobals finds __heap_base, __data_end and __stack_pointer (by
// export, else by the name section) and their initial values.
func layoutGlobals(m *wasm.Module) map[string]uint32 {
	out := map[string]uint32{}
	want := []string{"__heap_base", "__data_end", "__stack_pointer"}
	for _, e := range m.Exports {
		if e.Kind == wasm.KindGlobal && slices.Contains(want, e.Name) {
			out[e.Name] = e.Index
		}
	}
	for idx, name := range m.GlobalNames() {
		if _, ok := out[name]; !ok && slices.Contains(want, name) {
			out[name] = idx
		}
	}
	return out
}

// globalInit returns the initial value of global idx, if it is a constant.
func globalInit(m *wasm.Module, idx uint32) (uint64, string) {
	base := uint32(m.NumImportedGlobals())
	if idx < base || int(idx-base) >= len(m.Globals) {
		return 0, "imported"
	}
	return constExpr(m.Globals[idx-base].Init)
}

// captured returns the value the snapshot holds for old's global idx.
func captured(m *snapshots.Manifest, old *wasm.Module, idx uint32) (snapshots.Global, bool) {
	order := wasm.SnapshotGlobals(old)
	have := snapshots.ReplicaGlobals(m.Globals, len(order))
	for i, g := range order {
		if g.Index == idx && i < len(have) {
			return have[i], true
		}
	}
	return snapshots.Global{}, false
}

func layoutGlobalsCheck(m *snapshots.Manifest, old, fixed *wasm.Module) Check {
	c := Check{Name: CheckLayoutGlobal}
	og, fg := layoutGlobals(old), layoutGlobals(fixed)
	var same, diffs []string
	for _, name := range []string{"__heap_base", "__data_end", "__stack_pointer"} {
		oi, inOld := og[name]
		fi, inFixed := fg[name]
		switch {
		case !inOld && !inFixed:
			continue
		case !inOld:
			diffs = append(diffs, name+" is new")
			continue
		case !inFixed:
			diffs = append(diffs, name+" is gone")
			continue
		}
		_, ov := globalInit(old, oi)
		fv, fs := globalInit(fixed, fi)
		text := name + " " + ov
		if ov != fs {
			diffs = append(diffs, fmt.Sprintf("%s %s → %s", name, ov, fs))
			continue
		}
		if g, ok := captured(m, old, oi); ok && name == "__stack_pointer" {
			// Between messages the stack is empty: the captured stack
			// pointer is where the fixed module's stack starts.
			if now := uint64(uint32(g.Bits)); now != fv {
				diffs = append(diffs, fmt.Sprintf("%s starts at %s, the captured state has %#x", name, fs, now))
				continue
			}
			text += " (captured the same)"
		}
		same = append(same, text)
	}
	switch {
	case len(diffs) > 0:
		c.Differs = true
		c.Detail = summarise(diffs) + ": the allocator and the stack would not find the captured heap where they expect it"
	case len(same) == 0:
		c.OK = true
		c.Detail = "neither module declares __heap_base, __data_end or __stack_pointer"
	default:
		c.OK = true
		c.Detail = strings.Join(same, ", ")
	}
	return c
}

// funcName names function idx of m: the name section's name, the import,
// or "$<index>".
func funcName(m *wasm.Module, idx uint32) string {
	if n := m.FuncName(idx); n != "" {
		return n
	}
	k := uint32(0)
	for _, im := range m.Imports {
		if im.Kind != wasm.KindFunc {
			continue
		}
		if k == idx {
			return im.Module + "." + im.Name
		}
		k++
	}
	return "$" + strconv.Itoa(int(idx))
}

// slots maps each table slot the active element segments fill to the
// name of the function in it.
func slots(m *wasm.Module) (map[string]string, int) {
	out := map[string]string{}
	for _, e := range m.Elements {
		if e.Flags&1 != 0 { // passive or declarative: fills no slot
			continue
		}
		off, where := constExpr(e.Offset)
		for j, f := range e.Funcs {
			key := fmt.Sprintf("table %d slot %d", e.Table, off+uint64(j))
			if !strings.HasPrefix(where, "0x") {
				key = fmt.Sprintf("table %d %s+%d", e.Table, where, j)
			}
			out[key] = funcName(m, f)
		}
		for j, ex := range e.Exprs {
			key := fmt.Sprintf("table %d slot %d", e.Table, off+uint64(j))
			ins, err := wasm.DecodeExpr(ex)
			if err == nil && len(ins) > 0 && ins[0].Op == wasm.OpRefFunc {
				out[key] = funcName(m, ins[0].Index)
			} else {
				out[key] = "expr " + hex.EncodeToString(ex)
			}
		}
	}
	return out, len(m.Tables)
}

func tableCheck(old, fixed *wasm.Module) Check {
	c := Check{Name: CheckTable}
	a, na := slots(old)
	b, nb := slots(fixed)
	var diffs []string
	if na != nb {
		diffs = append(diffs, fmt.Sprintf("%d tables → %d", na, nb))
	}
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if a[k] != b[k] {
			diffs = append(diffs, fmt.Sprintf("%s: %s → %s", k, orNone(a[k]), orNone(b[k])))
		}
	}
	if len(diffs) == 0 {
		c.OK = true
		c.Detail = fmt.Sprintf("%d table slots hold the same functions", len(a))
		return c
	}
	c.Differs = true
	c.Detail = summarise(diffs) + ": function pointers in the heap would call other functions"
	return c
}

func orNone(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}

// memoryInitCheck compares the memories' initial sizes. A different one
// does not fail: the captured heap keeps its size, and the memory limits
// check says whether the fixed module accepts it.
func memoryInitCheck(old, fixed *wasm.Module) Check {
	c := Check{Name: CheckMemoryInit, OK: true}
	a, aok := old.Memory()
	b, bok := fixed.Memory()
	switch {
	case !aok && !bok:
		c.Detail = "neither module declares a memory"
	case aok != bok:
		c.Differs = true
		c.Detail = "only one of the modules declares a memory"
	case a.Min != b.Min:
		c.Differs = true
		c.Detail = fmt.Sprintf("%d → %d pages (not a failure: the captured heap keeps its size)", a.Min, b.Min)
	default:
		c.Detail = fmt.Sprintf("%d pages in both", a.Min)
	}
	return c
}

// bodyHashes hashes every defined function's body by name, reading call
// targets as names so that a function index shifted by an added import
// or function does not count as a change.
func bodyHashes(m *wasm.Module) map[string]string {
	out := make(map[string]string, len(m.Code))
	base := uint32(m.NumImportedFuncs())
	for i, code := range m.Code {
		name := funcName(m, base+uint32(i))
		if _, dup := out[name]; dup {
			name += "#" + strconv.Itoa(i)
		}
		out[name] = hex.EncodeToString(bodyHash(m, code.Body))
	}
	return out
}

func bodyHash(m *wasm.Module, body []byte) []byte {
	h := sha256.New()
	b, err := wasm.DecodeBody(body)
	if err != nil {
		h.Write(body)
		return h.Sum(nil)
	}
	fmt.Fprint(h, b.Locals)
	var buf bytes.Buffer
	for _, in := range b.Instrs {
		switch in.Op {
		case wasm.OpCall, wasm.OpReturnCall, wasm.OpRefFunc:
			fmt.Fprintf(&buf, "%d:%s;", in.Op, funcName(m, in.Index))
		default:
			buf.Write(in.Append(nil))
		}
	}
	h.Write(buf.Bytes())
	return h.Sum(nil)
}

func functionChanges(old, fixed *wasm.Module) []FunctionChange {
	a, b := bodyHashes(old), bodyHashes(fixed)
	var out []FunctionChange
	for name, ha := range a {
		hb, ok := b[name]
		switch {
		case !ok:
			out = append(out, FunctionChange{Name: name, Change: "removed", OldHash: ha[:16]})
		case ha != hb:
			out = append(out, FunctionChange{Name: name, Change: "changed", OldHash: ha[:16], NewHash: hb[:16]})
		}
	}
	for name, hb := range b {
		if _, ok := a[name]; !ok {
			out = append(out, FunctionChange{Name: name, Change: "added", NewHash: hb[:16]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
