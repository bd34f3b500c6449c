package wasm

import (
	"strconv"
	"strings"

	"github.com/ianlancetaylor/demangle"
)

// Demangle returns a Rust (legacy "_ZN…E" or v0 "_R…") or C++ ("_Z…")
// symbol demangled the way the replica's "Canister Backtrace" shows it:
// Rust paths without the legacy hash suffix or v0 crate disambiguators
// (rustc_demangle's alternate form, e.g. "ic_cdk::api::trap" and
// "rust_ledger::fail::{closure#0}"), C++ names with their parameter types
// as c++filt prints them. Any other name (ic-cdk's "canister_update add",
// a C function) comes back unchanged.
//
// The replica's backtrace tests show the names it prints:
// dfinity/ic rs/execution_environment/tests/canister_backtrace.rs
// ("_wasm_backtrace_canister::unreachable::inner_2",
// "ic_cdk_executor::machinery::setup_panic_hook::{{closure}}::{{closure}}").
func Demangle(name string) string {
	if !strings.HasPrefix(name, "_Z") && !strings.HasPrefix(name, "_R") && !strings.HasPrefix(name, "__Z") {
		return name
	}
	// The demangler is recursive and a hostile name section can hold
	// anything: bound the work, and keep the raw name when it gives up.
	d, err := demangle.ToString(name, demangle.MaxLength(16))
	if err != nil || d == "" {
		return name
	}
	return d
}

// FuncLabel returns the name an operator reads for function idx (in the
// function index space): its name-section name demangled (see Demangle);
// without one, "func[idx]" and the name it is exported or imported under,
// e.g. "func[7] (canister_update add)".
func (m *Module) FuncLabel(idx uint32) string {
	if n := m.FuncName(idx); n != "" {
		return Demangle(n)
	}
	label := "func[" + strconv.FormatUint(uint64(idx), 10) + "]"
	if ext := m.funcExternalName(idx); ext != "" {
		label += " (" + ext + ")"
	}
	return label
}

// funcExternalName returns the export name of function idx, or for an
// import "module.name"; "" for neither.
func (m *Module) funcExternalName(idx uint32) string {
	k := uint32(0)
	for _, im := range m.Imports {
		if im.Kind != KindFunc {
			continue
		}
		if k == idx {
			return im.Module + "." + im.Name
		}
		k++
	}
	for _, e := range m.Exports {
		if e.Kind == KindFunc && e.Index == idx {
			return e.Name
		}
	}
	return ""
}
