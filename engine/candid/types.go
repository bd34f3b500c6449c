// Package candid reads and writes Candid, the interface description
// language of Internet Computer canisters: it decodes DIDL argument and
// reply blobs to Candid text, encodes Candid text values to DIDL blobs, and
// parses the candid:service interface a module carries so both directions
// can use a method's declared types (field names, exact number widths).
//
// The wire format follows the Candid specification (dfinity/candid
// spec/Candid.md). No maintained Go Candid library builds against the
// module proxy this project uses, which is why this package exists.
package candid

import (
	"sort"
	"strings"
)

// Kind is a Candid type constructor. The values are the type opcodes of the
// binary format, so encoding a primitive type is writing its Kind.
type Kind int8

// The Candid type constructors, valued as their wire opcodes.
const (
	Null      Kind = -1
	Bool      Kind = -2
	Nat       Kind = -3
	Int       Kind = -4
	Nat8      Kind = -5
	Nat16     Kind = -6
	Nat32     Kind = -7
	Nat64     Kind = -8
	Int8      Kind = -9
	Int16     Kind = -10
	Int32     Kind = -11
	Int64     Kind = -12
	Float32   Kind = -13
	Float64   Kind = -14
	Text      Kind = -15
	Reserved  Kind = -16
	Empty     Kind = -17
	Opt       Kind = -18
	Vec       Kind = -19
	Record    Kind = -20
	Variant   Kind = -21
	Func      Kind = -22
	Service   Kind = -23
	Principal Kind = -24
)

// Kinds only Motoko's stable-variable serialisation uses (moc's
// "extended Candid", see DecodeMotokoStable). They never appear in
// messages between canisters.
const (
	// MotokoAlias is type-table opcode 1: a mutable value (var field,
	// mutable array, region) that may be reachable more than once. Its
	// first occurrence is written in full, later ones as a back reference.
	MotokoAlias Kind = 1
	// MotokoRegion is primitive type 128 (SLEB128 -128): a stable memory
	// region, written as its id, page count and page table.
	MotokoRegion Kind = -128
)

// String returns the Candid keyword for k.
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "bool"
	case Nat:
		return "nat"
	case Int:
		return "int"
	case Nat8:
		return "nat8"
	case Nat16:
		return "nat16"
	case Nat32:
		return "nat32"
	case Nat64:
		return "nat64"
	case Int8:
		return "int8"
	case Int16:
		return "int16"
	case Int32:
		return "int32"
	case Int64:
		return "int64"
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case Text:
		return "text"
	case Reserved:
		return "reserved"
	case Empty:
		return "empty"
	case Opt:
		return "opt"
	case Vec:
		return "vec"
	case Record:
		return "record"
	case Variant:
		return "variant"
	case Func:
		return "func"
	case Service:
		return "service"
	case Principal:
		return "principal"
	case MotokoAlias:
		return "var"
	case MotokoRegion:
		return "region"
	}
	return "kind(" + itoa(int64(k)) + ")"
}

// primitive reports whether k is a type that needs no type-table entry.
func (k Kind) primitive() bool {
	return (k <= Null && k >= Empty) || k == Principal
}

// Type is a Candid type. Compound types point at their parts; recursive
// types (from a type table or a recursive .did definition) are pointer
// cycles, so code walking a Type must be driven by a value or bounded.
type Type struct {
	Kind Kind
	// Name is the .did definition name, kept for display only.
	Name string
	// Elem is the element type of opt and vec.
	Elem *Type
	// Fields are the fields of a record or the alternatives of a variant,
	// sorted by ID as the wire format requires.
	Fields []Field
	// Func is the signature of a func type.
	Func *FuncType
	// Methods are the methods of a service type, sorted by name.
	Methods []Method
}

// Field is a record field or variant alternative. ID is the field hash
// (or position); Name is empty when only the hash is known.
type Field struct {
	ID   uint32
	Name string
	Type *Type
}

// FuncType is a method signature.
type FuncType struct {
	Args    []*Type
	Results []*Type
	// Modes are the annotations: "query", "oneway", "composite_query".
	Modes []string
}

// Method is one method of a service type.
type Method struct {
	Name string
	Type *Type // Kind Func
}

// Prim returns the type of a primitive kind.
func Prim(k Kind) *Type { return &Type{Kind: k} }

// OptOf returns opt t.
func OptOf(t *Type) *Type { return &Type{Kind: Opt, Elem: t} }

// VecOf returns vec t.
func VecOf(t *Type) *Type { return &Type{Kind: Vec, Elem: t} }

// RecordOf returns a record type with the given fields, sorted by ID.
func RecordOf(fields ...Field) *Type { return &Type{Kind: Record, Fields: sortFields(fields)} }

// VariantOf returns a variant type with the given alternatives, sorted by ID.
func VariantOf(fields ...Field) *Type { return &Type{Kind: Variant, Fields: sortFields(fields)} }

func sortFields(fs []Field) []Field {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].ID < fs[j].ID })
	return fs
}

// field returns the field with the given id.
func (t *Type) field(id uint32) (Field, bool) {
	i := sort.Search(len(t.Fields), func(i int) bool { return t.Fields[i].ID >= id })
	if i < len(t.Fields) && t.Fields[i].ID == id {
		return t.Fields[i], true
	}
	return Field{}, false
}

// isTuple reports whether a record's fields are 0, 1, ..., n-1, which
// Candid text writes positionally.
func (t *Type) isTuple() bool {
	for i, f := range t.Fields {
		if f.ID != uint32(i) || f.Name != "" {
			return false
		}
	}
	return len(t.Fields) > 0
}

// isBlob reports whether t is vec nat8, which values hold as bytes.
func (t *Type) isBlob() bool { return t.Kind == Vec && t.Elem != nil && t.Elem.Kind == Nat8 }

// String renders t in Candid type syntax. Named types print as their name
// below the top level and anonymous recursion is cut off, so any Type,
// however cyclic, renders finitely.
func (t *Type) String() string {
	var b strings.Builder
	writeType(&b, t, 0, true)
	return b.String()
}

const maxTypeDepth = 8

// describe names t for messages: its .did name when it has one.
func (t *Type) describe() string {
	if t != nil && t.Name != "" {
		return t.Name
	}
	return t.String()
}

func writeType(b *strings.Builder, t *Type, depth int, top bool) {
	if t == nil {
		b.WriteString("<nil>")
		return
	}
	if t.Name != "" && !top {
		b.WriteString(t.Name)
		return
	}
	if depth > maxTypeDepth {
		b.WriteString("…")
		return
	}
	switch t.Kind {
	case Opt, Vec, MotokoAlias:
		if t.isBlob() {
			b.WriteString("blob")
			return
		}
		b.WriteString(t.Kind.String())
		b.WriteByte(' ')
		writeType(b, t.Elem, depth+1, false)
	case Record, Variant:
		b.WriteString(t.Kind.String())
		if len(t.Fields) == 0 {
			b.WriteString(" {}")
			return
		}
		b.WriteString(" { ")
		tuple := t.Kind == Record && t.isTuple()
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString("; ")
			}
			if !tuple {
				writeLabel(b, f)
				if t.Kind == Variant && f.Type != nil && f.Type.Kind == Null && f.Type.Name == "" {
					continue
				}
				b.WriteString(" : ")
			}
			writeType(b, f.Type, depth+1, false)
		}
		b.WriteString(" }")
	case Func:
		b.WriteString("func ")
		writeFuncType(b, t.Func, depth+1)
	case Service:
		if len(t.Methods) == 0 {
			b.WriteString("service {}")
			return
		}
		b.WriteString("service { ")
		for i, m := range t.Methods {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(quoteName(m.Name))
			b.WriteString(" : ")
			if m.Type != nil && m.Type.Kind == Func && m.Type.Name == "" {
				writeFuncType(b, m.Type.Func, depth+1)
			} else {
				writeType(b, m.Type, depth+1, false)
			}
		}
		b.WriteString(" }")
	default:
		b.WriteString(t.Kind.String())
	}
}

func writeFuncType(b *strings.Builder, f *FuncType, depth int) {
	if f == nil {
		b.WriteString("() -> ()")
		return
	}
	writeTuple(b, f.Args, depth)
	b.WriteString(" -> ")
	writeTuple(b, f.Results, depth)
	for _, m := range f.Modes {
		b.WriteByte(' ')
		b.WriteString(m)
	}
}

func writeTuple(b *strings.Builder, ts []*Type, depth int) {
	b.WriteByte('(')
	for i, t := range ts {
		if i > 0 {
			b.WriteString(", ")
		}
		writeType(b, t, depth, false)
	}
	b.WriteByte(')')
}

// writeLabel writes a field's name, or its number when only the hash is known.
func writeLabel(b *strings.Builder, f Field) {
	if f.Name != "" {
		b.WriteString(quoteName(f.Name))
		return
	}
	b.WriteString(groupDigits(itoa(int64(f.ID))))
}

// quoteName returns name as a Candid identifier, or as a quoted string when
// it is not a valid identifier or is a keyword.
func quoteName(name string) string {
	if isIdent(name) && !isKeyword(name) {
		return name
	}
	return quoteText(name)
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func isKeyword(s string) bool {
	switch s {
	case "type", "import", "opt", "vec", "record", "variant", "func", "service",
		"oneway", "query", "composite_query", "blob", "principal", "null", "bool",
		"nat", "int", "nat8", "nat16", "nat32", "nat64", "int8", "int16", "int32",
		"int64", "float32", "float64", "text", "reserved", "empty", "true", "false":
		return true
	}
	return false
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	var buf [24]byte
	i := len(buf)
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	for u > 0 {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}
