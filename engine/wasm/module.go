package wasm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// magic and version open every binary module.
var header = [8]byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// Module is a parsed module: its sections in order plus their decoded
// contents. Treat the decoded fields as read-only; change the module with the
// Set* methods so Encode sees the change.
type Module struct {
	Sections []Section

	Types     []FuncType
	Imports   []Import
	Functions []uint32 // type index of each defined function
	Tables    []TableType
	Memories  []Limits
	Globals   []Global
	Exports   []Export
	Start     *uint32
	Elements  []Element
	DataCount *uint32
	Code      []Code
	Data      []Data
	Customs   []Custom

	funcNames map[uint32]string
}

// ParseError locates a malformed part of a module.
type ParseError struct {
	Section string
	Offset  int
	Err     error
}

// Error names the section and the absolute byte offset.
func (e *ParseError) Error() string {
	return fmt.Sprintf("parse wasm: %s section at offset %d: %v", e.Section, e.Offset, e.Err)
}

// Unwrap returns the underlying cause.
func (e *ParseError) Unwrap() error { return e.Err }

// Parse decodes a binary module. It validates the structure of every section
// it decodes (not types or instruction semantics) and never panics on
// malformed input.
func Parse(b []byte) (*Module, error) {
	if len(b) < 8 || !bytes.Equal(b[:4], header[:4]) {
		return nil, errors.New("parse wasm: not a wasm module (bad magic)")
	}
	if !bytes.Equal(b[4:8], header[4:]) {
		return nil, fmt.Errorf("parse wasm: unsupported binary version % x (want 01 00 00 00)", b[4:8])
	}
	m := &Module{}
	r := newReader(b, 0)
	r.pos = 8
	lastOrder := 0
	for !r.done() {
		start := r.offset()
		id, _ := r.byte()
		sizeStart := r.pos
		size, err := r.u32()
		if err != nil {
			return nil, &ParseError{SectionID(id).String(), start, fmt.Errorf("section size: %w", err)}
		}
		sizeRaw := b[sizeStart:r.pos]
		payloadOff := r.offset()
		payload, err := r.bytes(int(size))
		if err != nil {
			return nil, &ParseError{SectionID(id).String(), start,
				fmt.Errorf("size %d exceeds the %d bytes left", size, len(b)-payloadOff)}
		}
		sid := SectionID(id)
		if id > byte(SectionTag) {
			return nil, &ParseError{sid.String(), start, errors.New("unknown section id")}
		}
		if sid != SectionCustom {
			o := sid.order()
			if o <= lastOrder {
				return nil, &ParseError{sid.String(), start, errors.New("section out of order or repeated")}
			}
			lastOrder = o
		}
		m.Sections = append(m.Sections, Section{ID: sid, Payload: payload, Offset: payloadOff, sizeRaw: sizeRaw})
		if err := m.decodeSection(sid, payload, payloadOff); err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				return nil, err
			}
			return nil, &ParseError{sid.String(), payloadOff, err}
		}
	}
	if len(m.Functions) != len(m.Code) {
		return nil, fmt.Errorf("parse wasm: %d functions declared but %d bodies in the code section", len(m.Functions), len(m.Code))
	}
	return m, nil
}

// decodeSection fills the decoded view for one section; errors carry the
// absolute offset of the failing entry where known.
func (m *Module) decodeSection(id SectionID, payload []byte, off int) error {
	r := newReader(payload, off)
	var err error
	switch id {
	case SectionCustom:
		err = m.decodeCustom(r)
	case SectionType:
		m.Types, err = decodeTypes(r)
	case SectionImport:
		m.Imports, err = decodeImports(r)
	case SectionFunction:
		m.Functions, err = decodeU32s(r)
	case SectionTable:
		m.Tables, err = decodeVec(r, readTableType)
	case SectionMemory:
		m.Memories, err = decodeVec(r, readLimits)
	case SectionGlobal:
		m.Globals, err = decodeVec(r, readGlobal)
	case SectionExport:
		m.Exports, err = decodeVec(r, readExport)
	case SectionStart:
		var s uint32
		s, err = r.u32()
		m.Start = &s
	case SectionElement:
		m.Elements, err = decodeVec(r, readElement)
	case SectionDataCount:
		var n uint32
		n, err = r.u32()
		m.DataCount = &n
	case SectionCode:
		m.Code, err = decodeVec(r, readCode)
	case SectionData:
		m.Data, err = decodeVec(r, readData)
	case SectionTag:
		// Tags are kept only as raw bytes: the engine needs none of them.
		return nil
	}
	if err != nil {
		return &ParseError{id.String(), r.offset(), err}
	}
	if id != SectionCustom && !r.done() {
		return &ParseError{id.String(), r.offset(), fmt.Errorf("%d trailing bytes", len(payload)-r.pos)}
	}
	return nil
}

func decodeVec[T any](r *reader, read func(*reader) (T, error)) ([]T, error) {
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, n)
	for i := 0; i < n; i++ {
		v, err := read(r)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func decodeU32s(r *reader) ([]uint32, error) { return decodeVec(r, (*reader).u32) }

func decodeTypes(r *reader) ([]FuncType, error) {
	return decodeVec(r, func(r *reader) (FuncType, error) {
		form, err := r.byte()
		if err != nil {
			return FuncType{}, err
		}
		if form != 0x60 {
			return FuncType{}, fmt.Errorf("type form 0x%02x is not a function type (GC types are not supported)", form)
		}
		params, err := decodeVec(r, readValueType)
		if err != nil {
			return FuncType{}, fmt.Errorf("params: %w", err)
		}
		results, err := decodeVec(r, readValueType)
		if err != nil {
			return FuncType{}, fmt.Errorf("results: %w", err)
		}
		return FuncType{Params: params, Results: results}, nil
	})
}

func readValueType(r *reader) (ValueType, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	if !validValueType(ValueType(c)) {
		return 0, fmt.Errorf("unknown value type 0x%02x", c)
	}
	return ValueType(c), nil
}

func readLimits(r *reader) (Limits, error) {
	flags, err := r.byte()
	if err != nil {
		return Limits{}, err
	}
	if flags > 7 {
		return Limits{}, fmt.Errorf("unknown limits flags 0x%02x", flags)
	}
	l := Limits{HasMax: flags&1 != 0, Shared: flags&2 != 0, Is64: flags&4 != 0}
	bits := uint(32)
	if l.Is64 {
		bits = 64
	}
	if l.Min, err = r.uleb(bits); err != nil {
		return Limits{}, fmt.Errorf("limits minimum: %w", err)
	}
	if l.HasMax {
		if l.Max, err = r.uleb(bits); err != nil {
			return Limits{}, fmt.Errorf("limits maximum: %w", err)
		}
	}
	return l, nil
}

func readTableType(r *reader) (TableType, error) {
	c, err := r.byte()
	if err != nil {
		return TableType{}, err
	}
	if !validRefType(ValueType(c)) {
		return TableType{}, fmt.Errorf("table element type 0x%02x is not a reference type", c)
	}
	l, err := readLimits(r)
	return TableType{Elem: ValueType(c), Limits: l}, err
}

func readGlobalType(r *reader) (GlobalType, error) {
	t, err := readValueType(r)
	if err != nil {
		return GlobalType{}, err
	}
	mut, err := r.byte()
	if err != nil {
		return GlobalType{}, err
	}
	if mut > 1 {
		return GlobalType{}, fmt.Errorf("global mutability 0x%02x is not 0 or 1", mut)
	}
	return GlobalType{Type: t, Mutable: mut == 1}, nil
}

func readGlobal(r *reader) (Global, error) {
	t, err := readGlobalType(r)
	if err != nil {
		return Global{}, err
	}
	init, err := readConstExpr(r)
	return Global{Type: t, Init: init}, err
}

func decodeImports(r *reader) ([]Import, error) {
	return decodeVec(r, func(r *reader) (Import, error) {
		var im Import
		var err error
		if im.Module, err = r.name(); err != nil {
			return im, fmt.Errorf("module name: %w", err)
		}
		if im.Name, err = r.name(); err != nil {
			return im, fmt.Errorf("field name: %w", err)
		}
		k, err := r.byte()
		if err != nil {
			return im, err
		}
		im.Kind = ExternKind(k)
		switch im.Kind {
		case KindFunc:
			im.TypeIndex, err = r.u32()
		case KindTable:
			im.Table, err = readTableType(r)
		case KindMemory:
			im.Memory, err = readLimits(r)
		case KindGlobal:
			im.Global, err = readGlobalType(r)
		case KindTag:
			if _, err = r.byte(); err == nil {
				im.TypeIndex, err = r.u32()
			}
		default:
			err = fmt.Errorf("import %s.%s has unknown kind 0x%02x", im.Module, im.Name, k)
		}
		return im, err
	})
}

func readExport(r *reader) (Export, error) {
	name, err := r.name()
	if err != nil {
		return Export{}, err
	}
	k, err := r.byte()
	if err != nil {
		return Export{}, err
	}
	if k > byte(KindTag) {
		return Export{}, fmt.Errorf("export %q has unknown kind 0x%02x", name, k)
	}
	idx, err := r.u32()
	return Export{Name: name, Kind: ExternKind(k), Index: idx}, err
}

func readElement(r *reader) (Element, error) {
	flags, err := r.u32()
	if err != nil {
		return Element{}, err
	}
	if flags > 7 {
		return Element{}, fmt.Errorf("unknown element segment flags %d", flags)
	}
	e := Element{Flags: flags, Type: FuncRef}
	if flags&2 != 0 && flags&1 == 0 { // active with explicit table index
		if e.Table, err = r.u32(); err != nil {
			return e, err
		}
	}
	if flags&1 == 0 {
		if e.Offset, err = readConstExpr(r); err != nil {
			return e, fmt.Errorf("offset: %w", err)
		}
	}
	if flags&3 != 0 { // explicit elemkind or reftype
		c, err := r.byte()
		if err != nil {
			return e, err
		}
		if flags&4 == 0 {
			if c != 0 {
				return e, fmt.Errorf("element kind 0x%02x is not 0x00 (funcref)", c)
			}
		} else {
			if !validRefType(ValueType(c)) {
				return e, fmt.Errorf("element type 0x%02x is not a reference type", c)
			}
			e.Type = ValueType(c)
		}
	}
	if flags&4 == 0 {
		e.Funcs, err = decodeU32s(r)
	} else {
		e.Exprs, err = decodeVec(r, readConstExpr)
	}
	return e, err
}

func readCode(r *reader) (Code, error) {
	start := r.pos
	size, err := r.u32()
	if err != nil {
		return Code{}, err
	}
	sizeRaw := r.b[start:r.pos]
	off := r.offset()
	body, err := r.bytes(int(size))
	if err != nil {
		return Code{}, fmt.Errorf("body size %d exceeds the section", size)
	}
	return Code{Body: body, Offset: off, sizeRaw: sizeRaw}, nil
}

func readData(r *reader) (Data, error) {
	flags, err := r.u32()
	if err != nil {
		return Data{}, err
	}
	var d Data
	switch flags {
	case 0:
	case 1:
		d.Mode = ModePassive
	case 2:
		if d.Memory, err = r.u32(); err != nil {
			return d, err
		}
	default:
		return d, fmt.Errorf("unknown data segment flags %d", flags)
	}
	if d.Mode == ModeActive {
		if d.Offset, err = readConstExpr(r); err != nil {
			return d, fmt.Errorf("offset: %w", err)
		}
	}
	n, err := r.count()
	if err != nil {
		return d, err
	}
	d.Init, err = r.bytes(n)
	return d, err
}

// readConstExpr returns the raw bytes of a constant expression up to and
// including its end opcode. It accepts the constant instructions of the MVP,
// reference types, extended-const and SIMD's v128.const.
func readConstExpr(r *reader) ([]byte, error) {
	start := r.pos
	for {
		op, err := r.byte()
		if err != nil {
			return nil, err
		}
		switch op {
		case 0x0b: // end
			return r.b[start:r.pos], nil
		case 0x41: // i32.const
			_, err = r.sleb(32)
		case 0x42: // i64.const
			_, err = r.sleb(64)
		case 0x43: // f32.const
			_, err = r.bytes(4)
		case 0x44: // f64.const
			_, err = r.bytes(8)
		case 0x23, 0xd2: // global.get, ref.func
			_, err = r.u32()
		case 0xd0: // ref.null
			var t byte
			if t, err = r.byte(); err == nil && !validRefType(ValueType(t)) {
				err = fmt.Errorf("ref.null of non-reference type 0x%02x", t)
			}
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended-const add/sub/mul
		case 0xfd:
			var sub uint32
			if sub, err = r.u32(); err == nil {
				if sub != 12 {
					return nil, fmt.Errorf("SIMD opcode %d is not constant", sub)
				}
				_, err = r.bytes(16)
			}
		default:
			return nil, fmt.Errorf("opcode 0x%02x at offset %d is not allowed in a constant expression", op, r.offset()-1)
		}
		if err != nil {
			return nil, err
		}
	}
}

func (m *Module) decodeCustom(r *reader) error {
	name, err := r.name()
	if err != nil {
		return fmt.Errorf("custom section name: %w", err)
	}
	data := r.b[r.pos:]
	m.Customs = append(m.Customs, Custom{Name: name, Data: data})
	if name == "name" && m.funcNames == nil {
		// A malformed name section is ignored, as engines do: it is
		// debugging information and must not stop a module from loading.
		if names, err := decodeFunctionNames(data); err == nil {
			m.funcNames = names
		}
	}
	return nil
}

// Encode returns the binary module: the header and every section in order.
// Unmodified sections are written exactly as parsed.
func (m *Module) Encode() []byte {
	n := len(header)
	for _, s := range m.Sections {
		n += 6 + len(s.Payload)
	}
	out := make([]byte, 0, n)
	out = append(out, header[:]...)
	for _, s := range m.Sections {
		out = append(out, byte(s.ID))
		if s.sizeRaw != nil {
			out = append(out, s.sizeRaw...)
		} else {
			out = binary.AppendUvarint(out, uint64(len(s.Payload)))
		}
		out = append(out, s.Payload...)
	}
	return out
}

// Custom returns the data of the first custom section with the given name.
func (m *Module) Custom(name string) ([]byte, bool) {
	for _, c := range m.Customs {
		if c.Name == name {
			return c.Data, true
		}
	}
	return nil, false
}

// Metadata returns the IC metadata section `icp:public <name>` or
// `icp:private <name>` (as dfx and ic-wasm write them) and whether it is
// public.
func (m *Module) Metadata(name string) (data []byte, public bool, ok bool) {
	for _, c := range m.Customs {
		switch c.Name {
		case "icp:public " + name:
			return c.Data, true, true
		case "icp:private " + name:
			return c.Data, false, true
		}
	}
	return nil, false, false
}

// MetadataNames lists the names of all IC metadata sections in module order.
func (m *Module) MetadataNames() []string {
	var out []string
	for _, c := range m.Customs {
		if n, ok := strings.CutPrefix(c.Name, "icp:public "); ok {
			out = append(out, n)
		} else if n, ok := strings.CutPrefix(c.Name, "icp:private "); ok {
			out = append(out, n)
		}
	}
	return out
}

// FuncName returns the name of function idx (in the function index space)
// from the name section, or "" when it has none.
func (m *Module) FuncName(idx uint32) string { return m.funcNames[idx] }

// ExportedFunctions lists the names of exported functions in export order,
// e.g. "canister_update greet".
func (m *Module) ExportedFunctions() []string {
	var out []string
	for _, e := range m.Exports {
		if e.Kind == KindFunc {
			out = append(out, e.Name)
		}
	}
	return out
}

// Export returns the export with the given name.
func (m *Module) Export(name string) (Export, bool) {
	for _, e := range m.Exports {
		if e.Name == name {
			return e, true
		}
	}
	return Export{}, false
}

// NumImported counts imports of one kind; it is where that kind's
// module-defined entries start in the index space.
func (m *Module) NumImported(k ExternKind) int {
	n := 0
	for _, im := range m.Imports {
		if im.Kind == k {
			n++
		}
	}
	return n
}

// NumImportedFuncs is NumImported(KindFunc).
func (m *Module) NumImportedFuncs() int { return m.NumImported(KindFunc) }

// NumImportedGlobals is NumImported(KindGlobal).
func (m *Module) NumImportedGlobals() int { return m.NumImported(KindGlobal) }

// Memory returns the limits of memory 0, imported or defined.
func (m *Module) Memory() (Limits, bool) {
	for _, im := range m.Imports {
		if im.Kind == KindMemory {
			return im.Memory, true
		}
	}
	if len(m.Memories) > 0 {
		return m.Memories[0], true
	}
	return Limits{}, false
}

// IsMemory64 reports whether memory 0 is a 64-bit memory, as Motoko's
// enhanced orthogonal persistence produces.
func (m *Module) IsMemory64() bool {
	l, ok := m.Memory()
	return ok && l.Is64
}

// EOPMetadata is the metadata name (custom section
// `icp:private enhanced-orthogonal-persistence` or `icp:public ...`) that
// marks a module built for Motoko's enhanced orthogonal persistence; the
// replica's ENHANCED_ORTHOGONAL_PERSISTENCE_SECTION.
const EOPMetadata = "enhanced-orthogonal-persistence"

// ExpectsEOP reports whether the module carries the enhanced orthogonal
// persistence metadata, as the replica's
// expects_enhanced_orthogonal_persistence checks it
// (rs/execution_environment/src/execution/upgrade.rs).
func (m *Module) ExpectsEOP() bool {
	_, _, ok := m.Metadata(EOPMetadata)
	return ok
}

// FuncType returns the signature of function idx in the function index
// space.
func (m *Module) FuncType(idx uint32) (FuncType, error) {
	var ti uint32
	n := uint32(m.NumImportedFuncs())
	if idx < n {
		k := uint32(0)
		for _, im := range m.Imports {
			if im.Kind != KindFunc {
				continue
			}
			if k == idx {
				ti = im.TypeIndex
				break
			}
			k++
		}
	} else if int(idx-n) < len(m.Functions) {
		ti = m.Functions[idx-n]
	} else {
		return FuncType{}, fmt.Errorf("function index %d out of range (%d functions)", idx, int(n)+len(m.Functions))
	}
	if int(ti) >= len(m.Types) {
		return FuncType{}, fmt.Errorf("function %d has type index %d out of range (%d types)", idx, ti, len(m.Types))
	}
	return m.Types[ti], nil
}

// GlobalType returns the type of global idx in the global index space.
func (m *Module) GlobalType(idx uint32) (GlobalType, bool) {
	k := uint32(0)
	for _, im := range m.Imports {
		if im.Kind != KindGlobal {
			continue
		}
		if k == idx {
			return im.Global, true
		}
		k++
	}
	if int(idx-k) < len(m.Globals) {
		return m.Globals[idx-k].Type, true
	}
	return GlobalType{}, false
}
