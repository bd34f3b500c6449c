package engine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/wasm"
)

// describeTrap locates a trap with wazero's stack trace.
func (m *Module) describeTrap(t *ic0.Trap, err error) *Trap {
	tr := trapOf(t)
	_, stack, _ := strings.Cut(err.Error(), "wasm stack trace:\n")
	named := false
	for _, line := range strings.Split(stack, "\n") {
		if !strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "\t\t") {
			continue // source lines (DWARF) and the text after the trace
		}
		mod, name := frameName(line)
		var idx uint32
		var ok bool
		if mod == meter.HostModule {
			continue // the metering rewrite's out_of_instructions
		}
		if mod == ic0.ModuleName || mod == meter.Wasm64SystemAPI {
			idx, ok = m.importIndex(name)
		} else {
			idx, ok = m.lookupFunc(name)
			if ok && int(idx) >= m.info.NumImportedFuncs()+len(m.info.Functions) {
				continue // canscope's callback entry (addCallbackEntry)
			}
			if ok && tr.Function == "" {
				tr.Function, tr.FunctionIndex, tr.Offset = m.FuncLabel(idx), idx, m.location(idx)
				tr.RawFunction = m.info.FuncName(idx)
			}
		}
		if n := m.info.FuncName(idx); ok && n != "" {
			// Demangled, as the replica prints the names (see wasm.Demangle).
			tr.Backtrace = append(tr.Backtrace, m.FuncLabel(idx))
			named = true
		} else {
			tr.Backtrace = append(tr.Backtrace, fmt.Sprintf("unknown function at index %d", idx))
		}
	}
	if !named {
		// The replica shows a backtrace only for modules with a name section.
		tr.Backtrace = nil
	}
	return tr
}

// frameName strips the module prefix and signature from a wazero stack
// trace frame such as "canister3.inc(i32) i64".
func frameName(line string) (module, name string) {
	line = strings.TrimSpace(line)
	if i := strings.LastIndexByte(line, '('); i >= 0 {
		line = line[:i]
	}
	module, name, _ = strings.Cut(line, ".")
	return module, name
}

// lookupFunc finds the function index of a wazero debug name: the
// name-section name, or "$<index>".
func (m *Module) lookupFunc(name string) (uint32, bool) {
	if n, ok := strings.CutPrefix(name, "$"); ok {
		// wazero's name for a function without a name: its index in the
		// prepared module, shifted by the metering rewrite.
		idx, err := strconv.ParseUint(n, 10, 32)
		if err != nil || uint32(idx) < m.shift {
			return 0, false
		}
		return uint32(idx) - m.shift, true
	}
	total := m.numImported + uint32(len(m.codeOffsets))
	for i := uint32(0); i < total; i++ {
		if m.info.FuncName(i) == name {
			return i, true
		}
	}
	return 0, false
}

// importIndex returns the function index of the import ic0.<name>.
func (m *Module) importIndex(name string) (uint32, bool) {
	var k uint32
	for _, im := range m.info.Imports {
		if im.Kind != wasm.KindFunc {
			continue
		}
		if im.Module == ic0.ModuleName && im.Name == name {
			return k, true
		}
		k++
	}
	return 0, false
}
