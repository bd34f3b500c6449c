package candid

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/canscope/canscope/engine/leb128"
	"github.com/canscope/canscope/engine/principal"
)

// DefaultArg returns the argument dfx and icp-cli send when the user
// gives none: the Candid encoding of `()` ("DIDL\x00\x00"), whatever the
// module's candid:service says, or when it has none. icp-cli:
// crates/icp-cli/src/operations/install.rs (`init_args ... unwrap_or_else(||
// Encode!().unwrap())`); a raw empty argument is not a Candid message, and
// Candid-decoding canisters such as the cycles wallet trap on it.
func DefaultArg() []byte { return []byte(magic + "\x00\x00") }

// Encode encodes typed values as a DIDL message: magic, a type table of
// every compound type the values' types use, the argument types, then the
// values.
func Encode(vals []Value) ([]byte, error) {
	e := &encoder{index: map[*Type]int{}}
	args := make([]int64, len(vals))
	for i, v := range vals {
		if v.Type == nil {
			return nil, fmt.Errorf("encode argument %d: value has no type", i)
		}
		var err error
		if args[i], err = e.typeRef(v.Type, 0); err != nil {
			return nil, fmt.Errorf("encode argument %d: %w", i, err)
		}
	}
	out := append([]byte{}, magic...)
	out = binary.AppendUvarint(out, uint64(len(e.entries)))
	for _, entry := range e.entries {
		out = append(out, entry...)
	}
	out = binary.AppendUvarint(out, uint64(len(args)))
	for _, a := range args {
		out = leb128.AppendInt(out, a)
	}
	for i, v := range vals {
		var err error
		if out, err = e.value(out, v, 0); err != nil {
			return nil, fmt.Errorf("encode argument %d: %w", i, err)
		}
	}
	return out, nil
}

// EncodeValue returns the bytes v occupies inside a message: its value
// encoding without magic or type table. Its length is what a value costs,
// e.g. one Motoko stable variable's share of the serialized state.
func EncodeValue(v Value) ([]byte, error) {
	e := &encoder{index: map[*Type]int{}}
	out, err := e.value(nil, v, 0)
	if err != nil {
		return nil, fmt.Errorf("encode value: %w", err)
	}
	return out, nil
}

type encoder struct {
	index   map[*Type]int
	entries [][]byte
}

// typeRef returns the wire reference of t, adding table entries for it
// and its parts. The index is assigned before the parts are visited, so
// recursive types refer back to themselves.
func (e *encoder) typeRef(t *Type, depth int) (int64, error) {
	if t == nil {
		return 0, fmt.Errorf("missing type")
	}
	if t.Kind.primitive() || t.Kind == MotokoRegion {
		return int64(t.Kind), nil
	}
	if i, ok := e.index[t]; ok {
		return int64(i), nil
	}
	if depth > maxDepth {
		return 0, fmt.Errorf("types nested deeper than %d", maxDepth)
	}
	i := len(e.entries)
	e.index[t] = i
	e.entries = append(e.entries, nil)
	entry := leb128.AppendInt(nil, int64(t.Kind))
	ref := func(t *Type) error {
		r, err := e.typeRef(t, depth+1)
		entry = leb128.AppendInt(entry, r)
		return err
	}
	switch t.Kind {
	case Opt, Vec, MotokoAlias:
		if err := ref(t.Elem); err != nil {
			return 0, err
		}
	case Record, Variant:
		entry = binary.AppendUvarint(entry, uint64(len(t.Fields)))
		for j, f := range t.Fields {
			if j > 0 && f.ID <= t.Fields[j-1].ID {
				return 0, fmt.Errorf("%s fields not sorted by id", t.Kind)
			}
			entry = binary.AppendUvarint(entry, uint64(f.ID))
			if err := ref(f.Type); err != nil {
				return 0, err
			}
		}
	case Func:
		f := t.Func
		if f == nil {
			f = &FuncType{}
		}
		for _, list := range [][]*Type{f.Args, f.Results} {
			entry = binary.AppendUvarint(entry, uint64(len(list)))
			for _, a := range list {
				if err := ref(a); err != nil {
					return 0, err
				}
			}
		}
		entry = binary.AppendUvarint(entry, uint64(len(f.Modes)))
		for _, m := range f.Modes {
			code := modeCode(m)
			if code == 0 {
				return 0, fmt.Errorf("unknown func annotation %q", m)
			}
			entry = append(entry, code)
		}
	case Service:
		entry = binary.AppendUvarint(entry, uint64(len(t.Methods)))
		for _, m := range t.Methods {
			entry = binary.AppendUvarint(entry, uint64(len(m.Name)))
			entry = append(entry, m.Name...)
			if err := ref(m.Type); err != nil {
				return 0, err
			}
		}
	default:
		return 0, fmt.Errorf("unknown type kind %d", t.Kind)
	}
	e.entries[i] = entry
	return int64(i), nil
}

func (e *encoder) value(out []byte, v Value, depth int) ([]byte, error) {
	t := v.Type
	if t == nil {
		return out, fmt.Errorf("value has no type")
	}
	if depth > maxDepth {
		return out, fmt.Errorf("values nested deeper than %d", maxDepth)
	}
	switch t.Kind {
	case Null, Reserved:
		return out, nil
	case Empty:
		return out, fmt.Errorf("no value has type empty")
	case Bool:
		if v.Bool {
			return append(out, 1), nil
		}
		return append(out, 0), nil
	case Nat, Int, Nat8, Nat16, Nat32, Nat64, Int8, Int16, Int32, Int64:
		if v.Int == nil {
			return out, fmt.Errorf("%s value has no number", t.Kind)
		}
		if !fits(v.Int, t.Kind) {
			return out, fmt.Errorf("%s does not fit %s", v.Int, t.Kind)
		}
		switch t.Kind {
		case Nat:
			return appendBigLEB(out, v.Int, false), nil
		case Int:
			return appendBigLEB(out, v.Int, true), nil
		}
		u := v.Int.Uint64()
		if v.Int.Sign() < 0 {
			u = uint64(v.Int.Int64())
		}
		for i := 0; i < fixedSize(t.Kind); i++ {
			out = append(out, byte(u>>(8*i)))
		}
		return out, nil
	case Float32:
		return appendLE(out, uint64(math.Float32bits(float32(v.Float))), 4), nil
	case Float64:
		return appendLE(out, math.Float64bits(v.Float), 8), nil
	case Text:
		if !utf8.ValidString(v.Text) {
			return out, fmt.Errorf("text is not valid UTF-8")
		}
		out = binary.AppendUvarint(out, uint64(len(v.Text)))
		return append(out, v.Text...), nil
	case Principal, Service, Func:
		if len(v.Bytes) > principal.MaxLen {
			return out, errPrincipalLen
		}
		if t.Kind == Func {
			out = append(out, 1) // a func reference, then its service principal
		}
		out = append(out, 1)
		out = binary.AppendUvarint(out, uint64(len(v.Bytes)))
		out = append(out, v.Bytes...)
		if t.Kind == Func {
			out = binary.AppendUvarint(out, uint64(len(v.Text)))
			out = append(out, v.Text...)
		}
		return out, nil
	case Opt:
		if len(v.Elems) == 0 {
			return append(out, 0), nil
		}
		return e.value(append(out, 1), v.Elems[0], depth+1)
	case Vec:
		if t.isBlob() && v.Elems == nil {
			out = binary.AppendUvarint(out, uint64(len(v.Bytes)))
			return append(out, v.Bytes...), nil
		}
		out = binary.AppendUvarint(out, uint64(len(v.Elems)))
		var err error
		for _, el := range v.Elems {
			if out, err = e.value(out, el, depth+1); err != nil {
				return out, err
			}
		}
		return out, nil
	case Record:
		if len(v.Fields) != len(t.Fields) {
			return out, fmt.Errorf("record has %d fields, its type %d", len(v.Fields), len(t.Fields))
		}
		var err error
		for i, f := range v.Fields {
			if f.ID != t.Fields[i].ID {
				return out, fmt.Errorf("record field %d has id %d, its type says %d", i, f.ID, t.Fields[i].ID)
			}
			if out, err = e.value(out, f.Value, depth+1); err != nil {
				return out, err
			}
		}
		return out, nil
	case Variant:
		if len(v.Fields) != 1 {
			return out, fmt.Errorf("variant value has %d alternatives, want 1", len(v.Fields))
		}
		for i, f := range t.Fields {
			if f.ID == v.Fields[0].ID {
				return e.value(binary.AppendUvarint(out, uint64(i)), v.Fields[0].Value, depth+1)
			}
		}
		return out, fmt.Errorf("variant alternative %d is not in %s", v.Fields[0].ID, t.describe())
	case MotokoAlias, MotokoRegion:
		return e.alias(out, v, depth)
	}
	return out, fmt.Errorf("unknown type kind %d", t.Kind)
}

// alias writes a Motoko alias or region value: in full after a zero tag
// and 8 bytes of scratch, or as a back reference.
func (e *encoder) alias(out []byte, v Value, depth int) ([]byte, error) {
	full := len(v.Elems) == 1
	if v.Type.Kind == MotokoRegion {
		full = len(v.Fields) == 3
	}
	if !full {
		if v.Int == nil || !v.Int.IsInt64() {
			return out, fmt.Errorf("%s back reference has no offset", v.Type.Kind)
		}
		return appendLE(append(out, 1), uint64(v.Int.Int64()), 4), nil
	}
	out = append(out, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	if v.Type.Kind == MotokoAlias {
		return e.value(out, v.Elems[0], depth+1)
	}
	id, count, pages := v.Fields[0].Value, v.Fields[1].Value, v.Fields[2].Value
	if id.Int == nil || count.Int == nil {
		return out, fmt.Errorf("region value lacks its id or page count")
	}
	out = appendLE(out, id.Int.Uint64(), 8)
	out = appendLE(out, count.Int.Uint64(), 4)
	out = binary.AppendUvarint(out, uint64(len(pages.Bytes)))
	return append(out, pages.Bytes...), nil
}
