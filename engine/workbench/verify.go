package workbench

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
)

// Query is a query method a rehearsal calls before the upgrade and after
// each step that succeeded, to see whether the data survived.
type Query struct {
	Method string
	// Arg is the encoded argument; nil sends candid.DefaultArg.
	Arg []byte
	// ArgText is the argument as the user wrote it, for reports; "" is
	// `()`.
	ArgText string
	// Ignore marks a reply that may legitimately change (the time, the
	// cycle balance, a version): it is reported but never fails the check.
	Ignore bool
}

// Reply is the outcome of one call of a verify query.
type Reply struct {
	Status engine.Status
	// Reply is the raw reply of a call that succeeded.
	Reply []byte
	// Text is the reply decoded as Candid, typed by the running module's
	// candid:service when it declares the method; "" when it does not
	// decode.
	Text string
	// Error is the replica's error text of a call that trapped or was
	// rejected.
	Error string
}

// OK reports whether the call replied.
func (r Reply) OK() bool { return r.Status == engine.StatusOK }

// Verification is one query's replies: before the upgrade, and after each
// step that succeeded, in order.
type Verification struct {
	Query  Query
	Before Reply
	After  []Reply
}

// Same reports whether the query replied before and after every step,
// with the same value each time. Replies are compared as Candid values
// decoded by their own type tables (two modules may encode one value with
// different type tables), else byte for byte.
func (v Verification) Same() bool {
	if !v.Before.OK() {
		return false
	}
	for _, a := range v.After {
		if !a.OK() || !sameValue(v.Before.Reply, a.Reply) {
			return false
		}
	}
	return true
}

// Failed reports whether the verification fails the rehearsal: the
// replies differ or a call trapped, and the query is not ignored.
func (v Verification) Failed() bool { return !v.Query.Ignore && !v.Same() }

func sameValue(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	ta, erra := candid.DecodeText(a, nil)
	tb, errb := candid.DecodeText(b, nil)
	return erra == nil && errb == nil && ta == tb
}

// VerifyFailed lists the queries whose verification failed.
func VerifyFailed(vs []Verification) []string {
	var out []string
	for _, v := range vs {
		if v.Failed() {
			out = append(out, v.Query.Method)
		}
	}
	return out
}

// call runs q on the canister as it is now.
func (r *Run) call(ctx context.Context, q Query) (Reply, error) {
	arg := q.Arg
	if arg == nil {
		arg = candid.DefaultArg()
	}
	res, err := r.Canister.Query(ctx, q.Method, arg)
	if err != nil {
		return Reply{}, fmt.Errorf("verify query %s: %w", q.Method, err)
	}
	out := Reply{Status: res.Status}
	if res.Status != engine.StatusOK {
		out.Error = res.ErrorText(r.Canister.ID())
		return out, nil
	}
	out.Reply = res.Reply
	var want []*candid.Type
	if ft, ok := Interface(r.Canister.Module()).Method(q.Method); ok {
		want = ft.Results
	}
	if text, err := candid.DecodeText(res.Reply, want); err == nil {
		out.Text = text
	}
	return out, nil
}

// verifyAll calls every query and returns the replies in order.
func (r *Run) verifyAll(ctx context.Context, qs []Query) ([]Reply, error) {
	out := make([]Reply, 0, len(qs))
	for _, q := range qs {
		rep, err := r.call(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, rep)
	}
	return out, nil
}

// VerifyQueries returns the queries `--verify` calls when none are named:
// every method mod's candid:service declares as a query (or composite
// query) that takes no arguments or only opt ones, and that mod exports
// as a query. Opt arguments are sent as null. It is empty for a module
// without a candid:service.
func VerifyQueries(mod *engine.Module) []Query {
	iface := Interface(mod)
	if iface == nil {
		return nil
	}
	var out []Query
	for _, m := range iface.Methods {
		ft := m.Type.Func
		if ft == nil || !(hasMode(ft, "query") || hasMode(ft, "composite_query")) {
			continue
		}
		if em, ok := mod.Method(m.Name); !ok || em.Kind == engine.Update {
			continue
		}
		nulls := make([]string, 0, len(ft.Args))
		ok := true
		for _, a := range ft.Args {
			if a.Kind != candid.Opt {
				ok = false
				break
			}
			nulls = append(nulls, "null")
		}
		if !ok {
			continue
		}
		q := Query{Method: m.Name}
		if len(nulls) > 0 {
			q.ArgText = "(" + strings.Join(nulls, ", ") + ")"
			arg, err := candid.EncodeText(q.ArgText, ft.Args)
			if err != nil {
				continue // cannot happen for nulls of opt types
			}
			q.Arg = arg
		}
		out = append(out, q)
	}
	return out
}

func hasMode(ft *candid.FuncType, mode string) bool {
	for _, m := range ft.Modes {
		if m == mode {
			return true
		}
	}
	return false
}

// ShortDiff shows where two long texts differ: the common prefix and
// suffix cut to a few characters of context, then "before → after" of
// what lies between. Texts of at most width runes are returned whole.
func ShortDiff(a, b string, width int) string {
	if utf8.RuneCountInString(a) <= width && utf8.RuneCountInString(b) <= width {
		return a + " → " + b
	}
	ra, rb := []rune(a), []rune(b)
	p := 0
	for p < len(ra) && p < len(rb) && ra[p] == rb[p] {
		p++
	}
	s := 0
	for s < len(ra)-p && s < len(rb)-p && ra[len(ra)-1-s] == rb[len(rb)-1-s] {
		s++
	}
	const context = 12
	cut := func(r []rune) string {
		mid := r[p : len(r)-s]
		if len(mid) > width {
			mid = append(mid[:width:width], '…')
		}
		pre := r[max(0, p-context):p]
		post := r[len(r)-s : min(len(r), len(r)-s+context)]
		out := string(pre) + string(mid) + string(post)
		if p > context {
			out = "…" + out
		}
		if s > context {
			out += "…"
		}
		return out
	}
	return fmt.Sprintf("at character %d: %s → %s", p, cut(ra), cut(rb))
}
