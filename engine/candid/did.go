package candid

import (
	"fmt"
	"sort"
	"unicode/utf8"
)

// Interface is a parsed candid:service text: the named types and the
// service's methods. A nil *Interface has no methods, so callers can pass
// one through when a module has no candid:service section.
type Interface struct {
	// Types are the `type X = ...` definitions by name.
	Types map[string]*Type
	// Methods are the service's methods, sorted by name.
	Methods []Method
	// Init are the class arguments of `service : (A) -> {...}`, the
	// install and upgrade argument types.
	Init []*Type
}

// Method returns the signature of the named method.
func (s *Interface) Method(name string) (*FuncType, bool) {
	if s == nil {
		return nil, false
	}
	i := sort.Search(len(s.Methods), func(i int) bool { return s.Methods[i].Name >= name })
	if i < len(s.Methods) && s.Methods[i].Name == name && s.Methods[i].Type.Func != nil {
		return s.Methods[i].Type.Func, true
	}
	return nil, false
}

// Args returns the argument types of the named method, or nil.
func (s *Interface) Args(method string) []*Type {
	if f, ok := s.Method(method); ok {
		return f.Args
	}
	return nil
}

// Results returns the result types of the named method, or nil.
func (s *Interface) Results(method string) []*Type {
	if f, ok := s.Method(method); ok {
		return f.Results
	}
	return nil
}

// ParseInterface parses a Candid interface description (the .did text a
// module carries in its candid:service custom section). Imports are not
// followed: a module's embedded interface is self-contained.
func ParseInterface(did string) (*Interface, error) {
	p := &typeParser{lex: &lexer{src: did}, defs: map[string]*Type{}}
	s, err := p.program()
	if err != nil {
		return nil, fmt.Errorf("parse Candid interface: %w", err)
	}
	return s, nil
}

// ParseType parses one Candid type expression such as `opt vec nat8`.
func ParseType(text string) (*Type, error) {
	p := &typeParser{lex: &lexer{src: text}, defs: map[string]*Type{}}
	t, err := p.datatype(0)
	if err == nil {
		err = p.end()
	}
	if err == nil {
		err = p.resolve()
	}
	if err != nil {
		return nil, fmt.Errorf("parse Candid type %q: %w", text, err)
	}
	return t, nil
}

// typeParser parses type syntax. A reference to a named type becomes the
// name's placeholder, filled in when the definition is seen, which ties
// recursive definitions into pointer cycles.
type typeParser struct {
	lex     *lexer
	defs    map[string]*Type // placeholders by name
	defined map[string]bool
	order   []string
	svc     *Type // the service's type, resolved at the end
}

func (p *typeParser) end() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	if t.kind != tokEOF {
		return p.lex.errAt(t.pos, "unexpected %s after the end", describe(t))
	}
	return nil
}

func (p *typeParser) program() (*Interface, error) {
	p.defined = map[string]bool{}
	s := &Interface{Types: map[string]*Type{}}
	for {
		t, err := p.lex.look()
		if err != nil {
			return nil, err
		}
		switch {
		case t.kind == tokEOF:
			if err := p.resolve(); err != nil {
				return nil, err
			}
			if p.svc != nil {
				if p.svc.Kind != Service {
					return nil, fmt.Errorf("service type %s is a %s, not a service", p.svc.Name, p.svc.Kind)
				}
				s.Methods = p.svc.Methods
			}
			for _, name := range p.order {
				s.Types[name] = p.defs[name]
			}
			return s, nil
		case t.kind == tokIdent && t.text == "type":
			p.lex.next()
			if err := p.definition(); err != nil {
				return nil, err
			}
		case t.kind == tokIdent && t.text == "import":
			p.lex.next()
			if _, err := p.lex.next(); err != nil { // the imported file name
				return nil, err
			}
		case t.kind == tokIdent && t.text == "service":
			p.lex.next()
			if err := p.service(s); err != nil {
				return nil, err
			}
		default:
			return nil, p.lex.errAt(t.pos, "want type, import or service, got %s", describe(t))
		}
		if _, err := p.lex.accept(";"); err != nil {
			return nil, err
		}
	}
}

func (p *typeParser) definition() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	if t.kind != tokIdent {
		return p.lex.errAt(t.pos, "want a type name, got %s", describe(t))
	}
	if p.defined[t.text] {
		return p.lex.errAt(t.pos, "type %s defined twice", t.text)
	}
	if err := p.lex.expect("="); err != nil {
		return err
	}
	body, err := p.datatype(0)
	if err != nil {
		return err
	}
	ph := p.placeholder(t.text)
	p.defined[t.text] = true
	p.order = append(p.order, t.text)
	if body.Kind == 0 && body != ph {
		// An alias of another name: link now, resolve copies later.
		ph.Elem = body
		return nil
	}
	if body == ph {
		return p.lex.errAt(t.pos, "type %s is defined as itself", t.text)
	}
	*ph = *body
	ph.Name = t.text
	return nil
}

// placeholder returns the shared node for a type name.
func (p *typeParser) placeholder(name string) *Type {
	ph, ok := p.defs[name]
	if !ok {
		ph = &Type{Name: name}
		p.defs[name] = ph
	}
	return ph
}

// resolve fills alias definitions (`type A = B`) and reports names used
// but never defined. Placeholders still have Kind 0 until resolved.
func (p *typeParser) resolve() error {
	for name, ph := range p.defs {
		seen := map[*Type]bool{}
		t := ph
		for t.Kind == 0 {
			if seen[t] || t.Elem == nil {
				if t.Elem == nil {
					return fmt.Errorf("type %s is used but not defined", t.Name)
				}
				return fmt.Errorf("type %s is an alias cycle", name)
			}
			seen[t] = true
			t = t.Elem
		}
		if t != ph {
			*ph = *t
			ph.Name = name
		}
	}
	return nil
}

func (p *typeParser) service(s *Interface) error {
	if t, err := p.lex.look(); err != nil {
		return err
	} else if t.kind == tokIdent {
		p.lex.next() // the service's own name
	}
	if err := p.lex.expect(":"); err != nil {
		return err
	}
	t, err := p.lex.look()
	if err != nil {
		return err
	}
	if t.kind == tokPunct && t.text == "(" {
		if s.Init, err = p.tuple(0); err != nil {
			return err
		}
		if err := p.lex.expect("->"); err != nil {
			return err
		}
	}
	st, err := p.serviceBody(0)
	if err != nil {
		return err
	}
	p.svc = st
	return nil
}

// serviceBody parses `{ m : functype; ... }` or a service type name.
func (p *typeParser) serviceBody(depth int) (*Type, error) {
	t, err := p.lex.next()
	if err != nil {
		return nil, err
	}
	if t.kind == tokIdent {
		return p.placeholder(t.text), nil
	}
	if t.kind != tokPunct || t.text != "{" {
		return nil, p.lex.errAt(t.pos, "want a service body {...}, got %s", describe(t))
	}
	st := &Type{Kind: Service}
	for {
		if ok, err := p.lex.accept("}"); err != nil || ok {
			sort.Slice(st.Methods, func(i, j int) bool { return st.Methods[i].Name < st.Methods[j].Name })
			return st, err
		}
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.lex.expect(":"); err != nil {
			return nil, err
		}
		var mt *Type
		if look, err := p.lex.look(); err != nil {
			return nil, err
		} else if look.kind == tokIdent {
			p.lex.next()
			mt = p.placeholder(look.text)
		} else if mt, err = p.funcType(depth + 1); err != nil {
			return nil, err
		}
		st.Methods = append(st.Methods, Method{Name: name, Type: mt})
		if ok, err := p.lex.accept(";"); err != nil {
			return nil, err
		} else if !ok {
			if err := p.lex.expect("}"); err != nil {
				return nil, err
			}
			sort.Slice(st.Methods, func(i, j int) bool { return st.Methods[i].Name < st.Methods[j].Name })
			return st, nil
		}
	}
}

// name reads a field or method name: an identifier or a quoted string.
func (p *typeParser) name() (string, error) {
	t, err := p.lex.next()
	if err != nil {
		return "", err
	}
	if t.kind == tokIdent || (t.kind == tokText && utf8.ValidString(t.text)) {
		return t.text, nil
	}
	return "", p.lex.errAt(t.pos, "want a name, got %s", describe(t))
}

func (p *typeParser) funcType(depth int) (*Type, error) {
	f := &FuncType{}
	var err error
	if f.Args, err = p.tuple(depth); err != nil {
		return nil, err
	}
	if err := p.lex.expect("->"); err != nil {
		return nil, err
	}
	if f.Results, err = p.tuple(depth); err != nil {
		return nil, err
	}
	for {
		t, err := p.lex.look()
		if err != nil {
			return nil, err
		}
		if t.kind != tokIdent || (t.text != "query" && t.text != "oneway" && t.text != "composite_query") {
			return &Type{Kind: Func, Func: f}, nil
		}
		p.lex.next()
		f.Modes = append(f.Modes, t.text)
	}
}

// tuple parses `(T, name : T, ...)`; argument names are documentation.
func (p *typeParser) tuple(depth int) ([]*Type, error) {
	if err := p.lex.expect("("); err != nil {
		return nil, err
	}
	var ts []*Type
	for {
		if ok, err := p.lex.accept(")"); err != nil || ok {
			return ts, err
		}
		if err := p.skipArgName(); err != nil {
			return nil, err
		}
		t, err := p.datatype(depth + 1)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
		if ok, err := p.lex.accept(","); err != nil {
			return nil, err
		} else if !ok {
			return ts, p.lex.expect(")")
		}
	}
}

// skipArgName drops a `name :` prefix of a tuple item. It needs two tokens
// of lookahead, which the lexer lacks, so it rescans from a saved spot.
func (p *typeParser) skipArgName() error {
	save := p.lex.mark()
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	if t.kind == tokIdent || t.kind == tokText {
		if ok, err := p.lex.accept(":"); err != nil || ok {
			return err
		}
	}
	p.lex.reset(save)
	return nil
}

// datatype parses a type expression.
func (p *typeParser) datatype(depth int) (*Type, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("types nested deeper than %d", maxDepth)
	}
	t, err := p.lex.next()
	if err != nil {
		return nil, err
	}
	if t.kind != tokIdent {
		return nil, p.lex.errAt(t.pos, "want a type, got %s", describe(t))
	}
	if k, ok := primKinds[t.text]; ok {
		return Prim(k), nil
	}
	switch t.text {
	case "blob":
		return VecOf(Prim(Nat8)), nil
	case "opt", "vec":
		elem, err := p.datatype(depth + 1)
		if err != nil {
			return nil, err
		}
		if t.text == "opt" {
			return OptOf(elem), nil
		}
		return VecOf(elem), nil
	case "record", "variant":
		return p.fields(t.text == "variant", depth)
	case "func":
		return p.funcType(depth + 1)
	case "service":
		return p.serviceBody(depth + 1)
	}
	if isKeyword(t.text) {
		return nil, p.lex.errAt(t.pos, "keyword %s is not a type", t.text)
	}
	return p.placeholder(t.text), nil
}

var primKinds = map[string]Kind{
	"null": Null, "bool": Bool, "nat": Nat, "int": Int, "nat8": Nat8,
	"nat16": Nat16, "nat32": Nat32, "nat64": Nat64, "int8": Int8,
	"int16": Int16, "int32": Int32, "int64": Int64, "float32": Float32,
	"float64": Float64, "text": Text, "reserved": Reserved, "empty": Empty,
	"principal": Principal,
}

// fields parses `{ name : T; 3 : T; T; ... }` of a record or variant.
// Positional record fields number from 0 after the last explicit number;
// a variant alternative without a type is null.
func (p *typeParser) fields(variant bool, depth int) (*Type, error) {
	if err := p.lex.expect("{"); err != nil {
		return nil, err
	}
	kind := Record
	if variant {
		kind = Variant
	}
	t := &Type{Kind: kind}
	seen := map[uint32]string{}
	var next uint32
	for {
		if ok, err := p.lex.accept("}"); err != nil {
			return nil, err
		} else if ok {
			break
		}
		tok, err := p.lex.look()
		if err != nil {
			return nil, err
		}
		f := Field{}
		labelled := false
		if tok.kind == tokNumber || tok.kind == tokText || (tok.kind == tokIdent && !isTypeStart(tok.text)) {
			save := p.lex.mark()
			p.lex.next()
			colon, err := p.lex.accept(":")
			if err != nil {
				return nil, err
			}
			endsField := false
			if !colon && variant {
				look, err := p.lex.look()
				if err != nil {
					return nil, err
				}
				endsField = look.kind == tokPunct && (look.text == ";" || look.text == "}")
			}
			if colon || endsField {
				labelled = true
				if f.ID, f.Name, err = p.label(tok); err != nil {
					return nil, err
				}
				if endsField {
					f.Type = Prim(Null)
				}
			} else {
				p.lex.reset(save)
			}
		}
		if !labelled {
			f.ID = next
		}
		if f.Type == nil {
			if f.Type, err = p.datatype(depth + 1); err != nil {
				return nil, err
			}
		}
		if prev, dup := seen[f.ID]; dup {
			return nil, p.lex.errAt(tok.pos, "field id %d used twice (%q)", f.ID, prev)
		}
		seen[f.ID] = f.Name
		next = f.ID + 1
		t.Fields = append(t.Fields, f)
		if ok, err := p.lex.accept(";"); err != nil {
			return nil, err
		} else if !ok {
			if err := p.lex.expect("}"); err != nil {
				return nil, err
			}
			break
		}
	}
	sortFields(t.Fields)
	return t, nil
}

// isTypeStart reports whether an identifier begins a type rather than
// naming a field (a positional field whose type is a keyword).
func isTypeStart(s string) bool {
	_, prim := primKinds[s]
	return prim || s == "blob" || s == "opt" || s == "vec" || s == "record" ||
		s == "variant" || s == "func" || s == "service"
}

// label converts a field label token to its id and name.
func (p *typeParser) label(t token) (uint32, string, error) {
	switch t.kind {
	case tokNumber:
		n, err := parseNat32(t.text)
		if err != nil {
			return 0, "", p.lex.errAt(t.pos, "field id %s: %v", t.text, err)
		}
		return n, "", nil
	case tokText:
		if !utf8.ValidString(t.text) {
			return 0, "", p.lex.errAt(t.pos, "field name is not UTF-8")
		}
	}
	return Hash(t.text), t.text, nil
}
