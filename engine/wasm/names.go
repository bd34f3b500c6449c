package wasm

import (
	"encoding/binary"
	"fmt"
)

// Name section subsection ids (extended name section proposal) that hold
// function indices.
const (
	nameFunction = 1
	nameLocal    = 2
	nameLabel    = 3
)

type nameSubsection struct {
	id   byte
	data []byte
}

func splitNameSection(data []byte) ([]nameSubsection, error) {
	r := newReader(data, 0)
	var subs []nameSubsection
	for !r.done() {
		id, _ := r.byte()
		n, err := r.count()
		if err != nil {
			return nil, fmt.Errorf("name subsection %d size: %w", id, err)
		}
		b, err := r.bytes(n)
		if err != nil {
			return nil, fmt.Errorf("name subsection %d: %w", id, err)
		}
		subs = append(subs, nameSubsection{id, b})
	}
	return subs, nil
}

func decodeNameMap(r *reader) (map[uint32]string, error) {
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	out := make(map[uint32]string, n)
	for i := 0; i < n; i++ {
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		name, err := r.name()
		if err != nil {
			return nil, err
		}
		out[idx] = name
	}
	return out, nil
}

// decodeFunctionNames reads the function-names subsection of a name section.
func decodeFunctionNames(data []byte) (map[uint32]string, error) {
	subs, err := splitNameSection(data)
	if err != nil {
		return nil, err
	}
	for _, s := range subs {
		if s.id == nameFunction {
			return decodeNameMap(newReader(s.data, 0))
		}
	}
	return map[uint32]string{}, nil
}

// nameGlobal is the global-names subsection (extended name section).
const nameGlobal = 7

// GlobalNames returns the names the module's name section gives its
// globals (subsection 7, which wasm-ld and wat2wasm --debug-names write):
// `__stack_pointer` is not exported, so this is the only way to find it.
// Empty when the module has no such names.
func (m *Module) GlobalNames() map[uint32]string {
	data, ok := m.Custom("name")
	if !ok {
		return map[uint32]string{}
	}
	subs, err := splitNameSection(data)
	if err != nil {
		return map[uint32]string{}
	}
	for _, s := range subs {
		if s.id == nameGlobal {
			if names, err := decodeNameMap(newReader(s.data, 0)); err == nil {
				return names
			}
		}
	}
	return map[uint32]string{}
}

// ShiftNameSection returns a copy of a name section's contents (the custom
// section data after its name) with the function indices of the function,
// local and label subsections renumbered by shift, for rewrites that insert
// functions. Other subsections are kept as they are.
func ShiftNameSection(data []byte, shift func(uint32) uint32) ([]byte, error) {
	subs, err := splitNameSection(data)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, s := range subs {
		payload := s.data
		if s.id == nameFunction || s.id == nameLocal || s.id == nameLabel {
			if payload, err = shiftNameMapKeys(s.data, s.id != nameFunction, shift); err != nil {
				return nil, fmt.Errorf("name subsection %d: %w", s.id, err)
			}
		}
		out = append(out, s.id)
		out = binary.AppendUvarint(out, uint64(len(payload)))
		out = append(out, payload...)
	}
	return out, nil
}

// shiftNameMapKeys rewrites the outer indices of a name map (or of an
// indirect name map, whose values are name maps copied unchanged).
func shiftNameMapKeys(data []byte, indirect bool, shift func(uint32) uint32) ([]byte, error) {
	r := newReader(data, 0)
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	out := binary.AppendUvarint(nil, uint64(n))
	for i := 0; i < n; i++ {
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		start := r.pos
		if indirect {
			_, err = decodeNameMap(r)
		} else {
			_, err = r.name()
		}
		if err != nil {
			return nil, err
		}
		out = binary.AppendUvarint(out, uint64(shift(idx)))
		out = append(out, data[start:r.pos]...)
	}
	if !r.done() {
		return nil, fmt.Errorf("%d trailing bytes", len(data)-r.pos)
	}
	return out, nil
}
