package candid

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/canscope/canscope/engine/principal"
)

// ParseArgs parses Candid text arguments, `(v1, v2, ...)` (a single value
// without parentheses is accepted too), into typed values. want, when not
// nil, are the method's argument types: literals take their exact types
// (so `42` becomes a nat64 where the method says nat64) and record fields
// their names. Without want, types are inferred as the Candid tools do:
// an unsigned literal is nat, a negative one int, a decimal one float64,
// unless annotated (`42 : nat8`).
func ParseArgs(text string, want []*Type) ([]Value, error) {
	exprs, err := parseArgExprs(text)
	if err != nil {
		return nil, fmt.Errorf("parse Candid arguments: %w", err)
	}
	if want != nil && len(exprs) > len(want) {
		return nil, fmt.Errorf("parse Candid arguments: %d values given, the method takes %d", len(exprs), len(want))
	}
	vals := make([]Value, 0, max(len(exprs), len(want)))
	for i, e := range exprs {
		var w *Type
		if want != nil {
			w = want[i]
		}
		v, err := check(e, w, 0)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
		vals = append(vals, v)
	}
	// Missing trailing arguments of opt, null or reserved type are null,
	// as Candid's subtyping allows.
	for i := len(exprs); i < len(want); i++ {
		v, ok := absent(want[i])
		if !ok {
			return nil, fmt.Errorf("argument %d of type %s is missing", i, want[i].describe())
		}
		vals = append(vals, v)
	}
	return vals, nil
}

// EncodeText parses Candid text arguments (see ParseArgs) and encodes
// them as a DIDL message, the form `--arg` takes.
func EncodeText(text string, want []*Type) ([]byte, error) {
	vals, err := ParseArgs(text, want)
	if err != nil {
		return nil, err
	}
	return Encode(vals)
}

// exprKind classifies parsed, not yet typed, value syntax.
type exprKind int

const (
	exNull exprKind = iota
	exBool
	exNumber
	exText
	exBlob
	exPrincipal
	exService
	exFunc
	exOpt
	exVec
	exRecord
	exVariant
)

// expr is a Candid text value before type checking.
type expr struct {
	kind   exprKind
	pos    int
	text   string // number digits, text bytes, principal text
	method string // func method
	bool   bool
	ann    *Type // `: type` annotation
	elems  []expr
	fields []fieldExpr
}

type fieldExpr struct {
	id    uint32
	name  string
	value expr
}

func parseArgExprs(text string) ([]expr, error) {
	p := &valueParser{lex: &lexer{src: text}}
	var exprs []expr
	tok, err := p.lex.look()
	if err != nil {
		return nil, err
	}
	if tok.kind == tokPunct && tok.text == "(" {
		p.lex.next()
		for {
			if ok, err := p.lex.accept(")"); err != nil {
				return nil, err
			} else if ok {
				break
			}
			e, err := p.annValue(0)
			if err != nil {
				return nil, err
			}
			exprs = append(exprs, e)
			if ok, err := p.lex.accept(","); err != nil {
				return nil, err
			} else if !ok {
				if err := p.lex.expect(")"); err != nil {
					return nil, err
				}
				break
			}
		}
	} else if tok.kind != tokEOF {
		e, err := p.annValue(0)
		if err != nil {
			return nil, err
		}
		exprs = append(exprs, e)
	}
	tp := &typeParser{lex: p.lex}
	if err := tp.end(); err != nil {
		return nil, err
	}
	return exprs, nil
}

type valueParser struct {
	lex *lexer
}

// annValue parses a value with an optional `: type` annotation.
func (p *valueParser) annValue(depth int) (expr, error) {
	e, err := p.value(depth)
	if err != nil {
		return e, err
	}
	if ok, err := p.lex.accept(":"); err != nil || !ok {
		return e, err
	}
	tp := &typeParser{lex: p.lex, defs: map[string]*Type{}}
	t, err := tp.datatype(depth + 1)
	if err != nil {
		return e, err
	}
	if err := tp.resolve(); err != nil {
		return e, err
	}
	e.ann = t
	return e, nil
}

func (p *valueParser) value(depth int) (expr, error) {
	if depth > maxDepth {
		return expr{}, fmt.Errorf("values nested deeper than %d", maxDepth)
	}
	t, err := p.lex.next()
	if err != nil {
		return expr{}, err
	}
	e := expr{pos: t.pos}
	switch t.kind {
	case tokNumber:
		e.kind, e.text = exNumber, t.text
		return e, nil
	case tokText:
		if !utf8.ValidString(t.text) {
			return e, p.lex.errAt(t.pos, "text is not valid UTF-8 (use blob \"...\" for bytes)")
		}
		e.kind, e.text = exText, t.text
		return e, nil
	case tokPunct:
		if t.text == "(" {
			e, err := p.annValue(depth + 1)
			if err != nil {
				return e, err
			}
			return e, p.lex.expect(")")
		}
		return e, p.lex.errAt(t.pos, "want a value, got %s", describe(t))
	case tokEOF:
		return e, p.lex.errAt(t.pos, "want a value, got end of input")
	}
	switch t.text {
	case "null":
		e.kind = exNull
	case "true", "false":
		e.kind, e.bool = exBool, t.text == "true"
	case "nan", "inf":
		e.kind, e.text = exNumber, t.text
	case "opt":
		inner, err := p.value(depth + 1)
		if err != nil {
			return e, err
		}
		e.kind, e.elems = exOpt, []expr{inner}
	case "vec":
		e.kind = exVec
		err = p.block(func() error {
			v, err := p.annValue(depth + 1)
			e.elems = append(e.elems, v)
			return err
		})
	case "record":
		e.kind = exRecord
		var next uint32
		err = p.block(func() error {
			f, err := p.field(depth, false, &next)
			e.fields = append(e.fields, f)
			return err
		})
	case "variant":
		e.kind = exVariant
		var next uint32
		err = p.block(func() error {
			f, err := p.field(depth, true, &next)
			e.fields = append(e.fields, f)
			return err
		})
		if err == nil && len(e.fields) != 1 {
			err = p.lex.errAt(t.pos, "a variant value has exactly one alternative, got %d", len(e.fields))
		}
	case "blob", "principal", "service":
		s, err := p.lex.next()
		if err != nil {
			return e, err
		}
		if s.kind != tokText {
			return e, p.lex.errAt(s.pos, "want a string after %s, got %s", t.text, describe(s))
		}
		e.text = s.text
		switch t.text {
		case "blob":
			e.kind = exBlob
		case "principal":
			e.kind = exPrincipal
		default:
			e.kind = exService
		}
	case "func":
		s, err := p.lex.next()
		if err != nil {
			return e, err
		}
		if s.kind != tokText {
			return e, p.lex.errAt(s.pos, "want a principal string after func, got %s", describe(s))
		}
		if err := p.lex.expect("."); err != nil {
			return e, err
		}
		tp := &typeParser{lex: p.lex}
		m, err := tp.name()
		if err != nil {
			return e, err
		}
		e.kind, e.text, e.method = exFunc, s.text, m
	default:
		return e, p.lex.errAt(t.pos, "want a value, got %s", describe(t))
	}
	return e, err
}

// block parses `{ item; item; ... }` with an optional trailing `;`.
func (p *valueParser) block(item func() error) error {
	if err := p.lex.expect("{"); err != nil {
		return err
	}
	for {
		if ok, err := p.lex.accept("}"); err != nil || ok {
			return err
		}
		if err := item(); err != nil {
			return err
		}
		if ok, err := p.lex.accept(";"); err != nil {
			return err
		} else if !ok {
			return p.lex.expect("}")
		}
	}
}

// field parses `name = v`, `123 = v`, a positional `v` (records) or a
// bare `name` (variants: the alternative carries null).
func (p *valueParser) field(depth int, variant bool, next *uint32) (fieldExpr, error) {
	tok, err := p.lex.look()
	if err != nil {
		return fieldExpr{}, err
	}
	if tok.kind == tokIdent || tok.kind == tokText || tok.kind == tokNumber {
		save := p.lex.mark()
		p.lex.next()
		eq, err := p.lex.accept("=")
		if err != nil {
			return fieldExpr{}, err
		}
		bare := false
		if !eq && variant && tok.kind != tokNumber {
			look, err := p.lex.look()
			if err != nil {
				return fieldExpr{}, err
			}
			bare = look.kind == tokPunct && (look.text == ";" || look.text == "}")
		}
		if eq || bare {
			tp := &typeParser{lex: p.lex}
			id, name, err := tp.label(tok)
			if err != nil {
				return fieldExpr{}, err
			}
			f := fieldExpr{id: id, name: name, value: expr{kind: exNull, pos: tok.pos}}
			if eq {
				if f.value, err = p.annValue(depth + 1); err != nil {
					return f, err
				}
			}
			*next = id + 1
			return f, nil
		}
		p.lex.reset(save)
	}
	if variant {
		return fieldExpr{}, p.lex.errAt(tok.pos, "want `name = value` in a variant")
	}
	v, err := p.annValue(depth + 1)
	f := fieldExpr{id: *next, value: v}
	*next++
	return f, err
}

// check types an expression: against want when given, else by inference.
func check(e expr, want *Type, depth int) (Value, error) {
	if e.ann != nil {
		if want != nil && !sameShape(e.ann, want) {
			return Value{}, fmt.Errorf("value annotated %s where %s is expected", e.ann.describe(), want.describe())
		}
		want = e.ann
	}
	if want == nil {
		want = infer(e)
	}
	return checkAgainst(e, want, depth)
}

// sameShape compares types by kind down to a small depth, enough to catch
// an annotation contradicting the declared type.
func sameShape(a, b *Type) bool {
	if a.Kind != b.Kind {
		return b.Kind == Reserved
	}
	if (a.Kind == Opt || a.Kind == Vec) && a.Elem != nil && b.Elem != nil {
		return a.Elem.Kind == b.Elem.Kind || b.Elem.Kind == Reserved
	}
	return true
}

// infer gives an unannotated expression its default type.
func infer(e expr) *Type {
	switch e.kind {
	case exNull:
		return Prim(Null)
	case exBool:
		return Prim(Bool)
	case exNumber:
		switch {
		case isFloatLiteral(e.text):
			return Prim(Float64)
		case strings.HasPrefix(e.text, "-"), strings.HasPrefix(e.text, "+"):
			return Prim(Int)
		}
		return Prim(Nat)
	case exText:
		return Prim(Text)
	case exBlob:
		return VecOf(Prim(Nat8))
	case exPrincipal:
		return Prim(Principal)
	case exService:
		return &Type{Kind: Service}
	case exFunc:
		return &Type{Kind: Func, Func: &FuncType{}}
	case exOpt:
		return OptOf(inferAnn(e.elems[0]))
	case exVec:
		if len(e.elems) == 0 {
			return VecOf(Prim(Empty))
		}
		return VecOf(inferAnn(e.elems[0]))
	case exRecord, exVariant:
		fs := make([]Field, len(e.fields))
		for i, f := range e.fields {
			fs[i] = Field{ID: f.id, Name: f.name, Type: inferAnn(f.value)}
		}
		if e.kind == exRecord {
			return RecordOf(fs...)
		}
		return VariantOf(fs...)
	}
	return Prim(Reserved)
}

func inferAnn(e expr) *Type {
	if e.ann != nil {
		return e.ann
	}
	return infer(e)
}

func isFloatLiteral(s string) bool {
	if strings.HasPrefix(strings.TrimLeft(s, "+-"), "0x") {
		return strings.Contains(s, ".")
	}
	return strings.ContainsAny(s, ".eE") || strings.HasSuffix(s, "nan") || strings.HasSuffix(s, "inf")
}

// absent returns the value a missing field or argument of type t takes,
// if it may be missing (opt, null, reserved).
func absent(t *Type) (Value, bool) {
	switch t.Kind {
	case Opt, Null, Reserved:
		return Value{Type: t}, true
	}
	return Value{}, false
}

// checkAgainst builds the typed value of e at type t.
func checkAgainst(e expr, t *Type, depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, fmt.Errorf("values nested deeper than %d", maxDepth)
	}
	v := Value{Type: t}
	mismatch := func() error {
		return fmt.Errorf("offset %d: %s value where %s is expected", e.pos, exprName(e.kind), t.describe())
	}
	switch t.Kind {
	case Reserved:
		return v, nil
	case Null:
		if e.kind != exNull {
			return v, mismatch()
		}
	case Bool:
		if e.kind != exBool {
			return v, mismatch()
		}
		v.Bool = e.bool
	case Nat, Int, Nat8, Nat16, Nat32, Nat64, Int8, Int16, Int32, Int64:
		if e.kind != exNumber {
			return v, mismatch()
		}
		n, err := parseInteger(e.text, t.Kind)
		if err != nil {
			return v, fmt.Errorf("offset %d: %w", e.pos, err)
		}
		v.Int = n
	case Float32, Float64:
		if e.kind != exNumber {
			return v, mismatch()
		}
		f, err := parseFloat(e.text, t.Kind)
		if err != nil {
			return v, fmt.Errorf("offset %d: %w", e.pos, err)
		}
		v.Float = f
	case Text:
		if e.kind != exText {
			return v, mismatch()
		}
		v.Text = e.text
	case Principal, Service, Func:
		want := exFunc
		switch t.Kind {
		case Principal:
			want = exPrincipal
		case Service:
			want = exService
		}
		if e.kind != want {
			return v, mismatch()
		}
		id, err := principal.Parse(e.text)
		if err != nil {
			return v, fmt.Errorf("offset %d: %w", e.pos, err)
		}
		v.Bytes, v.Text = id, e.method
	case Opt:
		switch e.kind {
		case exNull:
		case exOpt:
			inner, err := checkElem(e.elems[0], t.Elem, depth)
			if err != nil {
				return v, err
			}
			v.Elems = []Value{inner}
		default:
			return v, mismatch()
		}
	case Vec:
		switch {
		case e.kind == exBlob && t.isBlob():
			v.Bytes = []byte(e.text)
		case e.kind == exVec && t.isBlob():
			v.Bytes = make([]byte, len(e.elems))
			for i, el := range e.elems {
				b, err := checkElem(el, t.Elem, depth)
				if err != nil {
					return v, err
				}
				v.Bytes[i] = byte(b.Int.Uint64())
			}
		case e.kind == exVec:
			v.Elems = make([]Value, len(e.elems))
			for i, el := range e.elems {
				var err error
				if v.Elems[i], err = checkElem(el, t.Elem, depth); err != nil {
					return v, err
				}
			}
		default:
			return v, mismatch()
		}
	case Record:
		if e.kind != exRecord {
			return v, mismatch()
		}
		given := make(map[uint32]int, len(e.fields)) // field id -> index in e.fields
		for i, f := range e.fields {
			if _, dup := given[f.id]; dup {
				return v, fmt.Errorf("offset %d: field %s given twice", e.pos, fieldName(f))
			}
			if _, ok := t.field(f.id); !ok {
				return v, fmt.Errorf("offset %d: field %s is not in %s", f.value.pos, fieldName(f), t.describe())
			}
			given[f.id] = i
		}
		v.Fields = make([]FieldValue, len(t.Fields))
		for i, tf := range t.Fields {
			name := tf.Name
			fi, ok := given[tf.ID]
			if !ok {
				fv, ok := absent(tf.Type)
				if !ok {
					return v, fmt.Errorf("offset %d: field %s of %s is missing", e.pos, labelString(tf), t.describe())
				}
				v.Fields[i] = FieldValue{ID: tf.ID, Name: name, Value: fv}
				continue
			}
			f := &e.fields[fi]
			if name == "" {
				name = f.name
			}
			fv, err := check(f.value, tf.Type, depth+1)
			if err != nil {
				return v, fmt.Errorf("field %s: %w", labelString(tf), err)
			}
			v.Fields[i] = FieldValue{ID: tf.ID, Name: name, Value: fv}
		}
	case Variant:
		if e.kind != exVariant {
			return v, mismatch()
		}
		f := e.fields[0]
		tf, ok := t.field(f.id)
		if !ok {
			return v, fmt.Errorf("offset %d: alternative %s is not in %s", f.value.pos, fieldName(f), t.describe())
		}
		fv, err := check(f.value, tf.Type, depth+1)
		if err != nil {
			return v, fmt.Errorf("alternative %s: %w", labelString(tf), err)
		}
		name := tf.Name
		if name == "" {
			name = f.name
		}
		v.Fields = []FieldValue{{ID: tf.ID, Name: name, Value: fv}}
	case Empty:
		return v, fmt.Errorf("offset %d: no value has type empty", e.pos)
	default:
		return v, mismatch()
	}
	return v, nil
}

func checkElem(e expr, t *Type, depth int) (Value, error) { return check(e, t, depth+1) }

func exprName(k exprKind) string {
	return [...]string{"null", "bool", "number", "text", "blob", "principal", "service", "func", "opt", "vec", "record", "variant"}[k]
}

func fieldName(f fieldExpr) string { return labelString(Field{ID: f.id, Name: f.name}) }

func labelString(f Field) string {
	var b strings.Builder
	writeLabel(&b, f)
	return b.String()
}

// parseInteger parses an integer literal (`_` separators, 0x hex, sign)
// and checks it fits kind k.
func parseInteger(text string, k Kind) (*big.Int, error) {
	s := strings.ReplaceAll(text, "_", "")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	base := 10
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		base, s = 16, s[2:]
	}
	n, ok := new(big.Int).SetString(s, base)
	if !ok || s == "" || len(text) > 1 && strings.Count(text[1:], "+")+strings.Count(text[1:], "-") > 0 {
		return nil, fmt.Errorf("%q is not an integer", text)
	}
	if neg {
		n.Neg(n)
	}
	if !fits(n, k) {
		return nil, fmt.Errorf("%s does not fit %s", text, k)
	}
	return n, nil
}

// fits reports whether n is in the range of integer kind k.
func fits(n *big.Int, k Kind) bool {
	switch k {
	case Int:
		return true
	case Nat:
		return n.Sign() >= 0
	case Nat8, Nat16, Nat32, Nat64:
		bits := 8 * uint(fixedSize(k))
		return n.Sign() >= 0 && n.IsUint64() && n.Uint64()>>(bits-1)>>1 == 0
	}
	bits := 8*uint(fixedSize(k)) - 1
	if !n.IsInt64() {
		return false
	}
	v := n.Int64()
	return v >= -1<<bits && v <= 1<<bits-1
}

func parseFloat(text string, k Kind) (float64, error) {
	s := strings.ReplaceAll(text, "_", "")
	bits := 64
	if k == Float32 {
		bits = 32
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		var numErr *strconv.NumError
		if errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange) {
			return 0, fmt.Errorf("%s does not fit %s", text, k)
		}
		return 0, fmt.Errorf("%q is not a number", text)
	}
	if k == Float32 && !math.IsInf(f, 0) && math.Abs(f) > math.MaxFloat32 {
		return 0, fmt.Errorf("%s does not fit %s", text, k)
	}
	return f, nil
}

// parseNat32 parses a field id.
func parseNat32(text string) (uint32, error) {
	n, err := parseInteger(text, Nat32)
	if err != nil {
		return 0, err
	}
	return uint32(n.Uint64()), nil
}
