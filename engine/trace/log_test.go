package trace

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/tetratelabs/wazero/api"
)

// TestEventLogSpill writes more events than the log keeps in memory and
// reads every one back, from the file and from the buffer, in and out of
// order; then fills it to its size limit.
func TestEventLogSpill(t *testing.T) {
	label := func(f funcRef) (string, string) {
		return fmt.Sprintf("f%d/%v", f.fn, f.upgrade), fmt.Sprintf("_ZN%d", f.fn)
	}
	l := newEventLog(3, 0, 1<<40, label, nil)
	l.memBytes = 1000
	defer l.close()
	var want []Event
	i32 := []api.ValueType{api.ValueTypeI32, api.ValueTypeI64}
	const n = 5*blockEvents + 17
	var instr uint64
	for i := range n {
		kind := kindCodes[i%len(kindCodes)]
		instr += uint64(i % 7 * 1000)
		args := []uint64{uint64(i) | 0xffff_ffff_0000_0000, uint64(i) << 40}
		var results []uint64
		if i%3 != 0 {
			results = []uint64{uint64(i * i)}
		}
		phase := fmt.Sprintf("phase%d", i/2000)
		ref := funcRef{fn: uint32(i % 11), upgrade: i%2 == 0}
		if !l.accepts() {
			t.Fatal("the log refused an event")
		}
		text := ""
		if i%5 == 2 {
			text = fmt.Sprint("printed ", i)
		}
		if err := l.append(kind, i%9, l.intern(phase), ref.code(), l.intern("name"), args, i32, results, nil, instr, text); err != nil {
			t.Fatal(err)
		}
		fn, raw := label(ref)
		want = append(want, Event{Index: 3 + i, Kind: kind, Phase: phase, Function: fn, Raw: raw, Name: "name",
			Args: []uint64{uint64(uint32(i)), uint64(i) << 40}, Results: results, Instructions: instr, Depth: i % 9, Text: text})
		if results == nil {
			want[i].Results = nil
		} else if len(results) == 0 {
			want[i].Results = []uint64{}
		}
	}
	if l.file == nil || l.written == 0 || len(l.buf) == 0 {
		t.Fatalf("the log did not spill: %d bytes written, %d buffered", l.written, len(l.buf))
	}
	for _, i := range []int{n - 1, 0, blockEvents, 2*blockEvents - 1, n / 2, 1, n - 2} {
		got, err := l.event(3 + i)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("event %d: %+v, want %+v", i, got, want[i])
		}
	}
	for i := range n {
		got, err := l.event(3 + i)
		if err != nil || !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("event %d: %+v %v, want %+v", i, got, err, want[i])
		}
	}
	if at, ok, err := l.seekInstructions(want[n/3].Instructions); err != nil || !ok || want[at-3].Instructions < want[n/3].Instructions || at > 3+n/3 {
		t.Fatalf("seek instructions: %d %v %v", at, ok, err)
	}
	l.maxBytes = l.size()
	if l.accepts() {
		t.Fatal("a full log accepts events")
	}
}
