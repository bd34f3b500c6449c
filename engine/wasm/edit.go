package wasm

import (
	"encoding/binary"
	"fmt"
)

// setSection replaces the payload of the known section id, or inserts the
// section at the position the binary format requires.
func (m *Module) setSection(id SectionID, payload []byte) {
	for i := range m.Sections {
		if m.Sections[i].ID == id {
			m.Sections[i] = Section{ID: id, Payload: payload, Offset: -1}
			return
		}
	}
	at := len(m.Sections)
	for i, s := range m.Sections {
		if s.ID != SectionCustom && s.ID.order() > id.order() {
			at = i
			break
		}
	}
	m.Sections = append(m.Sections, Section{})
	copy(m.Sections[at+1:], m.Sections[at:])
	m.Sections[at] = Section{ID: id, Payload: payload, Offset: -1}
}

func (m *Module) removeSection(id SectionID) {
	for i, s := range m.Sections {
		if s.ID == id {
			m.Sections = append(m.Sections[:i], m.Sections[i+1:]...)
			return
		}
	}
}

func encodeVec[T any](n int, items []T, enc func([]byte, T) []byte) []byte {
	out := binary.AppendUvarint(make([]byte, 0, n), uint64(len(items)))
	for _, it := range items {
		out = enc(out, it)
	}
	return out
}

func appendLimits(b []byte, l Limits) []byte {
	var flags byte
	if l.HasMax {
		flags |= 1
	}
	if l.Shared {
		flags |= 2
	}
	if l.Is64 {
		flags |= 4
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, l.Min)
	if l.HasMax {
		b = binary.AppendUvarint(b, l.Max)
	}
	return b
}

func appendGlobalType(b []byte, g GlobalType) []byte {
	mut := byte(0)
	if g.Mutable {
		mut = 1
	}
	return append(b, byte(g.Type), mut)
}

func appendValueTypes(b []byte, ts []ValueType) []byte {
	b = binary.AppendUvarint(b, uint64(len(ts)))
	for _, t := range ts {
		b = append(b, byte(t))
	}
	return b
}

// SetTypes replaces the type section.
func (m *Module) SetTypes(types []FuncType) {
	m.Types = types
	m.setSection(SectionType, encodeVec(16*len(types), types, func(b []byte, t FuncType) []byte {
		b = append(b, 0x60)
		b = appendValueTypes(b, t.Params)
		return appendValueTypes(b, t.Results)
	}))
}

// AddType returns the index of an identical signature, adding it to the
// type section if the module has none.
func (m *Module) AddType(t FuncType) uint32 {
	for i, have := range m.Types {
		if have.Equal(t) {
			return uint32(i)
		}
	}
	m.SetTypes(append(m.Types[:len(m.Types):len(m.Types)], t))
	return uint32(len(m.Types) - 1)
}

// SetImports replaces the import section.
func (m *Module) SetImports(imports []Import) error {
	for _, im := range imports {
		if im.Kind > KindTag {
			return fmt.Errorf("set imports: import %s.%s has unknown kind %d", im.Module, im.Name, im.Kind)
		}
	}
	m.Imports = imports
	m.setSection(SectionImport, encodeVec(32*len(imports), imports, func(b []byte, im Import) []byte {
		b = appendName(b, im.Module)
		b = appendName(b, im.Name)
		b = append(b, byte(im.Kind))
		switch im.Kind {
		case KindFunc:
			b = binary.AppendUvarint(b, uint64(im.TypeIndex))
		case KindTable:
			b = append(b, byte(im.Table.Elem))
			b = appendLimits(b, im.Table.Limits)
		case KindMemory:
			b = appendLimits(b, im.Memory)
		case KindGlobal:
			b = appendGlobalType(b, im.Global)
		case KindTag:
			b = append(b, 0)
			b = binary.AppendUvarint(b, uint64(im.TypeIndex))
		}
		return b
	}))
	return nil
}

// SetFunctions replaces the function section (type index per defined
// function). Keep it in step with SetCode.
func (m *Module) SetFunctions(funcs []uint32) {
	m.Functions = funcs
	m.setSection(SectionFunction, encodeVec(2*len(funcs), funcs, func(b []byte, t uint32) []byte {
		return binary.AppendUvarint(b, uint64(t))
	}))
}

// SetGlobals replaces the global section. Each Init must be a constant
// expression ending in end (0x0b).
func (m *Module) SetGlobals(globals []Global) error {
	for i, g := range globals {
		if _, err := readConstExpr(newReader(g.Init, 0)); err != nil {
			return fmt.Errorf("set globals: global %d initializer: %w", i, err)
		}
	}
	m.Globals = globals
	m.setSection(SectionGlobal, encodeVec(8*len(globals), globals, func(b []byte, g Global) []byte {
		return append(appendGlobalType(b, g.Type), g.Init...)
	}))
	return nil
}

// SetExports replaces the export section.
func (m *Module) SetExports(exports []Export) {
	m.Exports = exports
	m.setSection(SectionExport, encodeVec(24*len(exports), exports, func(b []byte, e Export) []byte {
		b = appendName(b, e.Name)
		b = append(b, byte(e.Kind))
		return binary.AppendUvarint(b, uint64(e.Index))
	}))
}

// SetStart sets the start function, or removes the start section for nil.
func (m *Module) SetStart(start *uint32) {
	m.Start = start
	if start == nil {
		m.removeSection(SectionStart)
		return
	}
	m.setSection(SectionStart, binary.AppendUvarint(nil, uint64(*start)))
}

// SetElements replaces the element section, writing each segment in its
// Flags encoding.
func (m *Module) SetElements(elems []Element) error {
	for i, e := range elems {
		if e.Flags > 7 {
			return fmt.Errorf("set elements: segment %d has unknown flags %d", i, e.Flags)
		}
	}
	m.Elements = elems
	m.setSection(SectionElement, encodeVec(16*len(elems), elems, func(b []byte, e Element) []byte {
		b = binary.AppendUvarint(b, uint64(e.Flags))
		if e.Flags&3 == 2 {
			b = binary.AppendUvarint(b, uint64(e.Table))
		}
		if e.Flags&1 == 0 {
			b = append(b, e.Offset...)
		}
		if e.Flags&3 != 0 {
			if e.Flags&4 == 0 {
				b = append(b, 0)
			} else {
				b = append(b, byte(e.Type))
			}
		}
		if e.Flags&4 == 0 {
			b = binary.AppendUvarint(b, uint64(len(e.Funcs)))
			for _, f := range e.Funcs {
				b = binary.AppendUvarint(b, uint64(f))
			}
		} else {
			b = binary.AppendUvarint(b, uint64(len(e.Exprs)))
			for _, x := range e.Exprs {
				b = append(b, x...)
			}
		}
		return b
	}))
	return nil
}

// SetCode replaces the code section. Bodies keep their original size
// prefix when it still matches, so an unchanged body re-encodes as parsed.
func (m *Module) SetCode(code []Code) {
	m.Code = code
	m.setSection(SectionCode, encodeCode(code))
}

func encodeCode(code []Code) []byte {
	n := 5
	for _, c := range code {
		n += 5 + len(c.Body)
	}
	return encodeVec(n, code, func(b []byte, c Code) []byte {
		if c.sizeRaw != nil {
			if v, err := newReader(c.sizeRaw, 0).u32(); err == nil && int(v) == len(c.Body) {
				b = append(b, c.sizeRaw...)
				return append(b, c.Body...)
			}
		}
		b = binary.AppendUvarint(b, uint64(len(c.Body)))
		return append(b, c.Body...)
	})
}

// SetCustom replaces the data of the first custom section with this name,
// or appends a new custom section at the end of the module.
func (m *Module) SetCustom(name string, data []byte) {
	payload := append(appendName(nil, name), data...)
	body := payload[len(payload)-len(data):]
	k := 0
	for i, s := range m.Sections {
		if s.ID != SectionCustom {
			continue
		}
		if m.Customs[k].Name == name {
			m.Sections[i] = Section{ID: SectionCustom, Payload: payload, Offset: -1}
			m.Customs[k].Data = body
			m.refreshNames(name)
			return
		}
		k++
	}
	m.Sections = append(m.Sections, Section{ID: SectionCustom, Payload: payload, Offset: -1})
	m.Customs = append(m.Customs, Custom{Name: name, Data: body})
	m.refreshNames(name)
}

func (m *Module) refreshNames(custom string) {
	if custom != "name" {
		return
	}
	data, _ := m.Custom("name")
	names, err := decodeFunctionNames(data)
	if err != nil {
		names = nil
	}
	m.funcNames = names
}

// SetMemories replaces the memory section.
func (m *Module) SetMemories(mems []Limits) {
	m.Memories = mems
	m.setSection(SectionMemory, encodeVec(8*len(mems), mems, appendLimits))
}

// SetData replaces the data section, writing each segment in the shortest
// flags encoding of its mode and memory. Each active Offset must be a
// constant expression ending in end (0x0b).
func (m *Module) SetData(data []Data) error {
	for i, d := range data {
		if d.Mode != ModeActive {
			continue
		}
		if _, err := readConstExpr(newReader(d.Offset, 0)); err != nil {
			return fmt.Errorf("set data: segment %d offset: %w", i, err)
		}
	}
	m.Data = data
	n := 5
	for _, d := range data {
		n += 8 + len(d.Offset) + len(d.Init)
	}
	m.setSection(SectionData, encodeVec(n, data, func(b []byte, d Data) []byte {
		switch {
		case d.Mode != ModeActive:
			b = append(b, 1)
		case d.Memory == 0:
			b = append(b, 0)
		default:
			b = append(b, 2)
			b = binary.AppendUvarint(b, uint64(d.Memory))
		}
		if d.Mode == ModeActive {
			b = append(b, d.Offset...)
		}
		b = binary.AppendUvarint(b, uint64(len(d.Init)))
		return append(b, d.Init...)
	}))
	return nil
}

// SetTables replaces the table section.
func (m *Module) SetTables(tables []TableType) {
	m.Tables = tables
	m.setSection(SectionTable, encodeVec(8*len(tables), tables, func(b []byte, t TableType) []byte {
		return appendLimits(append(b, byte(t.Elem)), t.Limits)
	}))
}
