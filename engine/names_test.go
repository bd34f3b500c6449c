package engine

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestDemangledBacktrace: a Rust canister's panic, built with legacy and
// with v0 mangling, names its functions demangled in the trap and its
// backtrace (hashes and disambiguators elided), as the replica's
// "Canister Backtrace" does; the raw name is kept beside the trapping one.
func TestDemangledBacktrace(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	var backtraces [][]string
	for _, file := range []string{"rust_ledger.wasm", "rust_ledger_v0.wasm"} {
		c := installed(t, e, load(t, e, file), nil)
		res, err := c.Update(ctx, "fail", nil)
		if err != nil || res.Trap == nil {
			t.Fatalf("%s fail: %v %+v", file, err, res)
		}
		tr := res.Trap
		if len(tr.Backtrace) < 3 || tr.RawFunction == "" || tr.RawFunction == tr.Function {
			t.Fatalf("%s: function %q (raw %q), backtrace %q", file, tr.Function, tr.RawFunction, tr.Backtrace)
		}
		for _, f := range append([]string{tr.Function}, tr.Backtrace...) {
			if strings.HasPrefix(f, "_Z") || strings.HasPrefix(f, "_R") || strings.Contains(f, "::h") || strings.Contains(f, "[") && !strings.HasPrefix(f, "func[") {
				t.Errorf("%s: %q is not demangled", file, f)
			}
		}
		if !slices.ContainsFunc(tr.Backtrace, func(f string) bool { return strings.HasPrefix(f, "rust_ledger::") }) {
			t.Errorf("%s: no rust_ledger:: frame in %q", file, tr.Backtrace)
		}
		if text := res.ErrorText(c.ID()); !strings.Contains(text, "Canister Backtrace:\n"+strings.Join(tr.Backtrace, "\n")+"\n") {
			t.Errorf("%s: error text %q lacks the demangled backtrace", file, text)
		}
		backtraces = append(backtraces, tr.Backtrace)
	}
	t.Logf("legacy: %q\nv0: %q", backtraces[0], backtraces[1])
}
