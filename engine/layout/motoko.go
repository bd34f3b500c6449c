package layout

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"

	"github.com/canscope/canscope/engine/candid"
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
	// Bytes is the variable's share of the serialised data, -1 when not
	// decoded.
	Bytes int64 `json:"bytes"`
	// Value is the value in Candid text, cut to a preview length.
	Value string `json:"value,omitempty"`
}

// readMotoko finds the stable variable area. It returns nil when
// stableTypes is empty and memory does not look like Motoko's.
func readMotoko(mr *memReader, stableTypes string, deep bool) (*Motoko, error) {
	mo := &Motoko{StableTypes: stableTypes, Version: -1, Variables: ParseStableTypes(stableTypes)}
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
	text := stripComments(stableTypes)
	for i := 0; i < len(text); {
		r := rune(text[i])
		if !isIdentRune(r) {
			i++
			continue
		}
		j := i
		for j < len(text) && isIdentRune(rune(text[j])) {
			j++
		}
		word := text[i:j]
		rest := strings.TrimLeft(text[j:], " \t\n")
		tagged := i > 0 && text[i-1] == '#'
		if tagged || strings.HasPrefix(rest, ":") {
			labels[candid.Hash(word)] = word
		}
		i = j
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
// it returns count : Nat and title : Text. Type definitions before the
// actor are skipped; variable sizes are left at -1.
func ParseStableTypes(text string) []Variable {
	body, ok := actorBody(text)
	if !ok {
		return []Variable{}
	}
	vars := []Variable{}
	for _, item := range splitTopLevel(body, ';') {
		words := strings.Fields(item)
		for len(words) > 0 && (words[0] == "stable" || words[0] == "var" || words[0] == "let" || words[0] == "transient") {
			words = words[1:]
		}
		rest := strings.Join(words, " ")
		name, typ, ok := strings.Cut(rest, ":")
		name = strings.TrimSpace(name)
		if !ok || !isMotokoIdent(name) {
			continue
		}
		vars = append(vars, Variable{Name: name, Type: strings.TrimSpace(typ), Bytes: -1})
	}
	return vars
}

// actorBody returns the text between the braces of the actor.
func actorBody(text string) (string, bool) {
	text = stripComments(text)
	i := strings.Index(text, "actor")
	for i >= 0 && i > 0 && isIdentRune(rune(text[i-1])) {
		j := strings.Index(text[i+5:], "actor")
		if j < 0 {
			return "", false
		}
		i += 5 + j
	}
	if i < 0 {
		return "", false
	}
	open := strings.IndexByte(text[i:], '{')
	if open < 0 {
		return "", false
	}
	start := i + open + 1
	depth := 1
	for j := start; j < len(text); j++ {
		switch text[j] {
		case '{', '(', '[':
			depth++
		case '}', ')', ']':
			depth--
			if depth == 0 {
				return text[start:j], true
			}
		}
	}
	return "", false
}

func stripComments(text string) string {
	var b bytes.Buffer
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// splitTopLevel splits s at sep outside brackets.
func splitTopLevel(s string, sep byte) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', '(', '[', '<':
			depth++
		case '}', ')', ']':
			depth--
		case '>':
			if i == 0 || s[i-1] != '-' { // not the arrow of a function type
				depth--
			}
		case sep:
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

func isMotokoIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !isIdentRune(r) || (i == 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

func isIdentRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
