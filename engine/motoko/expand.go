package motoko

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/canscope/canscope/engine/candid"
)

// maxUnfold bounds how many definitions one head expansion follows: moc
// refuses a definition that expands to itself without a constructor in
// between, so only a hand-written signature reaches it.
const maxUnfold = 1000

// normalize expands definitions at the head of t (moc's Type.normalize)
// until it is not a definition.
func (s *Signature) normalize(t *Type) (*Type, error) {
	for range maxUnfold {
		if t.Kind != KindCon {
			return t, nil
		}
		d := s.defs[t.Name]
		if d == nil {
			return nil, fmt.Errorf("unknown type %s", t.Name)
		}
		sub := make(map[string]*Type, len(d.Params))
		for i, par := range d.Params {
			sub[par.Name] = t.Args[i]
		}
		t = substitute(d.Body, sub)
	}
	return nil, fmt.Errorf("type %s does not expand to a type", t.Name)
}

// substitute replaces the type parameters named in sub (moc's open_).
func substitute(t *Type, sub map[string]*Type) *Type {
	if len(sub) == 0 {
		return t
	}
	switch t.Kind {
	case KindVar:
		if r, ok := sub[t.Name]; ok {
			return r
		}
		return t
	case KindCon:
		if len(t.Args) == 0 {
			return t
		}
		c := *t
		c.Args = substituteAll(t.Args, sub)
		return &c
	case KindOpt, KindArray, KindMut, KindWeak, KindAsync:
		c := *t
		c.Elem = substitute(t.Elem, sub)
		return &c
	case KindTuple:
		c := *t
		c.Elems = substituteAll(t.Elems, sub)
		return &c
	case KindObject, KindVariant:
		c := *t
		c.Fields = make([]Field, len(t.Fields))
		for i, f := range t.Fields {
			c.Fields[i] = Field{Name: f.Name, Type: substitute(f.Type, sub)}
		}
		return &c
	case KindFunc:
		inner := sub
		for _, par := range t.Func.Params {
			if _, shadowed := sub[par.Name]; shadowed {
				inner = map[string]*Type{}
				for k, v := range sub {
					inner[k] = v
				}
				break
			}
		}
		for _, par := range t.Func.Params {
			delete(inner, par.Name)
		}
		f := *t.Func
		f.Params = make([]Param, len(t.Func.Params))
		for i, par := range t.Func.Params {
			f.Params[i] = par
			if par.Bound != nil {
				f.Params[i].Bound = substitute(par.Bound, inner)
			}
		}
		f.Args, f.Results = substituteAll(t.Func.Args, inner), substituteAll(t.Func.Results, inner)
		c := *t
		c.Func = &f
		return &c
	}
	return t
}

func substituteAll(ts []*Type, sub map[string]*Type) []*Type {
	out := make([]*Type, len(ts))
	for i, t := range ts {
		out[i] = substitute(t, sub)
	}
	return out
}

// labelHash is the hash moc lays a field or tag out by
// (Idllib.Escape.unescape_hash, src/idllib/escape.ml): `_123_` is 123, a
// trailing underscore is dropped, any other label is its Candid hash.
func labelHash(lab string) uint32 {
	if inner, ok := strings.CutPrefix(lab, "_"); ok {
		if num, ok := strings.CutSuffix(inner, "_"); ok && num != "" && strings.Trim(num, "0123456789") == "" {
			if h, err := strconv.ParseUint(num, 10, 32); err == nil {
				return uint32(h)
			}
		}
	}
	if s, ok := strings.CutSuffix(lab, "_"); ok {
		lab = s
	}
	return candid.Hash(lab)
}
