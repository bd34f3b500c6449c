package candid

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"

	"github.com/canscope/canscope/engine/principal"
)

// errPrincipalLen rejects principals longer than the IC allows.
var errPrincipalLen = fmt.Errorf("principal longer than %d bytes", principal.MaxLen)

// ErrNotCandid is wrapped by every error that rejects a blob as Candid, so
// callers can fall back to showing hex.
var ErrNotCandid = errors.New("not a Candid message")

// magic starts every Candid message.
const magic = "DIDL"

// Limits that keep hostile input from costing more than its size warrants.
const (
	// maxDepth bounds the nesting of types and values.
	maxDepth = 256
	// valueBudgetPerByte and minValueBudget bound how many values one
	// message may hold: zero-sized values (null, reserved, empty records)
	// would otherwise let a few bytes claim billions of elements.
	valueBudgetPerByte = 8
	minValueBudget     = 1 << 16
)

// Decode decodes a DIDL message using only its own type table: record
// fields are named only where a common name matches the hash.
func Decode(msg []byte) ([]Value, error) { return DecodeWith(msg, nil) }

// DecodeWith decodes a DIDL message and names record fields and variant
// alternatives from want, the types the method declares (a reply's result
// types or a call's argument types), where they match the wire types.
// Values keep their wire types; want only supplies names.
func DecodeWith(msg []byte, want []*Type) ([]Value, error) {
	d := &decoder{b: msg}
	vals, err := d.message(want)
	if err == nil && d.pos != len(d.b) {
		err = d.errf("%d trailing bytes after the values", len(d.b)-d.pos)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCandid, err)
	}
	return vals, nil
}

// DecodePrefix decodes the DIDL message at the start of b and returns its
// values and length, for messages embedded in larger memory (Motoko
// writes its stable variables this way) where what follows is unrelated.
func DecodePrefix(b []byte, want []*Type) ([]Value, int, error) {
	d := &decoder{b: b}
	vals, err := d.message(want)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrNotCandid, err)
	}
	return vals, d.pos, nil
}

// DecodeText decodes msg and formats it as Candid text, the one-call form
// for showing a reply or argument blob.
func DecodeText(msg []byte, want []*Type) (string, error) {
	vals, err := DecodeWith(msg, want)
	if err != nil {
		return "", err
	}
	return Format(vals), nil
}

// DecodeMotokoStable decodes the stable variables a Motoko canister
// (classical persistence) serialises in pre_upgrade: a DIDL message at the
// start of b in Candid extended with MotokoAlias types, whose values are
// written once in full (tag 0, 8 bytes of decoder scratch, the value) and
// then referenced (tag 1, a 32-bit relative offset), and MotokoRegion
// values. It returns the values and the message length.
func DecodeMotokoStable(b []byte) ([]Value, int, error) {
	d := &decoder{b: b, motoko: true}
	vals, err := d.message(nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrNotCandid, err)
	}
	return vals, d.pos, nil
}

type decoder struct {
	b      []byte
	pos    int
	budget int
	motoko bool // accept Motoko's extensions (DecodeMotokoStable)
}

func (d *decoder) errf(format string, args ...any) error {
	return fmt.Errorf("byte %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) message(want []*Type) ([]Value, error) {
	if !bytes.HasPrefix(d.b, []byte(magic)) {
		if len(d.b) == 0 {
			return nil, errors.New("empty blob")
		}
		return nil, errors.New("no DIDL magic")
	}
	d.pos = len(magic)
	d.budget = max(minValueBudget, valueBudgetPerByte*len(d.b))
	table, err := d.typeTable()
	if err != nil {
		return nil, err
	}
	n, err := d.count("argument count")
	if err != nil {
		return nil, err
	}
	types := make([]*Type, n)
	for i := range types {
		if types[i], err = d.typeRef(table); err != nil {
			return nil, err
		}
	}
	vals := make([]Value, n)
	for i, t := range types {
		var w *Type
		if i < len(want) {
			w = want[i]
		}
		if vals[i], err = d.value(t, w, 0); err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
	}
	return vals, nil
}

// typeTable reads the table. Entries are allocated first so references,
// including forward and self references, resolve to the same pointers.
func (d *decoder) typeTable() ([]*Type, error) {
	n, err := d.count("type table length")
	if err != nil {
		return nil, err
	}
	table := make([]*Type, n)
	for i := range table {
		table[i] = &Type{}
	}
	for i := range table {
		if err := d.typeEntry(table, table[i]); err != nil {
			return nil, fmt.Errorf("type %d: %w", i, err)
		}
	}
	return table, nil
}

func (d *decoder) typeEntry(table []*Type, t *Type) error {
	op, err := d.sleb64()
	if err != nil {
		return err
	}
	t.Kind = Kind(op)
	switch t.Kind {
	case Opt, Vec:
		t.Elem, err = d.typeRef(table)
		return err
	case MotokoAlias:
		if !d.motoko {
			break
		}
		t.Elem, err = d.typeRef(table)
		return err
	case Record, Variant:
		n, err := d.count("field count")
		if err != nil {
			return err
		}
		t.Fields = make([]Field, n)
		for i := range t.Fields {
			id, err := d.uleb32()
			if err != nil {
				return err
			}
			if i > 0 && id <= t.Fields[i-1].ID {
				return d.errf("field ids not strictly increasing (%d after %d)", id, t.Fields[i-1].ID)
			}
			ft, err := d.typeRef(table)
			if err != nil {
				return err
			}
			// Guess the name once per type, not once per value.
			t.Fields[i] = Field{ID: id, Name: guessLabel(id), Type: ft}
		}
		return nil
	case Func:
		f := &FuncType{}
		if f.Args, err = d.typeList(table); err != nil {
			return err
		}
		if f.Results, err = d.typeList(table); err != nil {
			return err
		}
		n, err := d.count("annotation count")
		if err != nil {
			return err
		}
		for range n {
			a, err := d.byte()
			if err != nil {
				return err
			}
			mode := modeName(a)
			if mode == "" {
				return d.errf("unknown func annotation %d", a)
			}
			f.Modes = append(f.Modes, mode)
		}
		t.Func = f
		return nil
	case Service:
		n, err := d.count("method count")
		if err != nil {
			return err
		}
		t.Methods = make([]Method, n)
		for i := range t.Methods {
			name, err := d.text()
			if err != nil {
				return err
			}
			if i > 0 && name <= t.Methods[i-1].Name {
				return d.errf("method names not sorted (%q after %q)", name, t.Methods[i-1].Name)
			}
			mt, err := d.typeRef(table)
			if err != nil {
				return err
			}
			t.Methods[i] = Method{Name: name, Type: mt}
		}
		return nil
	}
	return d.errf("type table entry with opcode %d is not a constructor", op)
}

func (d *decoder) typeList(table []*Type) ([]*Type, error) {
	n, err := d.count("type list length")
	if err != nil {
		return nil, err
	}
	ts := make([]*Type, n)
	for i := range ts {
		if ts[i], err = d.typeRef(table); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// typeRef reads a type: a primitive opcode or a table index.
func (d *decoder) typeRef(table []*Type) (*Type, error) {
	op, err := d.sleb64()
	if err != nil {
		return nil, err
	}
	if op >= 0 {
		if op >= int64(len(table)) {
			return nil, d.errf("type index %d out of range (table has %d)", op, len(table))
		}
		return table[op], nil
	}
	if d.motoko && op == int64(MotokoRegion) {
		return Prim(MotokoRegion), nil
	}
	if op < math.MinInt8 || !Kind(op).primitive() {
		return nil, d.errf("opcode %d is not a primitive type", op)
	}
	return Prim(Kind(op)), nil
}

// value decodes a value of wire type t; want (possibly nil) names fields.
func (d *decoder) value(t, want *Type, depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, d.errf("values nested deeper than %d", maxDepth)
	}
	if d.budget--; d.budget < 0 {
		return Value{}, d.errf("more values than a message of %d bytes may hold", len(d.b))
	}
	// The declared type only names fields; where it does not match the
	// wire type it is dropped, except that a declared opt T still names
	// a wire T (T <: opt T).
	if want != nil && want.Kind == Opt && t.Kind != Opt {
		want = want.Elem
	}
	if want != nil && want.Kind != t.Kind {
		want = nil
	}
	v := Value{Type: t}
	var err error
	switch t.Kind {
	case Null, Reserved:
	case Empty:
		return v, d.errf("a value of type empty cannot exist")
	case Bool:
		var c byte
		if c, err = d.byte(); err == nil {
			if c > 1 {
				err = d.errf("bool byte %d", c)
			}
			v.Bool = c == 1
		}
	case Nat:
		v.Int, err = d.bigLEB(false)
	case Int:
		v.Int, err = d.bigLEB(true)
	case Nat8, Nat16, Nat32, Nat64:
		v.Int, err = d.fixed(t.Kind, false)
	case Int8, Int16, Int32, Int64:
		v.Int, err = d.fixed(t.Kind, true)
	case Float32:
		var b []byte
		if b, err = d.take(4); err == nil {
			v.Float = float64(math.Float32frombits(le32(b)))
		}
	case Float64:
		var b []byte
		if b, err = d.take(8); err == nil {
			v.Float = math.Float64frombits(le64(b))
		}
	case Text:
		v.Text, err = d.text()
	case Principal:
		v.Bytes, err = d.principal()
	case Service:
		v.Bytes, err = d.principal()
	case Func:
		if _, err = d.reference("func"); err == nil {
			if v.Bytes, err = d.principal(); err == nil {
				v.Text, err = d.text()
			}
		}
	case Opt:
		var c byte
		if c, err = d.byte(); err != nil {
			break
		}
		switch c {
		case 0:
		case 1:
			var e Value
			if e, err = d.value(t.Elem, elemOf(want), depth+1); err == nil {
				v.Elems = []Value{e}
			}
		default:
			err = d.errf("opt tag %d", c)
		}
	case Vec:
		var n int
		if n, err = d.vecLen(t.Elem); err != nil {
			break
		}
		if t.isBlob() {
			v.Bytes, err = d.take(n)
			v.Bytes = bytes.Clone(v.Bytes)
			break
		}
		v.Elems = make([]Value, 0, min(n, 1024))
		for range n {
			var e Value
			if e, err = d.value(t.Elem, elemOf(want), depth+1); err != nil {
				break
			}
			v.Elems = append(v.Elems, e)
		}
	case Record:
		v.Fields = make([]FieldValue, len(t.Fields))
		for i, f := range t.Fields {
			wf, _ := fieldOf(want, f.ID)
			fv, err := d.value(f.Type, wf.Type, depth+1)
			if err != nil {
				return v, err
			}
			v.Fields[i] = FieldValue{ID: f.ID, Name: labelFor(f, wf), Value: fv}
		}
	case Variant:
		var idx uint64
		if idx, err = d.uleb64(); err != nil {
			break
		}
		if idx >= uint64(len(t.Fields)) {
			err = d.errf("variant index %d out of range (%d alternatives)", idx, len(t.Fields))
			break
		}
		f := t.Fields[idx]
		wf, _ := fieldOf(want, f.ID)
		var fv Value
		if fv, err = d.value(f.Type, wf.Type, depth+1); err == nil {
			v.Fields = []FieldValue{{ID: f.ID, Name: labelFor(f, wf), Value: fv}}
		}
	case MotokoAlias:
		var shared bool
		if shared, err = d.aliasTag(&v); err != nil || shared {
			break
		}
		var e Value
		if e, err = d.value(t.Elem, nil, depth+1); err == nil {
			v.Elems = []Value{e}
		}
	case MotokoRegion:
		var shared bool
		if shared, err = d.aliasTag(&v); err != nil || shared {
			break
		}
		v.Fields, err = d.region()
	default:
		err = d.errf("unknown type opcode %d", t.Kind)
	}
	return v, err
}

// aliasTag reads the start of a Motoko alias value. For a back reference
// (shared is true) it stores the relative offset in v.Int; for a first
// occurrence it skips the decoder scratch space before the value.
func (d *decoder) aliasTag(v *Value) (shared bool, err error) {
	tag, err := d.byte()
	if err != nil {
		return false, err
	}
	switch tag {
	case 0:
		_, err = d.take(8)
		return false, err
	case 1:
		b, err := d.take(4)
		if err != nil {
			return true, err
		}
		v.Int = big.NewInt(int64(int32(le32(b))))
		return true, nil
	}
	return false, d.errf("alias tag %d", tag)
}

// region reads a Motoko region's id, page count and page table.
func (d *decoder) region() ([]FieldValue, error) {
	id, err := d.take(8)
	if err != nil {
		return nil, err
	}
	count, err := d.take(4)
	if err != nil {
		return nil, err
	}
	n, err := d.count("region page table length")
	if err != nil {
		return nil, err
	}
	pages, _ := d.take(n)
	return []FieldValue{
		{ID: 0, Name: "id", Value: Value{Type: Prim(Nat64), Int: new(big.Int).SetUint64(le64(id))}},
		{ID: 1, Name: "page_count", Value: Value{Type: Prim(Nat32), Int: big.NewInt(int64(le32(count)))}},
		{ID: 2, Name: "page_table", Value: Value{Type: VecOf(Prim(Nat8)), Bytes: bytes.Clone(pages)}},
	}, nil
}

func elemOf(t *Type) *Type {
	if t == nil {
		return nil
	}
	return t.Elem
}

func fieldOf(t *Type, id uint32) (Field, bool) {
	if t == nil {
		return Field{}, false
	}
	return t.field(id)
}

// labelFor names a decoded field: the declared name when known, else the
// wire field's guessed common name, else nothing (the hash is shown).
func labelFor(f, declared Field) string {
	if declared.Name != "" {
		return declared.Name
	}
	return f.Name
}

// vecLen reads a vector length and rejects lengths the remaining input
// cannot hold when each element takes at least one byte.
func (d *decoder) vecLen(elem *Type) (int, error) {
	n, err := d.uleb64()
	if err != nil {
		return 0, err
	}
	if n > uint64(d.budget) || (takesBytes(elem) && n > uint64(len(d.b)-d.pos)) {
		return 0, d.errf("vec length %d exceeds the %d bytes left", n, len(d.b)-d.pos)
	}
	return int(n), nil
}

// takesBytes reports whether every value of t occupies at least one byte.
func takesBytes(t *Type) bool {
	switch t.Kind {
	case Null, Reserved, Record:
		return false
	}
	return true
}

func (d *decoder) reference(what string) ([]byte, error) {
	c, err := d.byte()
	if err != nil {
		return nil, err
	}
	switch c {
	case 1:
		return nil, nil
	case 0:
		return nil, d.errf("opaque %s reference is not supported", what)
	}
	return nil, d.errf("%s reference tag %d", what, c)
}

func (d *decoder) principal() ([]byte, error) {
	if _, err := d.reference("principal"); err != nil {
		return nil, err
	}
	n, err := d.uleb64()
	if err != nil {
		return nil, err
	}
	if n > principal.MaxLen {
		return nil, d.errf("%v (%d)", errPrincipalLen, n)
	}
	b, err := d.take(int(n))
	return bytes.Clone(b), err
}

func (d *decoder) text() (string, error) {
	n, err := d.uleb64()
	if err != nil {
		return "", err
	}
	if n > uint64(len(d.b)-d.pos) {
		return "", d.errf("text length %d exceeds the %d bytes left", n, len(d.b)-d.pos)
	}
	b, _ := d.take(int(n))
	if !utf8.Valid(b) {
		return "", d.errf("text is not valid UTF-8")
	}
	return string(b), nil
}

func (d *decoder) fixed(k Kind, signed bool) (*big.Int, error) {
	size := fixedSize(k)
	b, err := d.take(size)
	if err != nil {
		return nil, err
	}
	var u uint64
	for i := size - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	if !signed {
		return new(big.Int).SetUint64(u), nil
	}
	shift := 64 - 8*uint(size)
	return big.NewInt(int64(u<<shift) >> shift), nil
}

// bigLEB reads an unsigned or signed LEB128 number of any size.
func (d *decoder) bigLEB(signed bool) (*big.Int, error) {
	start := d.pos
	for {
		c, err := d.byte()
		if err != nil {
			return nil, err
		}
		if c&0x80 == 0 {
			break
		}
	}
	return lebValue(d.b[start:d.pos], signed), nil
}

// modeName and modeCode map func annotations to their wire bytes.
func modeName(code byte) string {
	switch code {
	case 1:
		return "query"
	case 2:
		return "oneway"
	case 3:
		return "composite_query"
	}
	return ""
}

func modeCode(name string) byte {
	for c := byte(1); c <= 3; c++ {
		if modeName(c) == name {
			return c
		}
	}
	return 0
}
