package motoko

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// prims are the primitive type names (moc's string_of_prim).
var prims = map[string]bool{
	"Null": true, "Bool": true, "Nat": true, "Nat8": true, "Nat16": true, "Nat32": true, "Nat64": true,
	"Int": true, "Int8": true, "Int16": true, "Int32": true, "Int64": true, "Float": true, "Char": true,
	"Text": true, "Blob": true, "Error": true, "Principal": true, "Region": true,
}

// Parse reads a stable signature as moc prints it (Type.string_of_stab_sig,
// src/mo_types/type.ml): a `// Version:` line, type definitions
// `type Name<T> = …;`, then `actor { stable var x : T; … };` (version
// 1.0.0) or, for an actor with a migration function,
// `actor ({ in x : T; stable y : U }, { stable … });` (version 3.0.0).
func Parse(text string) (*Signature, error) {
	p := &parser{}
	sig := &Signature{defs: map[string]*Def{}}
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "// Version:"); ok && sig.Version == "" {
			sig.Version = strings.TrimSpace(v)
		}
	}
	if err := p.lex(text); err != nil {
		return nil, fmt.Errorf("stable signature: %w", err)
	}
	if err := p.signature(sig); err != nil {
		return nil, fmt.Errorf("stable signature: %w", err)
	}
	if err := sig.resolve(); err != nil {
		return nil, fmt.Errorf("stable signature: %w", err)
	}
	return sig, nil
}

type token struct {
	text string
	line int
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) lex(text string) error {
	line := 1
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case strings.HasPrefix(text[i:], "//"):
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return fmt.Errorf("line %d: unterminated comment", line)
			}
			line += strings.Count(text[i:i+2+end], "\n")
			i += end + 4
		case strings.HasPrefix(text[i:], "->"), strings.HasPrefix(text[i:], "<:"):
			p.toks = append(p.toks, token{text[i : i+2], line})
			i += 2
		case strings.ContainsRune("{}()[]<>,;:?#=", rune(c)):
			p.toks = append(p.toks, token{text[i : i+1], line})
			i++
		default:
			r, n := utf8.DecodeRuneInString(text[i:])
			if !isIdent(r) {
				return fmt.Errorf("line %d: unexpected %q", line, r)
			}
			j := i + n
			for j < len(text) {
				r, n := utf8.DecodeRuneInString(text[j:])
				if !isIdent(r) && r != '.' {
					break
				}
				j += n
			}
			p.toks = append(p.toks, token{text[i:j], line})
			i = j
		}
	}
	return nil
}

func isIdent(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos].text
	}
	return ""
}

func (p *parser) peekAt(k int) string {
	if p.pos+k < len(p.toks) {
		return p.toks[p.pos+k].text
	}
	return ""
}

func (p *parser) next() string {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

func (p *parser) errorf(format string, args ...any) error {
	where := "at the end"
	if p.pos < len(p.toks) {
		where = fmt.Sprintf("line %d near %q", p.toks[p.pos].line, p.toks[p.pos].text)
	}
	return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
}

func (p *parser) expect(s string) error {
	if p.peek() != s {
		return p.errorf("want %q", s)
	}
	p.next()
	return nil
}

var keywords = map[string]bool{
	"actor": true, "module": true, "memory": true, "mixin": true, "object": true, "shared": true,
	"query": true, "composite": true, "async": true, "var": true, "weak": true, "type": true,
	"stable": true, "in": true, "let": true, "persistent": true, "transient": true,
}

func (p *parser) ident() (string, error) {
	t := p.peek()
	if t == "" || keywords[t] {
		return "", p.errorf("want a name")
	}
	r, _ := utf8.DecodeRuneInString(t)
	if !isIdent(r) || unicode.IsDigit(r) {
		return "", p.errorf("want a name")
	}
	p.next()
	return t, nil
}

func (p *parser) signature(sig *Signature) error {
	for p.peek() == "type" {
		p.next()
		d, err := p.def()
		if err != nil {
			return err
		}
		if sig.defs[d.Name] != nil {
			return p.errorf("type %s is defined twice", d.Name)
		}
		sig.defs[d.Name] = d
		sig.Defs = append(sig.Defs, d)
		if err := p.expect(";"); err != nil {
			return err
		}
	}
	for p.peek() == "persistent" {
		p.next()
	}
	if err := p.expect("actor"); err != nil {
		return err
	}
	if p.peek() == "(" {
		p.next()
		pre, err := p.stableFields(true)
		if err != nil {
			return err
		}
		if err := p.expect(","); err != nil {
			return err
		}
		post, err := p.stableFields(false)
		if err != nil {
			return err
		}
		if err := p.expect(")"); err != nil {
			return err
		}
		sig.Pre, sig.Post = pre, post
	} else {
		post, err := p.stableFields(false)
		if err != nil {
			return err
		}
		sig.Post = post
	}
	if p.peek() == ";" {
		p.next()
	}
	if p.peek() != "" {
		return p.errorf("text after the actor")
	}
	return nil
}

// stableFields reads `{ stable var x : T; … }`; pre allows `in`.
func (p *parser) stableFields(pre bool) ([]Variable, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	vars := []Variable{}
	seen := map[string]bool{}
	for p.peek() != "}" {
		var v Variable
		switch p.peek() {
		case "stable":
		case "in":
			if !pre {
				return nil, p.errorf("`in` only declares a migration's input")
			}
			v.Required = true
		default:
			return nil, p.errorf("want `stable`")
		}
		p.next()
		if p.peek() == "var" {
			p.next()
			v.Mutable = true
		}
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, p.errorf("stable variable %s is declared twice", name)
		}
		seen[name] = true
		v.Name = name
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		if v.Type, err = p.typ(); err != nil {
			return nil, err
		}
		vars = append(vars, v)
		if p.peek() != ";" {
			break
		}
		p.next()
	}
	if err := p.expect("}"); err != nil {
		return nil, err
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	return vars, nil
}

func (p *parser) def() (*Def, error) {
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	d := &Def{Name: name}
	if p.peek() == "<" {
		if d.Params, err = p.binds(); err != nil {
			return nil, err
		}
	}
	switch p.peek() {
	case "=":
	case "<:":
		return nil, p.errorf("abstract type %s: a stable signature defines its types", name)
	default:
		return nil, p.errorf("want \"=\"")
	}
	p.next()
	if d.Body, err = p.typ(); err != nil {
		return nil, err
	}
	return d, nil
}

// binds reads `<T, U <: Bound>`.
func (p *parser) binds() ([]Param, error) {
	if err := p.expect("<"); err != nil {
		return nil, err
	}
	var out []Param
	for {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		par := Param{Name: name}
		if p.peek() == "<:" {
			p.next()
			if par.Bound, err = p.typ(); err != nil {
				return nil, err
			}
		}
		out = append(out, par)
		if p.peek() != "," {
			break
		}
		p.next()
	}
	return out, p.expect(">")
}

func (p *parser) typ() (*Type, error) {
	t, _, err := p.nobin()
	return t, err
}

// nobin reads a function type or a typ_pre (pp_typ_nobin). wrapped reports
// a type written in parentheses of its own, "((A, B))": a single tuple in
// a function's argument or result sequence.
func (p *parser) nobin() (*Type, bool, error) {
	sortName := ""
	switch p.peek() {
	case "shared":
		p.next()
		sortName = "shared"
		switch p.peek() {
		case "query":
			p.next()
			sortName = "shared query"
		case "composite":
			p.next()
			if err := p.expect("query"); err != nil {
				return nil, false, err
			}
			sortName = "shared composite query"
		}
		return p.funcRest(sortName)
	case "<":
		return p.funcRest("")
	}
	start := p.pos
	t, wrapped, err := p.pre()
	if err != nil {
		return nil, false, err
	}
	if p.peek() != "->" {
		return t, wrapped, nil
	}
	p.pos = start
	return p.funcRest("")
}

func (p *parser) funcRest(sortName string) (*Type, bool, error) {
	f := &Func{Sort: sortName}
	var err error
	if p.peek() == "<" {
		if f.Params, err = p.binds(); err != nil {
			return nil, false, err
		}
	}
	dom, wrapped, err := p.un()
	if err != nil {
		return nil, false, err
	}
	f.Args = sequence(dom, wrapped)
	if err := p.expect("->"); err != nil {
		return nil, false, err
	}
	if p.peek() == "async" {
		p.next()
		cod, wrapped, err := p.pre()
		if err != nil {
			return nil, false, err
		}
		f.Async, f.Results = true, sequence(cod, wrapped)
	} else {
		cod, wrapped, err := p.nobin()
		if err != nil {
			return nil, false, err
		}
		f.Results = sequence(cod, wrapped)
		f.Oneway = sortName != ""
		if f.Oneway && len(f.Results) > 0 {
			return nil, false, p.errorf("a shared function returns () or async")
		}
	}
	return &Type{Kind: KindFunc, Func: f}, false, nil
}

// sequence splits a written argument or result type into the sequence it
// stands for (moc's `sequence` printer): a bare tuple is its components,
// a wrapped one a single tuple.
func sequence(t *Type, wrapped bool) []*Type {
	if t.Kind == KindTuple && !wrapped {
		return t.Elems
	}
	return []*Type{t}
}

// pre reads typ_pre: async, actor/module/memory objects, typ_un.
func (p *parser) pre() (*Type, bool, error) {
	switch p.peek() {
	case "async":
		p.next()
		t, _, err := p.pre()
		if err != nil {
			return nil, false, err
		}
		return &Type{Kind: KindAsync, Elem: t}, false, nil
	case "actor", "module", "memory", "mixin", "object":
		s := p.next()
		t, err := p.object(s)
		return t, false, err
	}
	return p.un()
}

// un reads typ_un: ?T, weak T, nullary.
func (p *parser) un() (*Type, bool, error) {
	switch p.peek() {
	case "?":
		p.next()
		t, _, err := p.un()
		if err != nil {
			return nil, false, err
		}
		return &Type{Kind: KindOpt, Elem: t}, false, nil
	case "weak":
		p.next()
		t, _, err := p.un()
		if err != nil {
			return nil, false, err
		}
		return &Type{Kind: KindWeak, Elem: t}, false, nil
	}
	return p.nullary()
}

func (p *parser) nullary() (*Type, bool, error) {
	switch p.peek() {
	case "(":
		p.next()
		var elems []*Type
		trailing := false
		for p.peek() != ")" {
			trailing = false
			if p.peekAt(1) == ":" && !keywords[p.peek()] {
				p.next() // a name: (x : T) is T
				p.next()
			}
			t, err := p.typ()
			if err != nil {
				return nil, false, err
			}
			elems = append(elems, t)
			if p.peek() != "," {
				break
			}
			p.next()
			trailing = true
		}
		if err := p.expect(")"); err != nil {
			return nil, false, err
		}
		if len(elems) == 1 && !trailing {
			return elems[0], true, nil
		}
		return &Type{Kind: KindTuple, Elems: elems}, false, nil
	case "[":
		p.next()
		mut := false
		if p.peek() == "var" {
			p.next()
			mut = true
		}
		t, err := p.typ()
		if err != nil {
			return nil, false, err
		}
		if err := p.expect("]"); err != nil {
			return nil, false, err
		}
		if mut {
			t = &Type{Kind: KindMut, Elem: t}
		}
		return &Type{Kind: KindArray, Elem: t}, false, nil
	case "{":
		if p.peekAt(1) == "#" {
			t, err := p.variant()
			return t, false, err
		}
		t, err := p.object("object")
		return t, false, err
	}
	name, err := p.ident()
	if err != nil {
		return nil, false, err
	}
	t := &Type{Kind: KindCon, Name: name}
	if p.peek() == "<" {
		p.next()
		for {
			a, err := p.typ()
			if err != nil {
				return nil, false, err
			}
			t.Args = append(t.Args, a)
			if p.peek() != "," {
				break
			}
			p.next()
		}
		if err := p.expect(">"); err != nil {
			return nil, false, err
		}
	}
	return t, false, nil
}

func (p *parser) object(sortName string) (*Type, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	t := &Type{Kind: KindObject, Sort: sortName, Fields: []Field{}}
	for p.peek() != "}" {
		if p.peek() == "type" {
			// A type component: not data, moc's memory layout ignores it.
			p.next()
			if _, err := p.def(); err != nil {
				return nil, err
			}
		} else {
			mut := false
			if p.peek() == "var" {
				p.next()
				mut = true
			}
			name, err := p.ident()
			if err != nil {
				return nil, err
			}
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			ft, err := p.typ()
			if err != nil {
				return nil, err
			}
			if mut {
				ft = &Type{Kind: KindMut, Elem: ft}
			}
			t.Fields = append(t.Fields, Field{Name: name, Type: ft})
		}
		if p.peek() != ";" {
			break
		}
		p.next()
	}
	if err := p.expect("}"); err != nil {
		return nil, err
	}
	return t, sortFields(t.Fields, p)
}

func (p *parser) variant() (*Type, error) {
	p.next() // {
	t := &Type{Kind: KindVariant, Fields: []Field{}}
	if p.peek() == "#" && p.peekAt(1) == "}" {
		p.next()
		p.next()
		return t, nil
	}
	for p.peek() == "#" {
		p.next()
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		ft := &Type{Kind: KindTuple}
		if p.peek() == ":" {
			p.next()
			if ft, err = p.typ(); err != nil {
				return nil, err
			}
		}
		t.Fields = append(t.Fields, Field{Name: name, Type: ft})
		if p.peek() != ";" {
			break
		}
		p.next()
	}
	if err := p.expect("}"); err != nil {
		return nil, err
	}
	return t, sortFields(t.Fields, p)
}

// sortFields orders fields by name (moc's compare_field) and refuses a
// name given twice.
func sortFields(fs []Field, p *parser) error {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	for i := 1; i < len(fs); i++ {
		if fs[i].Name == fs[i-1].Name {
			return p.errorf("field %s appears twice", fs[i].Name)
		}
	}
	return nil
}

// resolve turns the names the parser read into definitions, type
// parameters and primitives, and checks definitions' arities.
func (s *Signature) resolve() error {
	for _, d := range s.Defs {
		scope := map[string]*Type{}
		for _, par := range d.Params {
			scope[par.Name] = &Type{Kind: KindVar, Name: par.Name, Bound: par.Bound}
		}
		for _, par := range d.Params {
			if par.Bound != nil {
				if err := s.resolveIn(par.Bound, scope); err != nil {
					return fmt.Errorf("type %s: %w", d.Name, err)
				}
			}
		}
		if err := s.resolveIn(d.Body, scope); err != nil {
			return fmt.Errorf("type %s: %w", d.Name, err)
		}
	}
	for _, vs := range [][]Variable{s.Pre, s.Post} {
		for _, v := range vs {
			if err := s.resolveIn(v.Type, nil); err != nil {
				return fmt.Errorf("stable variable %s: %w", v.Name, err)
			}
		}
	}
	return nil
}

func (s *Signature) resolveIn(t *Type, scope map[string]*Type) error {
	switch t.Kind {
	case KindCon:
		for _, a := range t.Args {
			if err := s.resolveIn(a, scope); err != nil {
				return err
			}
		}
		if v, ok := scope[t.Name]; ok && len(t.Args) == 0 {
			t.Kind, t.Bound = KindVar, v.Bound
			return nil
		}
		if d := s.defs[t.Name]; d != nil {
			if len(d.Params) != len(t.Args) {
				return fmt.Errorf("%s takes %d type arguments, given %d", t.Name, len(d.Params), len(t.Args))
			}
			return nil
		}
		if len(t.Args) > 0 {
			return fmt.Errorf("unknown type %s", t.Name)
		}
		switch {
		case prims[t.Name]:
			t.Kind = KindPrim
		case t.Name == "Any":
			t.Kind = KindAny
		case t.Name == "None":
			t.Kind = KindNone
		default:
			return fmt.Errorf("unknown type %s", t.Name)
		}
	case KindOpt, KindArray, KindMut, KindWeak, KindAsync:
		return s.resolveIn(t.Elem, scope)
	case KindTuple:
		for _, e := range t.Elems {
			if err := s.resolveIn(e, scope); err != nil {
				return err
			}
		}
	case KindObject, KindVariant:
		for _, f := range t.Fields {
			if err := s.resolveIn(f.Type, scope); err != nil {
				return err
			}
		}
	case KindFunc:
		inner := map[string]*Type{}
		for k, v := range scope {
			inner[k] = v
		}
		for _, par := range t.Func.Params {
			inner[par.Name] = &Type{Kind: KindVar, Name: par.Name, Bound: par.Bound}
		}
		for _, par := range t.Func.Params {
			if par.Bound != nil {
				if err := s.resolveIn(par.Bound, inner); err != nil {
					return err
				}
			}
		}
		for _, ts := range [][]*Type{t.Func.Args, t.Func.Results} {
			for _, e := range ts {
				if err := s.resolveIn(e, inner); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
