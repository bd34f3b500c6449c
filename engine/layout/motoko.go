package layout

import (
	"fmt"
	"strings"

	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/motoko"
)

// Motoko classical persistence (moc's Stabilization module,
// src/codegen/compile_classical.ml, and the RTS's stable_mem.rs): in
// pre_upgrade the stable variables are serialised as a Candid message of
// one record (each variable an opt field; mutable and shared values use
// moc's alias extension, see candid.DecodeMotokoStable) and written to
// stable memory in one of two layouts:
//
//	version 0 (no ExperimentalStableMemory/Region use):
//	    [0, 4)         u32 length L (non-zero, the version-0 marker)
//	    [4, 4+L)       the message
//	version 1 or 2 (stable memory API / regions in use, S user pages):
//	    [0, 4)         0 (the user's first word is saved below)
//	    [N, N+4)       u32 length L, N = S·64 KiB
//	    [N+4, N+4+L)   the message
//	    last page end: u32 S at -12, the saved first word at -8,
//	                   u32 version at -4
//
// Versions 3 and up are graph-copy stabilisation and enhanced orthogonal
// persistence, which this package recognises but does not decode.
const (
	motokoMaxVersion = 6
	// maxMotokoData bounds how much serialised data is read for decoding;
	// larger areas are reported by size only.
	maxMotokoData = 64 << 20
	// maxValuePreview bounds the Candid text shown per variable.
	maxValuePreview = 120
)

// Motoko describes a Motoko canister's stable variables.
type Motoko struct {
	// StableTypes is the motoko:stable-types section text, verbatim.
	StableTypes string `json:"stable_types,omitempty"`
	// Version is the stable memory format version: 0, 1 or 2 for
	// classical persistence, 3..6 for graph copy and enhanced orthogonal
	// persistence, -1 when no stable variable area is present.
	Version int `json:"version"`
	// UserPages is the stable memory the canister uses itself
	// (ExperimentalStableMemory or regions) ahead of the variables.
	UserPages uint64 `json:"user_pages"`
	// DataOffset and DataBytes locate the serialised variables.
	DataOffset uint64 `json:"data_offset"`
	DataBytes  uint64 `json:"data_bytes"`
	// Variables are the stable variables: names and types from the
	// stable-types text, sizes and values from the data when decoded.
	Variables []Variable `json:"variables"`
	// Decoded says whether the data was decoded as Candid; when not,
	// Note says why.
	Decoded bool   `json:"decoded"`
	Note    string `json:"note,omitempty"`
	// Persistence is "enhanced" for a module with the
	// enhanced-orthogonal-persistence metadata (the variables live in the
	// heap), "classical" otherwise.
	Persistence string `json:"persistence,omitempty"`
	// SignatureVersion is the stable-types format version ("1.0.0", or
	// "3.0.0" with a migration function's pre-signature).
	SignatureVersion string `json:"signature_version,omitempty"`
	// TypeDefinitions are the signature's type definitions, e.g.
	// List<T> = ?(T, List<T>).
	TypeDefinitions []TypeDefinition `json:"type_definitions,omitempty"`
	// MigrationInputs are the variables an upgrade to this module reads
	// through its migration function (version 3.0.0 signatures).
	MigrationInputs []Variable `json:"migration_inputs,omitempty"`
	// StableTypesError says why the stable-types text did not parse
	// (Variables is then empty).
	StableTypesError string `json:"stable_types_error,omitempty"`
}

// TypeDefinition is one `type Name<T> = Definition` of a stable
// signature.
type TypeDefinition struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
}

// enhanced marks mo as enhanced orthogonal persistence: the variables live
// in the (wasm64) heap, which the IC keeps across an upgrade with
// wasm_memory_persistence keep; stable memory holds them only during a
// graph-copy stabilisation.
func (mo *Motoko) enhanced() {
	mo.Persistence = "enhanced"
	if mo.Version < 0 {
		mo.Note = "enhanced orthogonal persistence: the stable variables live in the heap, which the IC keeps across an upgrade with wasm_memory_persistence keep (moc's runtime then checks the new module's stable types against these); their values in the heap are not decoded"
	}
}

// Variable is one Motoko stable variable.
type Variable struct {
	Name string `json:"name"`
	// Type is the Motoko type from the stable-types text ("" if unknown).
	Type string `json:"type,omitempty"`
	// Mutable: declared `stable var`.
	Mutable bool `json:"mutable,omitempty"`
	// Required: a migration function's input (`in`, only in
	// MigrationInputs).
	Required bool `json:"required,omitempty"`
	// Bytes is the variable's share of the serialised data, -1 when not
	// decoded.
	Bytes int64 `json:"bytes"`
	// Value is the value in Candid text, cut to a preview length.
	Value string `json:"value,omitempty"`
}

// readMotoko finds the stable variable area. It returns nil when
// stableTypes is empty and memory does not look like Motoko's.
func readMotoko(mr *memReader, stableTypes string, deep bool) (*Motoko, error) {
	vars, sig, perr := parseStableTypes(stableTypes)
	mo := &Motoko{StableTypes: stableTypes, Version: -1, Variables: vars}
	mo.describeSignature(sig, perr)
	found, err := mo.locate(mr)
	if err != nil {
		return nil, err
	}
	if !found {
		if stableTypes == "" {
			return nil, nil
		}
		mo.Note = "no serialised stable variables in stable memory: Motoko writes them only in pre_upgrade, and they are cleared once an upgrade has read them"
		return mo, nil
	}
	if mo.Version > 2 {
		mo.Note = fmt.Sprintf("format version %d (graph-copy stabilisation or enhanced orthogonal persistence) is not decoded", mo.Version)
		return mo, nil
	}
	if !deep {
		return mo, nil
	}
	if mo.DataBytes > maxMotokoData {
		mo.Note = fmt.Sprintf("%d bytes of serialised variables: larger than the %d bytes decoded", mo.DataBytes, maxMotokoData)
		return mo, nil
	}
	data := make([]byte, mo.DataBytes)
	if err := mr.read(data, mo.DataOffset); err != nil {
		return nil, err
	}
	mo.decode(data)
	return mo, nil
}

// locate recognises the version 0 and version 1/2 layouts.
func (mo *Motoko) locate(mr *memReader) (bool, error) {
	if mr.size < 8 {
		return false, nil
	}
	first, err := mr.u32(0)
	if err != nil {
		return false, err
	}
	if first != 0 {
		if uint64(first) > mr.size-4 || !mo.startsWithDIDL(mr, 4) {
			return false, nil
		}
		mo.Version, mo.DataOffset, mo.DataBytes = 0, 4, uint64(first)
		return true, nil
	}
	if mr.size < wasmPageSize || mr.size%wasmPageSize != 0 {
		return false, nil
	}
	version, err := mr.u32(mr.size - 4)
	if err != nil {
		return false, err
	}
	if version < 1 || version > motokoMaxVersion {
		return false, nil
	}
	if version > 2 {
		mo.Version = int(version)
		return true, nil
	}
	pages, err := mr.u32(mr.size - 12)
	if err != nil {
		return false, err
	}
	n := uint64(pages) * wasmPageSize
	if n+4 > mr.size-12 {
		return false, nil
	}
	length, err := mr.u32(n)
	if err != nil {
		return false, err
	}
	if n+4+uint64(length) > mr.size-12 || !mo.startsWithDIDL(mr, n+4) {
		return false, nil
	}
	mo.Version, mo.UserPages, mo.DataOffset, mo.DataBytes = int(version), uint64(pages), n+4, uint64(length)
	return true, nil
}

func (mo *Motoko) startsWithDIDL(mr *memReader, off uint64) bool {
	var b [4]byte
	return off+4 <= mr.size && mr.read(b[:], off) == nil && string(b[:]) == "DIDL"
}

// decode reads the serialised record and fills in sizes and values by
// matching field hashes with the stable-types names.
func (mo *Motoko) decode(data []byte) {
	vals, _, err := candid.DecodeMotokoStable(data)
	if err != nil {
		mo.Note = "serialised variables not decoded: " + err.Error()
		return
	}
	if len(vals) != 1 || vals[0].Type.Kind != candid.Record {
		mo.Note = "serialised data is not one record of variables"
		return
	}
	byHash := map[uint32]int{}
	for i, v := range mo.Variables {
		byHash[candid.Hash(v.Name)] = i
	}
	labels := labelsIn(mo.StableTypes)
	for _, f := range vals[0].Fields {
		nameFields(&f.Value, labels)
		b, err := candid.EncodeValue(f.Value)
		if err != nil {
			mo.Note = "re-encoding a variable failed: " + err.Error()
			return
		}
		i, ok := byHash[f.ID]
		if !ok {
			// A variable the stable-types text does not name: the data
			// was written by another version of the module.
			i = len(mo.Variables)
			mo.Variables = append(mo.Variables, Variable{Name: fmt.Sprintf("#%d", f.ID)})
			byHash[f.ID] = i
		}
		mo.Variables[i].Bytes = int64(len(b))
		mo.Variables[i].Value = preview(unwrapOpt(f.Value).String(), maxValuePreview)
	}
	mo.Decoded = true
}

// labelsIn collects the record field and variant tag names a
// stable-types text mentions, so nested fields (known on the wire only by
// hash) can be shown by name.
func labelsIn(stableTypes string) map[uint32]string {
	labels := map[uint32]string{}
	sig, err := motoko.Parse(stableTypes)
	if err != nil {
		return labels
	}
	var walk func(t *motoko.Type)
	walk = func(t *motoko.Type) {
		if t == nil {
			return
		}
		for _, f := range t.Fields {
			labels[candid.Hash(f.Name)] = f.Name
			walk(f.Type)
		}
		walk(t.Elem)
		walk(t.Bound)
		for _, ts := range [][]*motoko.Type{t.Args, t.Elems} {
			for _, e := range ts {
				walk(e)
			}
		}
		if t.Func != nil {
			for _, ts := range [][]*motoko.Type{t.Func.Args, t.Func.Results} {
				for _, e := range ts {
					walk(e)
				}
			}
		}
	}
	for _, d := range sig.Defs {
		walk(d.Body)
	}
	for _, vs := range [][]motoko.Variable{sig.Pre, sig.Post} {
		for _, v := range vs {
			labels[candid.Hash(v.Name)] = v.Name
			walk(v.Type)
		}
	}
	return labels
}

// nameFields gives unnamed record fields and variant alternatives the
// label with their hash.
func nameFields(v *candid.Value, labels map[uint32]string) {
	for i := range v.Fields {
		f := &v.Fields[i]
		if f.Name == "" {
			f.Name = labels[f.ID]
		}
		nameFields(&f.Value, labels)
	}
	for i := range v.Elems {
		nameFields(&v.Elems[i], labels)
	}
}

// unwrapOpt drops the opt Motoko wraps every stable variable in.
func unwrapOpt(v candid.Value) candid.Value {
	if v.Type != nil && v.Type.Kind == candid.Opt && len(v.Elems) == 1 {
		return v.Elems[0]
	}
	return v
}

// preview cuts s to at most limit bytes (plus an ellipsis) on a rune
// boundary.
func preview(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(c byte) bool { return c&0xc0 != 0x80 }

func (mo *Motoko) describe(offset uint64) string {
	switch {
	case mo.DataBytes > 0 && offset >= mo.DataOffset-4 && offset < mo.DataOffset+mo.DataBytes:
		return "Motoko stable variables"
	case mo.Version >= 1 && offset < mo.UserPages*wasmPageSize:
		return "Motoko stable memory (regions/ExperimentalStableMemory)"
	}
	return ""
}

func (mo *Motoko) summary() string {
	names := make([]string, len(mo.Variables))
	for i, v := range mo.Variables {
		names[i] = v.Name
	}
	s := fmt.Sprintf("Motoko: %d stable variables", len(mo.Variables))
	if mo.Persistence == "enhanced" {
		s = fmt.Sprintf("Motoko (enhanced orthogonal persistence): %d stable variables", len(mo.Variables))
	}
	if len(names) > 0 {
		s += " (" + strings.Join(names, ", ") + ")"
	}
	switch {
	case mo.Persistence == "enhanced" && mo.Version < 0:
		s += ", kept in the heap"
	case mo.Version >= 0:
		s += fmt.Sprintf(", format v%d, %d bytes serialised", mo.Version, mo.DataBytes)
	default:
		s += ", none serialised"
	}
	return s
}

// ParseStableTypes lists the stable variables declared in a
// motoko:stable-types text, e.g. from
//
//	actor {
//	  stable var count : Nat;
//	  stable title : Text
//	};
//
// it returns count : Nat and title : Text (engine/motoko reads the
// text); variable sizes are left at -1. A text that does not parse gives
// no variables.
func ParseStableTypes(text string) []Variable {
	vars, _, _ := parseStableTypes(text)
	return vars
}

// parseStableTypes reads text with engine/motoko: the declared variables
// (in name order, as moc prints them), the signature, or why the text
// does not parse.
func parseStableTypes(text string) ([]Variable, *motoko.Signature, error) {
	if strings.TrimSpace(text) == "" {
		return []Variable{}, nil, nil
	}
	sig, err := motoko.Parse(text)
	if err != nil {
		return []Variable{}, nil, err
	}
	return variablesOf(sig.Post), sig, nil
}

func variablesOf(vs []motoko.Variable) []Variable {
	out := make([]Variable, len(vs))
	for i, v := range vs {
		out[i] = Variable{Name: v.Name, Type: v.Type.String(), Bytes: -1, Mutable: v.Mutable, Required: v.Required}
	}
	return out
}

// describeSignature fills in what the signature says beyond the
// variables: its format version, type definitions and a migration's
// inputs.
func (mo *Motoko) describeSignature(sig *motoko.Signature, err error) {
	if err != nil {
		mo.StableTypesError = err.Error()
		return
	}
	if sig == nil {
		return
	}
	mo.SignatureVersion = sig.Version
	for _, d := range sig.Defs {
		name := d.Name
		if len(d.Params) > 0 {
			ps := make([]string, len(d.Params))
			for i, p := range d.Params {
				ps[i] = p.Name
				if p.Bound != nil {
					ps[i] += " <: " + p.Bound.String()
				}
			}
			name += "<" + strings.Join(ps, ", ") + ">"
		}
		mo.TypeDefinitions = append(mo.TypeDefinitions, TypeDefinition{Name: name, Definition: d.Body.String()})
	}
	if sig.Pre != nil {
		mo.MigrationInputs = variablesOf(sig.Pre)
	}
}
