package motoko

import (
	"errors"
	"fmt"
	"sort"
)

// The runtime's upgrade check with enhanced orthogonal persistence. On
// upgrade the new module's initialisation registers its stable type
// (register_stable_type, motoko-rts/src/persistence.rs) and the RTS
// compares it with the type the old module stored in the heap
// (memory_compatible, motoko-rts/src/persistence/compatibility.rs, over
// the type tables of motoko-rts/src/idl.rs); when they do not match it
// traps with RTSTrap. The types are the ones moc's type_desc writes in
// Persistence mode (src/codegen/compile_enhanced.ml): the actor is an
// object of its stable variables, each an option of its immutable type
// (src/lowering/desugar.ml: T.Opt (T.as_immut typ)), compared from the
// old version's declared variables to the new version's pre-signature
// (compile_enhanced.ml: save registers the post type, load the pre type).

// RTSTrap is the message moc's runtime traps with when the check fails
// (motoko-rts/src/persistence.rs, update_stable_type).
const RTSTrap = "Memory-incompatible program upgrade"

// The IDL codes of type_desc (compile_enhanced.ml, to_idl_prim and the
// constructors; rts/motoko-rts/src/idl.rs): negative primitives and
// constructors, alias 1 for mutable values.
const (
	idlNull      = -1
	idlBool      = -2
	idlNat       = -3
	idlInt       = -4
	idlNat8      = -5
	idlNat16     = -6
	idlNat32     = -7 // Nat32 and Char
	idlNat64     = -8
	idlInt8      = -9
	idlInt16     = -10
	idlInt32     = -11
	idlInt64     = -12
	idlFloat     = -14
	idlText      = -15
	idlReserved  = -16 // Any
	idlEmpty     = -17 // None
	idlOpt       = -18
	idlVec       = -19
	idlRecord    = -20
	idlVariant   = -21
	idlFunc      = -22
	idlService   = -23
	idlPrincipal = -24
	idlRegion    = -128
	idlBlob      = -129
	idlTuple     = -130
	idlWeak      = -131
	idlAlias     = 1
)

var primCodes = map[string]int{
	"Null": idlNull, "Bool": idlBool, "Nat": idlNat, "Int": idlInt, "Nat8": idlNat8, "Nat16": idlNat16,
	"Nat32": idlNat32, "Char": idlNat32, "Nat64": idlNat64, "Int8": idlInt8, "Int16": idlInt16,
	"Int32": idlInt32, "Int64": idlInt64, "Float": idlFloat, "Text": idlText, "Principal": idlPrincipal,
	"Region": idlRegion, "Blob": idlBlob,
}

// isPrimitive is idl.rs's is_primitive_type in MemoryCompatibility mode.
func isPrimitive(code int) bool {
	return code < 0 && (code >= idlEmpty || code == idlPrincipal || code == idlRegion || code == idlBlob)
}

type variance int

const (
	covariant variance = iota
	contravariant
	invariant
)

func (v variance) invert() variance {
	switch v {
	case covariant:
		return contravariant
	case contravariant:
		return covariant
	}
	return invariant
}

// Incompatibility is why an upgrade between two stable signatures fails.
type Incompatibility struct {
	// Code is moc's error code for the static check (M0169: a dropped or
	// missing variable, M0170: not a subtype, M0216: a lossy promotion),
	// empty for the runtime's check.
	Code string `json:"code,omitempty"`
	// Variable is the stable variable concerned.
	Variable string `json:"variable"`
	// Old and New are its types in the two versions, "" where absent.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Reason says where the two types part.
	Reason string `json:"reason"`
}

// Error names the variable, its two types and the reason.
func (i *Incompatibility) Error() string {
	switch {
	case i.Old != "" && i.New != "":
		return fmt.Sprintf("stable variable %s: the old type %s is not compatible with the new type %s: %s", i.Variable, i.Old, i.New, i.Reason)
	case i.Old != "":
		return fmt.Sprintf("stable variable %s : %s: %s", i.Variable, i.Old, i.Reason)
	}
	return fmt.Sprintf("stable variable %s : %s: %s", i.Variable, i.New, i.Reason)
}

// MemoryCompatible applies the runtime's check of an upgrade from a
// module with stable signature old to one with next, as moc's RTS does
// with enhanced orthogonal persistence. It returns nil when the upgrade
// passes, an *Incompatibility when the RTS traps with RTSTrap, and another
// error when a signature holds a type moc never lays out in stable memory.
func MemoryCompatible(old, next *Signature) error {
	c := &rtsCheck{visited: map[string]bool{}}
	oldActor := actorFields(old.Post)
	newActor := actorFields(next.PreVariables())
	// The main actor rule (idl.rs, the `main_actor` record case): new
	// variables may be inserted, the old ones must stay and match.
	n1, n2 := len(oldActor), len(newActor)
	i, j := 0, 0
	for n1 > 0 && n2 > 0 {
		f1, f2 := oldActor[i], newActor[j]
		i, j = i+1, j+1
		n1, n2 = n1-1, n2-1
		for f1.hash != f2.hash {
			if f1.hash < f2.hash {
				return dropped(f1)
			}
			if n2 == 0 {
				// idl.rs returns true here: the remaining old variables
				// are not compared.
				return nil
			}
			f2 = newActor[j]
			j, n2 = j+1, n2-1
		}
		ok, err := c.compat(covariant, old, next, f1.typ, f2.typ)
		if err != nil {
			return fmt.Errorf("stable variable %s: %w", f1.name, err)
		}
		if !ok {
			return &Incompatibility{Variable: f1.name, Old: f1.v.Type.String(), New: f2.v.Type.String(), Reason: c.why}
		}
	}
	if n1 > 0 {
		return dropped(oldActor[i])
	}
	return nil
}

func dropped(f actorField) error {
	return &Incompatibility{Variable: f.name, Old: f.v.Type.String(),
		Reason: "the new version does not declare it (the runtime refuses to discard a stable variable)"}
}

type actorField struct {
	name string
	hash uint32
	typ  *Type // ?T, as the actor's memory type holds it
	v    Variable
}

// actorFields is the actor's memory type: each variable an option of its
// immutable type, ordered by field hash.
func actorFields(vs []Variable) []actorField {
	out := make([]actorField, len(vs))
	for i, v := range vs {
		out[i] = actorField{name: v.Name, hash: labelHash(v.Name), typ: &Type{Kind: KindOpt, Elem: v.Type}, v: v}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].hash < out[j].hash })
	return out
}

type rtsCheck struct {
	// visited holds the pairs assumed related while their check runs
	// (idl.rs's BitRel cache), keyed by variance, signature and type.
	visited map[string]bool
	// why is the first (innermost) reason a check failed.
	why string
}

func (c *rtsCheck) fail(format string, args ...any) bool {
	if c.why == "" {
		c.why = fmt.Sprintf(format, args...)
	}
	return false
}

// entry is a type's type-table entry: its code and what it refers to.
type entry struct {
	t    *Type // normalized
	code int
	// elem is the referenced type of alias, opt, vec and weak.
	elem *Type
	// fields are a record's or variant's fields by hash, a tuple's
	// components by index, a service's methods by name.
	fields []hashed
}

type hashed struct {
	name string
	hash uint32
	typ  *Type
}

var errNotStable = errors.New("not a stable type")

// entryOf is type_desc's encoding of t.
func entryOf(s *Signature, t *Type) (entry, error) {
	n, err := s.normalize(t)
	if err != nil {
		return entry{}, err
	}
	e := entry{t: n}
	switch n.Kind {
	case KindPrim:
		code, ok := primCodes[n.Name]
		if !ok {
			return e, fmt.Errorf("%s: %w", n.Name, errNotStable)
		}
		e.code = code
	case KindAny:
		e.code = idlReserved
	case KindNone:
		e.code = idlEmpty
	case KindTuple:
		if len(n.Elems) == 0 {
			e.code = idlNull
			break
		}
		e.code = idlTuple
		for i, el := range n.Elems {
			e.fields = append(e.fields, hashed{hash: uint32(i), typ: el})
		}
	case KindObject:
		switch n.Sort {
		case "object", "memory":
			e.code = idlRecord
			for _, f := range n.Fields {
				e.fields = append(e.fields, hashed{name: f.Name, hash: labelHash(f.Name), typ: f.Type})
			}
			sort.SliceStable(e.fields, func(i, j int) bool { return e.fields[i].hash < e.fields[j].hash })
		case "actor":
			e.code = idlService
			for _, f := range n.Fields {
				e.fields = append(e.fields, hashed{name: f.Name, typ: f.Type})
			}
		default:
			return e, fmt.Errorf("%s: %w", n, errNotStable)
		}
	case KindVariant:
		e.code = idlVariant
		for _, f := range n.Fields {
			e.fields = append(e.fields, hashed{name: f.Name, hash: labelHash(f.Name), typ: f.Type})
		}
		sort.SliceStable(e.fields, func(i, j int) bool { return e.fields[i].hash < e.fields[j].hash })
	case KindArray:
		if n.Elem.Kind == KindMut {
			// [var T] is an alias of [T] (Note [mutable stable values]).
			e.code, e.elem = idlAlias, &Type{Kind: KindArray, Elem: n.Elem.Elem}
			break
		}
		e.code, e.elem = idlVec, n.Elem
	case KindMut:
		e.code, e.elem = idlAlias, n.Elem
	case KindOpt:
		e.code, e.elem = idlOpt, n.Elem
	case KindWeak:
		e.code, e.elem = idlWeak, n.Elem
	case KindFunc:
		if n.Func.Sort == "" {
			return e, fmt.Errorf("%s: a local function is %w", n, errNotStable)
		}
		e.code = idlFunc
	default:
		return e, fmt.Errorf("%s: %w", n, errNotStable)
	}
	return e, nil
}

// annotations are a shared function's Candid annotations as type_desc
// writes them: oneway 2, query 1, composite query 3.
func annotations(f *Func) int {
	switch {
	case f.Oneway:
		return 2
	case f.Sort == "shared query":
		return 1
	case f.Sort == "shared composite query":
		return 3
	}
	return 0
}

// compat is idl.rs's memory_compatible below the main actor: whether t2
// (of s2) may replace t1 (of s1) under variance v.
func (c *rtsCheck) compat(v variance, s1, s2 *Signature, t1, t2 *Type) (bool, error) {
	e1, err := entryOf(s1, t1)
	if err != nil {
		return false, err
	}
	e2, err := entryOf(s2, t2)
	if err != nil {
		return false, err
	}
	if !isPrimitive(e1.code) && !isPrimitive(e2.code) {
		k1 := fmt.Sprintf("%p %s", s1, e1.t)
		k2 := fmt.Sprintf("%p %s", s2, e2.t)
		co, contra := "co "+k1+" | "+k2, "contra "+k1+" | "+k2
		switch v {
		case covariant:
			if c.visited[co] {
				return true, nil
			}
			c.visited[co] = true
		case contravariant:
			if c.visited[contra] {
				return true, nil
			}
			c.visited[contra] = true
		case invariant:
			back := "contra " + k2 + " | " + k1
			if c.visited[co] && c.visited[back] {
				return true, nil
			}
			c.visited[co], c.visited[back] = true, true
		}
	}
	if isPrimitive(e1.code) && isPrimitive(e2.code) && e1.code == e2.code {
		return true, nil
	}
	u1, u2 := e1.code, e2.code
	switch {
	case u1 == idlAlias && u2 == idlAlias:
		ok, err := c.compat(invariant, s1, s2, e1.elem, e2.elem)
		if !ok && err == nil {
			c.fail("a mutable value's type must stay the same: %s is not %s", e1.t, e2.t)
		}
		return ok, err
	case u1 == idlReserved && u2 == idlReserved, u1 == idlEmpty && u2 == idlEmpty:
		return true, nil
	case u2 == idlReserved:
		return c.fail("promoting %s to Any loses its data", e1.t), nil
	case u1 == idlEmpty, u1 == idlNat && u2 == idlInt:
		if v == invariant {
			return c.fail("%s cannot become %s inside a mutable value", e1.t, e2.t), nil
		}
		return true, nil
	case u2 == idlAlias || u1 == idlAlias:
		return c.fail("%s cannot become %s: a mutable value stays mutable and an immutable one immutable", e1.t, e2.t), nil
	case u1 == idlWeak && u2 == idlWeak, u1 == idlOpt && u2 == idlOpt, u1 == idlVec && u2 == idlVec:
		return c.compat(v, s1, s2, e1.elem, e2.elem)
	case u1 == idlNull && u2 == idlOpt:
		return true, nil
	case u2 == idlOpt:
		return c.fail("%s cannot become the option %s", e1.t, e2.t), nil
	case u1 == idlFunc && u2 == idlFunc:
		return c.funcs(v, s1, s2, e1.t, e2.t)
	case u1 == idlTuple && u2 == idlTuple:
		if len(e1.fields) != len(e2.fields) {
			return c.fail("the tuple %s has %d components, %s %d", e1.t, len(e1.fields), e2.t, len(e2.fields)), nil
		}
		for i := range e1.fields {
			if ok, err := c.compat(v, s1, s2, e1.fields[i].typ, e2.fields[i].typ); !ok || err != nil {
				return ok, err
			}
		}
		return true, nil
	case u1 == idlRecord && u2 == idlRecord:
		// Field preserving record subtyping (idl.rs, "see stable_sub").
		n1 := len(e1.fields)
		i := 0
		for _, f2 := range e2.fields {
			if n1 == 0 {
				return c.fail("field %s is new in %s (a record keeps its fields)", f2.name, e2.t), nil
			}
			f1 := e1.fields[i]
			i, n1 = i+1, n1-1
			if f1.hash < f2.hash {
				return c.fail("field %s of %s is dropped (a record keeps its fields)", f1.name, e1.t), nil
			}
			if f1.hash > f2.hash {
				return c.fail("field %s is new in %s (a record keeps its fields)", f2.name, e2.t), nil
			}
			if ok, err := c.compat(v, s1, s2, f1.typ, f2.typ); !ok || err != nil {
				return ok, err
			}
		}
		if n1 != 0 {
			return c.fail("field %s of %s is dropped (a record keeps its fields)", e1.fields[i].name, e1.t), nil
		}
		return true, nil
	case u1 == idlVariant && u2 == idlVariant:
		n2 := len(e2.fields)
		j := 0
		for _, f1 := range e1.fields {
			if n2 == 0 {
				return c.fail("case #%s of %s is missing from %s", f1.name, e1.t, e2.t), nil
			}
			var f2 hashed
			for {
				f2 = e2.fields[j]
				j, n2 = j+1, n2-1
				if v == invariant || !(f2.hash < f1.hash && n2 > 0) {
					break
				}
			}
			if f1.hash != f2.hash {
				return c.fail("case #%s of %s is missing from %s", f1.name, e1.t, e2.t), nil
			}
			if ok, err := c.compat(v, s1, s2, f1.typ, f2.typ); !ok || err != nil {
				return ok, err
			}
		}
		if v == invariant && n2 != 0 {
			return c.fail("%s adds cases to %s inside a mutable value", e2.t, e1.t), nil
		}
		return true, nil
	case u1 == idlService && u2 == idlService:
		n1 := len(e1.fields)
		i := 0
		for _, f2 := range e2.fields {
			if n1 == 0 {
				return c.fail("method %s of %s is missing from %s", f2.name, e2.t, e1.t), nil
			}
			var f1 hashed
			for {
				f1 = e1.fields[i]
				i, n1 = i+1, n1-1
				if v != invariant && f1.name < f2.name && n1 > 0 {
					continue
				}
				break
			}
			if f1.name != f2.name {
				return c.fail("method %s of %s is missing from %s", f2.name, e2.t, e1.t), nil
			}
			if ok, err := c.compat(v, s1, s2, f1.typ, f2.typ); !ok || err != nil {
				return ok, err
			}
		}
		if v == invariant && n1 != 0 {
			return c.fail("%s drops methods of %s inside a mutable value", e2.t, e1.t), nil
		}
		return true, nil
	}
	return c.fail("%s cannot become %s", e1.t, e2.t), nil
}

// funcs compares two shared function types: the same arities, arguments
// contravariant, results covariant, the same annotations.
func (c *rtsCheck) funcs(v variance, s1, s2 *Signature, t1, t2 *Type) (bool, error) {
	f1, f2 := t1.Func, t2.Func
	if len(f1.Args) != len(f2.Args) || len(f1.Results) != len(f2.Results) {
		return c.fail("the function %s and %s differ in arity", t1, t2), nil
	}
	for i := range f1.Args {
		// NB: idl.rs inverts the variance and swaps the two sides.
		if ok, err := c.compat(v.invert(), s2, s1, f2.Args[i], f1.Args[i]); !ok || err != nil {
			return ok, err
		}
	}
	for i := range f1.Results {
		if ok, err := c.compat(v, s1, s2, f1.Results[i], f2.Results[i]); !ok || err != nil {
			return ok, err
		}
	}
	if annotations(f1) != annotations(f2) {
		return c.fail("the function %s and %s differ in query/oneway annotations", t1, t2), nil
	}
	return true, nil
}
