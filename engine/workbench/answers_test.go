package workbench

import (
	"slices"
	"testing"

	"github.com/canscope/canscope/engine/ic0"
)

// Release gives back the answer taken last for a call like the one given:
// the run's unused answers name it again.
func TestAnswersRelease(t *testing.T) {
	var a Answers
	for _, src := range []string{"first", "second"} {
		ans, err := ParseAnswer("reply", "ryjl3-tyaaa-aaaaa-aaaba-cai.get=(1 : nat64)")
		if err != nil {
			t.Fatal(err)
		}
		ans.Source = src
		a.List = append(a.List, ans)
	}
	calls, unused := a.Calls()
	call := ic0.OutgoingCall{Callee: a.List[0].Callee, Method: "get"}
	for range 2 {
		if _, ok := calls.Answer(call); !ok {
			t.Fatal("no answer")
		}
	}
	calls.Release(call)
	if got := unused(); !slices.Equal(got, []string{"second"}) {
		t.Fatalf("unused %q after releasing the latest, want [second]", got)
	}
	if r, ok := calls.Answer(call); !ok || r.Reject {
		t.Fatal("the released answer is not answered again")
	}
	if got := unused(); len(got) != 0 {
		t.Fatalf("unused %q", got)
	}
}
