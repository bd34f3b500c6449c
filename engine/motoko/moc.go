package motoko

import (
	"fmt"
)

// StableCompatible is moc's static upgrade check, `moc --stable-compatible
// OLD NEW` (match_stab_sig, src/mo_frontend/stability.ml), which dfx and
// icp-cli run before an upgrade: every variable the old version declares
// must be in the new pre-signature (M0169), with an old type that is a
// subtype of the new one (M0170) and promotes without losing data (M0216:
// stable_sub, no promotion to Any, no dropped record fields); a variable
// the migration requires must exist in the old version (M0169). It
// returns every problem, in variable order, as moc reports them all.
func StableCompatible(old, next *Signature) []Incompatibility {
	var out []Incompatibility
	tfs1, tfs2 := old.Post, next.PreVariables()
	i, j := 0, 0
	for i < len(tfs1) || j < len(tfs2) {
		switch {
		case j == len(tfs2) || i < len(tfs1) && tfs1[i].Name < tfs2[j].Name:
			out = append(out, Incompatibility{Code: "M0169", Variable: tfs1[i].Name, Old: tfs1[i].Type.String(),
				Reason: "the stable variable of the previous version cannot be implicitly discarded; only an explicit migration function can drop it"})
			i++
		case i == len(tfs1) || tfs1[i].Name > tfs2[j].Name:
			if tfs2[j].Required {
				out = append(out, Incompatibility{Code: "M0169", Variable: tfs2[j].Name, New: tfs2[j].Type.String(),
					Reason: "the previous program version does not contain this stable variable, so the migration function cannot require it as input"})
			}
			j++
		default:
			v1, v2 := tfs1[i], tfs2[j]
			i, j = i+1, j+1
			c := &subCheck{seen: map[string]bool{}}
			if !c.rel(true, old, next, v1.Type, v2.Type) {
				out = append(out, Incompatibility{Code: "M0170", Variable: v1.Name, Old: v1.Type.String(), New: v2.Type.String(),
					Reason: "the previous type is not a subtype of the new one: " + c.why})
				continue
			}
			c = &subCheck{seen: map[string]bool{}, stable: true}
			if !c.rel(true, old, next, v1.Type, v2.Type) {
				out = append(out, Incompatibility{Code: "M0216", Variable: v1.Name, Old: v1.Type.String(), New: v2.Type.String(),
					Reason: "the new type implicitly drops data of the previous version: " + c.why})
			}
		}
	}
	return out
}

// maxDepth is rel_typ's recursion bound (RelArg.exceeds_max_depth): past
// it moc gives up ("Undecided"); here the pair counts as unrelated.
const maxDepth = 1000

// subCheck is moc's rel_typ (src/mo_types/type.ml) over two signatures:
// subtyping, or equality where a mutable type requires it, with
// stable_sub's stricter rules when stable is set.
type subCheck struct {
	stable bool
	// seen holds the pairs assumed related while their check runs
	// (rel_typ's rel and eq sets, co-inductively).
	seen  map[string]bool
	why   string
	fresh int
	depth int
}

func (c *subCheck) fail(format string, args ...any) bool {
	if c.why == "" {
		c.why = fmt.Sprintf(format, args...)
	}
	return false
}

// rel relates t1 (of s1) to t2 (of s2): as a subtype when sub, else as
// equal types (moc's eq_typ, rel == eq).
func (c *subCheck) rel(sub bool, s1, s2 *Signature, t1, t2 *Type) bool {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxDepth {
		return c.fail("the types are nested too deeply to decide")
	}
	key := fmt.Sprintf("%t %p %s | %p %s", sub, s1, t1, s2, t2)
	if t1 == t2 && s1 == s2 || c.seen[key] {
		return true
	}
	c.seen[key] = true
	switch {
	case t1.Kind == KindMut && t2.Kind == KindMut:
		return c.rel(false, s1, s2, t1.Elem, t2.Elem)
	case t1.Kind == KindMut || t2.Kind == KindMut:
		return c.fail("%s is not compatible with %s (mutable and immutable)", t1, t2)
	case t1.Kind == KindAny && t2.Kind == KindAny:
		return true
	case t2.Kind == KindAny && sub:
		if c.stable {
			return c.fail("promoting %s to Any loses data", t1)
		}
		return true
	case t1.Kind == KindNone && t2.Kind == KindNone:
		return true
	case t1.Kind == KindNone && sub:
		return true
	case t1.Kind == KindCon:
		n, err := s1.normalize(t1)
		if err != nil {
			return c.fail("%v", err)
		}
		return c.rel(sub, s1, s2, n, t2)
	case t2.Kind == KindCon:
		n, err := s2.normalize(t2)
		if err != nil {
			return c.fail("%v", err)
		}
		return c.rel(sub, s1, s2, t1, n)
	case t1.Kind == KindVar && t2.Kind == KindVar && t1.Name == t2.Name:
		return true
	case t1.Kind == KindVar && sub:
		bound := t1.Bound
		if bound == nil {
			bound = &Type{Kind: KindAny}
		}
		if c.rel(sub, s1, s2, bound, t2) {
			return true
		}
		return c.fail("type variable %s was promoted to its bound %s, which is not compatible with %s", t1, bound, t2)
	case t1.Kind == KindPrim && t2.Kind == KindPrim:
		if t1.Name == t2.Name || sub && t1.Name == "Nat" && t2.Name == "Int" {
			return true
		}
		return c.fail("the type %s is not compatible with type %s", t1, t2)
	case t1.Kind == KindObject && t2.Kind == KindObject:
		if t1.Sort != t2.Sort {
			return c.fail("of incompatible object sorts: %s does not match %s", t1.Sort, t2.Sort)
		}
		return c.fields(sub, s1, s2, t1, t2)
	case t1.Kind == t2.Kind && (t1.Kind == KindArray || t1.Kind == KindOpt || t1.Kind == KindWeak || t1.Kind == KindAsync):
		return c.rel(sub, s1, s2, t1.Elem, t2.Elem)
	case t1.Kind == KindPrim && t1.Name == "Null" && t2.Kind == KindOpt && sub:
		return true
	case t1.Kind == KindVariant && t2.Kind == KindVariant:
		return c.tags(sub, s1, s2, t1, t2)
	case t1.Kind == KindTuple && t2.Kind == KindTuple:
		if len(t1.Elems) != len(t2.Elems) {
			return c.fail("the tuple %s has %d components, %s %d", t1, len(t1.Elems), t2, len(t2.Elems))
		}
		for i := range t1.Elems {
			if !c.rel(sub, s1, s2, t1.Elems[i], t2.Elems[i]) {
				return false
			}
		}
		return true
	case t1.Kind == KindFunc && t2.Kind == KindFunc:
		return c.funcs(sub, s1, s2, t1, t2)
	}
	return c.fail("the type %s is not compatible with type %s", t1, t2)
}

// fields is rel_fields: both sorted by name; a field only the subtype has
// is dropped, which stable_sub refuses (data loss); a field only the
// supertype has is missing.
func (c *subCheck) fields(sub bool, s1, s2 *Signature, t1, t2 *Type) bool {
	f1, f2 := t1.Fields, t2.Fields
	i, j := 0, 0
	for i < len(f1) || j < len(f2) {
		switch {
		case j == len(f2) || i < len(f1) && f1[i].Name < f2[j].Name:
			if !sub || c.stable {
				return c.fail("field `%s` is missing from type %s", f1[i].Name, t2)
			}
			i++
		case i == len(f1) || f1[i].Name > f2[j].Name:
			return c.fail("expected field `%s` is missing from type %s", f2[j].Name, t1)
		default:
			if !c.rel(sub, s1, s2, f1[i].Type, f2[j].Type) {
				return false
			}
			i, j = i+1, j+1
		}
	}
	return true
}

// tags is rel_tags: the supertype may add cases, never lose one.
func (c *subCheck) tags(sub bool, s1, s2 *Signature, t1, t2 *Type) bool {
	f1, f2 := t1.Fields, t2.Fields
	i, j := 0, 0
	for i < len(f1) || j < len(f2) {
		switch {
		case j == len(f2) || i < len(f1) && f1[i].Name < f2[j].Name:
			return c.fail("case `#%s` is missing from type %s", f1[i].Name, t2)
		case i == len(f1) || f1[i].Name > f2[j].Name:
			if !sub {
				return c.fail("expected case `#%s` is missing from type %s", f2[j].Name, t1)
			}
			j++
		default:
			if !c.rel(sub, s1, s2, f1[i].Type, f2[j].Type) {
				return false
			}
			i, j = i+1, j+1
		}
	}
	return true
}

// funcs compares function types: the same sort and control, type
// parameters with equal bounds (opened to shared fresh variables, as
// rel_binds does), arguments contravariant and results covariant.
func (c *subCheck) funcs(sub bool, s1, s2 *Signature, t1, t2 *Type) bool {
	a, b := t1.Func, t2.Func
	if a.Sort != b.Sort {
		return c.fail("of incompatible function modifiers: %q does not match %q", a.Sort, b.Sort)
	}
	if a.Oneway != b.Oneway || a.Async != b.Async {
		return c.fail("of incompatible function controls: %s does not match %s", t1, t2)
	}
	if len(a.Params) != len(b.Params) {
		return c.fail("of incompatible function types: %s does not match %s", t1, t2)
	}
	sa, sb := map[string]*Type{}, map[string]*Type{}
	for i := range a.Params {
		c.fresh++
		name := fmt.Sprintf("$%d", c.fresh)
		sa[a.Params[i].Name] = &Type{Kind: KindVar, Name: name}
		sb[b.Params[i].Name] = &Type{Kind: KindVar, Name: name}
	}
	for i := range a.Params {
		ba, bb := boundOf(a.Params[i]), boundOf(b.Params[i])
		ba, bb = substitute(ba, sa), substitute(bb, sb)
		sa[a.Params[i].Name].Bound, sb[b.Params[i].Name].Bound = ba, bb
		if !c.rel(false, s2, s1, bb, ba) {
			return c.fail("of incompatible function types: %s does not match %s", t1, t2)
		}
	}
	args1, args2 := substituteAll(a.Args, sa), substituteAll(b.Args, sb)
	res1, res2 := substituteAll(a.Results, sa), substituteAll(b.Results, sb)
	if len(args1) != len(args2) {
		return c.fail("there are %s function parameters than expected", fewerMore(len(args2), len(args1)))
	}
	for i := range args1 {
		if !c.rel(sub, s2, s1, args2[i], args1[i]) {
			return false
		}
	}
	if len(res1) != len(res2) {
		return c.fail("there are %s return types than expected", fewerMore(len(res1), len(res2)))
	}
	for i := range res1 {
		if !c.rel(sub, s1, s2, res1[i], res2[i]) {
			return false
		}
	}
	return true
}

func boundOf(p Param) *Type {
	if p.Bound == nil {
		return &Type{Kind: KindAny}
	}
	return p.Bound
}

func fewerMore(have, want int) string {
	if have < want {
		return "fewer"
	}
	return "more"
}
