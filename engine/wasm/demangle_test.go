package wasm

import "testing"

func TestDemangle(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		// Rust legacy: the hash suffix goes, as rustc_demangle's "{:#}".
		{"_ZN11rust_ledger3ic04trap17h3b03a62eee320ad7E", "rust_ledger::ic0::trap"},
		{"_ZN11rust_ledger14set_panic_hook28_$u7b$$u7b$closure$u7d$$u7d$17hc9f482c6e7eb3c9aE", "rust_ledger::set_panic_hook::{{closure}}"},
		{"_ZN108_$LT$alloc..collections..btree..map..Iter$LT$K$C$V$GT$$u20$as$u20$core..iter..traits..iterator..Iterator$GT$4next17hddee8c02c2ce0b94E",
			"<alloc::collections::btree::map::Iter<K,V> as core::iter::traits::iterator::Iterator>::next"},
		// Rust v0: crate disambiguators go.
		{"_RNvNtCs8usIHK9ctAt_11rust_ledger3ic04trap", "rust_ledger::ic0::trap"},
		{"_RINvNtCs4EoLUFkKuUC_4core3ptr13drop_in_placeNCNvCs8usIHK9ctAt_11rust_ledger14set_panic_hook0EBK_",
			"core::ptr::drop_in_place::<rust_ledger::set_panic_hook::{closure#0}>"},
		// C++, as c++filt prints it.
		{"_Z3addii", "add(int, int)"},
		{"_ZNSt3__16vectorIiNS_9allocatorIiEEE9push_backERKi", "std::__1::vector<int, std::__1::allocator<int> >::push_back(int const&)"},
		// Anything else stays as it is, broken manglings included.
		{"canister_update add", "canister_update add"},
		{"incident::pre_upgrade", "incident::pre_upgrade"},
		{"_ZN3foo", "_ZN3foo"},
		{"_R", "_R"},
		{"", ""},
	} {
		if got := Demangle(c.raw); got != c.want {
			t.Errorf("Demangle(%q) = %q, want %q", c.raw, got, c.want)
		}
	}
}

func TestFuncLabelWithoutNames(t *testing.T) {
	m := &Module{
		Imports: []Import{{Module: "ic0", Name: "trap", Kind: KindFunc}},
		Exports: []Export{{Name: "canister_update add", Kind: KindFunc, Index: 2}},
	}
	for idx, want := range map[uint32]string{0: "func[0] (ic0.trap)", 1: "func[1]", 2: "func[2] (canister_update add)"} {
		if got := m.FuncLabel(idx); got != want {
			t.Errorf("FuncLabel(%d) = %q, want %q", idx, got, want)
		}
	}
	m.funcNames = map[uint32]string{1: "_ZN3foo3barE"}
	if got := m.FuncLabel(1); got != "foo::bar" {
		t.Errorf("FuncLabel(1) = %q, want foo::bar", got)
	}
}
