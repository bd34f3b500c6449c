// Package motoko reads Motoko's stable signatures (the
// motoko:stable-types metadata moc writes, its .most file format) and
// decides whether an upgrade from one to another is compatible, with the
// two rules moc applies:
//
//   - MemoryCompatible is the runtime's check on an upgrade with enhanced
//     orthogonal persistence (motoko-rts/src/persistence/compatibility.rs,
//     memory_compatible in motoko-rts/src/idl.rs): when it fails, the new
//     module's initialisation traps with "Memory-incompatible program
//     upgrade" and the IC rolls the upgrade back.
//   - StableCompatible is moc's static check, `moc --stable-compatible`
//     (src/mo_frontend/stability.ml, match_stab_sig, over sub and
//     stable_sub in src/mo_types/type.ml), which dfx and icp-cli run before
//     deploying: stricter (no dropped variables, no lossy promotions).
package motoko

import (
	"fmt"
	"strings"
)

// Kind is the constructor of a Type.
type Kind int

// Kinds of Type, as moc's Type.typ (src/mo_types/type.ml).
const (
	KindPrim    Kind = iota // Name: Nat, Int, Nat8 … Int64, Float, Bool, Char, Text, Blob, Principal, Null, Error, Region
	KindAny                 // Any
	KindNone                // None
	KindCon                 // Name<Args>: a type definition of the signature
	KindVar                 // Name: a type parameter (of a definition or a function)
	KindOpt                 // ?Elem
	KindArray               // [Elem]; [var T] is an array of Mut T
	KindMut                 // var Elem (record fields, array elements)
	KindWeak                // weak Elem
	KindTuple               // (Elems…); () is the unit type
	KindObject              // Sort{Fields}: records ("object"), actors, modules
	KindVariant             // {#Fields}
	KindFunc                // Func
	KindAsync               // async Elem (in function results)
)

// Type is a Motoko type as moc prints it into a stable signature.
type Type struct {
	Kind Kind
	// Name is the primitive, definition or type parameter name.
	Name string
	// Args are a definition's type arguments.
	Args []*Type
	// Elem is the element of Opt, Array, Mut, Weak and Async.
	Elem *Type
	// Elems are a tuple's components.
	Elems []*Type
	// Sort is an object's sort: "object" (a record), "actor", "module" or
	// "memory".
	Sort string
	// Fields are an object's fields or a variant's tags, sorted by name
	// (moc's compare_field); a `var` field's type is a Mut.
	Fields []Field
	// Func describes a function type.
	Func *Func
	// Bound is a type parameter's bound (nil: Any).
	Bound *Type
}

// Field is an object field or a variant tag.
type Field struct {
	Name string
	Type *Type
}

// Func is a function type: Sort is "" (local), "shared", "shared query"
// or "shared composite query"; Oneway marks a shared function that returns
// () without a future (moc's Returns control), otherwise a shared function
// promises its Results (async).
type Func struct {
	Sort    string
	Params  []Param
	Args    []*Type
	Results []*Type
	Oneway  bool
	// Async is set when the results are written as `async T` (moc's
	// Promises control); a local function returns its results directly.
	Async bool
}

// Param is a type parameter with its bound (nil: Any).
type Param struct {
	Name  string
	Bound *Type
}

// Def is a type definition `type Name<Params> = Body` of a signature.
type Def struct {
	Name   string
	Params []Param
	Body   *Type
}

// Variable is one stable variable of a signature.
type Variable struct {
	Name string
	// Type is the variable's type without the `var`.
	Type *Type
	// Mutable: declared `stable var` (moc ignores mutability across an
	// upgrade: the variables are never aliased).
	Mutable bool
	// Required marks a variable a migration function requires from the
	// previous version (`in` in a version 3 pre-signature).
	Required bool
}

// Signature is a parsed stable signature (.most).
type Signature struct {
	// Version is the format version of the `// Version:` line: "1.0.0"
	// for a single signature, "3.0.0" for a migration's pre and post.
	Version string
	// Defs are the type definitions, in the text's order.
	Defs []*Def
	// Pre lists the variables the new program reads on upgrade (a
	// migration's input, version 3); nil for a single signature, whose
	// Post serves as both.
	Pre []Variable
	// Post lists the variables the program declares (what it leaves for
	// the next upgrade).
	Post []Variable

	defs map[string]*Def
}

// PreVariables returns what an upgrade to this signature reads: the
// migration's pre-signature, else every declared variable, none required
// (moc's Type.pre).
func (s *Signature) PreVariables() []Variable {
	if s.Pre != nil {
		return s.Pre
	}
	out := make([]Variable, len(s.Post))
	for i, v := range s.Post {
		v.Required = false
		out[i] = v
	}
	return out
}

// Def returns the type definition name, nil when there is none.
func (s *Signature) Def(name string) *Def { return s.defs[name] }

// String prints t in Motoko syntax, as moc does.
func (t *Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Type) write(b *strings.Builder) {
	switch t.Kind {
	case KindPrim, KindVar:
		b.WriteString(t.Name)
	case KindAny:
		b.WriteString("Any")
	case KindNone:
		b.WriteString("None")
	case KindCon:
		b.WriteString(t.Name)
		if len(t.Args) > 0 {
			b.WriteByte('<')
			for i, a := range t.Args {
				if i > 0 {
					b.WriteString(", ")
				}
				a.write(b)
			}
			b.WriteByte('>')
		}
	case KindOpt:
		b.WriteByte('?')
		t.Elem.writeUnary(b)
	case KindWeak:
		b.WriteString("weak ")
		t.Elem.writeUnary(b)
	case KindArray:
		b.WriteByte('[')
		t.Elem.write(b)
		b.WriteByte(']')
	case KindMut:
		b.WriteString("var ")
		t.Elem.writeUnary(b)
	case KindAsync:
		b.WriteString("async ")
		t.Elem.write(b)
	case KindTuple:
		b.WriteByte('(')
		for i, e := range t.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			e.write(b)
		}
		if len(t.Elems) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case KindObject:
		if t.Sort != "object" {
			b.WriteString(t.Sort + " ")
		}
		b.WriteByte('{')
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString("; ")
			}
			if f.Type.Kind == KindMut {
				b.WriteString("var " + f.Name + " : ")
				f.Type.Elem.write(b)
				continue
			}
			b.WriteString(f.Name + " : ")
			f.Type.write(b)
		}
		b.WriteByte('}')
	case KindVariant:
		if len(t.Fields) == 0 {
			b.WriteString("{#}")
			return
		}
		b.WriteByte('{')
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString("#" + f.Name)
			if !(f.Type.Kind == KindTuple && len(f.Type.Elems) == 0) {
				b.WriteString(" : ")
				f.Type.write(b)
			}
		}
		b.WriteByte('}')
	case KindFunc:
		f := t.Func
		if f.Sort != "" {
			b.WriteString(f.Sort + " ")
		}
		if len(f.Params) > 0 {
			b.WriteByte('<')
			for i, p := range f.Params {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(p.Name)
				if p.Bound != nil {
					b.WriteString(" <: ")
					p.Bound.write(b)
				}
			}
			b.WriteByte('>')
		}
		writeSeq(b, f.Args)
		b.WriteString(" -> ")
		if f.Async {
			b.WriteString("async ")
		}
		writeSeq(b, f.Results)
	default:
		fmt.Fprintf(b, "<kind %d>", t.Kind)
	}
}

// writeUnary prints t where only a unary type may stand (after ? and var).
func (t *Type) writeUnary(b *strings.Builder) {
	switch t.Kind {
	case KindFunc, KindAsync, KindMut:
		b.WriteByte('(')
		t.write(b)
		b.WriteByte(')')
	case KindObject:
		if t.Sort != "object" {
			b.WriteByte('(')
			t.write(b)
			b.WriteByte(')')
			return
		}
		t.write(b)
	default:
		t.write(b)
	}
}

// writeSeq prints a function's argument or result sequence: one type
// bare (a tuple in an extra pair of parentheses), several as a tuple.
func writeSeq(b *strings.Builder, ts []*Type) {
	if len(ts) == 1 {
		if ts[0].Kind == KindTuple {
			b.WriteByte('(')
			ts[0].write(b)
			b.WriteByte(')')
			return
		}
		ts[0].writeUnary(b)
		return
	}
	(&Type{Kind: KindTuple, Elems: ts}).write(b)
}
