package wasm

import "fmt"

// SectionID identifies a section of the binary format.
type SectionID byte

// Section ids of the binary format, including the exception-handling tag
// section, which canisters built by newer toolchains may carry.
const (
	SectionCustom    SectionID = 0
	SectionType      SectionID = 1
	SectionImport    SectionID = 2
	SectionFunction  SectionID = 3
	SectionTable     SectionID = 4
	SectionMemory    SectionID = 5
	SectionGlobal    SectionID = 6
	SectionExport    SectionID = 7
	SectionStart     SectionID = 8
	SectionElement   SectionID = 9
	SectionCode      SectionID = 10
	SectionData      SectionID = 11
	SectionDataCount SectionID = 12
	SectionTag       SectionID = 13
)

var sectionNames = [...]string{"custom", "type", "import", "function", "table", "memory",
	"global", "export", "start", "element", "code", "data", "data count", "tag"}

// String returns the section's name as the spec spells it.
func (id SectionID) String() string {
	if int(id) < len(sectionNames) {
		return sectionNames[id]
	}
	return fmt.Sprintf("section(%d)", byte(id))
}

// order is the position a known section must take in a module; custom
// sections may appear anywhere and have no order.
func (id SectionID) order() int {
	switch id {
	case SectionType, SectionImport, SectionFunction, SectionTable, SectionMemory:
		return int(id)
	case SectionTag:
		return 6
	case SectionGlobal, SectionExport, SectionStart, SectionElement:
		return int(id) + 1
	case SectionDataCount:
		return 11
	case SectionCode:
		return 12
	case SectionData:
		return 13
	}
	return 0
}

// ValueType is a value type or reference type byte.
type ValueType byte

// Value and reference types.
const (
	I32       ValueType = 0x7f
	I64       ValueType = 0x7e
	F32       ValueType = 0x7d
	F64       ValueType = 0x7c
	V128      ValueType = 0x7b
	FuncRef   ValueType = 0x70
	ExternRef ValueType = 0x6f
	// ExnRef is the exception-handling proposal's reference type.
	ExnRef ValueType = 0x69
)

// String returns the text-format name of the type.
func (t ValueType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	case ExnRef:
		return "exnref"
	}
	return fmt.Sprintf("type(0x%02x)", byte(t))
}

func validValueType(t ValueType) bool {
	switch t {
	case I32, I64, F32, F64, V128, FuncRef, ExternRef, ExnRef:
		return true
	}
	return false
}

func validRefType(t ValueType) bool { return t == FuncRef || t == ExternRef || t == ExnRef }

// FuncType is a function signature.
type FuncType struct {
	Params  []ValueType
	Results []ValueType
}

// Equal reports whether two signatures are identical.
func (f FuncType) Equal(o FuncType) bool {
	if len(f.Params) != len(o.Params) || len(f.Results) != len(o.Results) {
		return false
	}
	for i := range f.Params {
		if f.Params[i] != o.Params[i] {
			return false
		}
	}
	for i := range f.Results {
		if f.Results[i] != o.Results[i] {
			return false
		}
	}
	return true
}

// ExternKind is the kind of an import or export.
type ExternKind byte

// Import and export kinds.
const (
	KindFunc   ExternKind = 0
	KindTable  ExternKind = 1
	KindMemory ExternKind = 2
	KindGlobal ExternKind = 3
	KindTag    ExternKind = 4
)

// String returns the text-format keyword of the kind.
func (k ExternKind) String() string {
	switch k {
	case KindFunc:
		return "func"
	case KindTable:
		return "table"
	case KindMemory:
		return "memory"
	case KindGlobal:
		return "global"
	case KindTag:
		return "tag"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Limits bounds a memory (in 64 KiB pages) or a table (in elements).
type Limits struct {
	Min    uint64
	Max    uint64
	HasMax bool
	Shared bool
	// Is64 marks a 64-bit memory (memory64) or table (table64).
	Is64 bool
}

// TableType describes a table.
type TableType struct {
	Elem   ValueType
	Limits Limits
}

// GlobalType describes a global.
type GlobalType struct {
	Type    ValueType
	Mutable bool
}

// Import is one entry of the import section. Exactly one of TypeIndex
// (functions and tags), Table, Memory or Global is meaningful, per Kind.
type Import struct {
	Module    string
	Name      string
	Kind      ExternKind
	TypeIndex uint32
	Table     TableType
	Memory    Limits
	Global    GlobalType
}

// Global is a module-defined global. Init is the raw constant initializer
// expression including its final end opcode.
type Global struct {
	Type GlobalType
	Init []byte
}

// Export is one entry of the export section.
type Export struct {
	Name  string
	Kind  ExternKind
	Index uint32
}

// Element is one element segment. Active segments have an Offset
// expression; for the function-index encodings (flags 0-3) Funcs holds the
// indices, otherwise Exprs holds raw constant expressions (each ending in
// end). Flags is the segment's encoding (0-7) and is kept so re-encoding
// reproduces the input.
type Element struct {
	Flags  uint32
	Table  uint32
	Offset []byte
	// Type is the element type: FuncRef for flags 0-3 (elemkind 0x00).
	Type  ValueType
	Funcs []uint32
	Exprs [][]byte
}

// Mode reports whether the segment is active, passive or declarative.
func (e Element) Mode() SegmentMode {
	switch {
	case e.Flags&1 == 0:
		return ModeActive
	case e.Flags&2 == 0:
		return ModePassive
	}
	return ModeDeclarative
}

// SegmentMode says when a data or element segment is applied.
type SegmentMode int

// Segment modes.
const (
	ModeActive SegmentMode = iota
	ModePassive
	ModeDeclarative
)

// Data is one data segment.
type Data struct {
	Mode   SegmentMode
	Memory uint32
	// Offset is the raw offset expression of an active segment.
	Offset []byte
	Init   []byte
}

// Code is one function body as stored in the code section: the local
// declarations followed by the instruction stream (without the size
// prefix). Decode it with DecodeBody.
type Code struct {
	Body []byte
	// Offset is the byte offset of Body in the parsed module, the
	// location the replica reports for a function; 0 for a body built by
	// hand.
	Offset int
	// sizeRaw is the original size prefix, kept so an unmodified code
	// section re-encodes byte for byte even with non-canonical sizes.
	sizeRaw []byte
}

// Custom is a custom section.
type Custom struct {
	Name string
	Data []byte
}

// Section is one section in module order. Payload excludes the id and size.
type Section struct {
	ID      SectionID
	Payload []byte
	// Offset is the absolute offset of Payload in the parsed input; -1 for
	// sections created by a Set* method.
	Offset int
	// sizeRaw is the original size encoding, reused while Payload is the
	// parsed one.
	sizeRaw []byte
}
