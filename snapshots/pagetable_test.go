package snapshots

import (
	"reflect"
	"testing"
)

func h(b byte) Hash { return Hash{b} }

func TestPatch(t *testing.T) {
	base := PageTable{Size: 10 * PageSize, Pages: []Page{{1, h(1)}, {3, h(3)}, {7, h(7)}}}
	tests := []struct {
		name    string
		size    uint64
		changes []Page
		want    []Page
	}{
		{"no changes", 10 * PageSize, nil, base.Pages},
		{"replace", 10 * PageSize, []Page{{3, h(33)}}, []Page{{1, h(1)}, {3, h(33)}, {7, h(7)}}},
		{"insert unsorted", 10 * PageSize, []Page{{9, h(9)}, {0, h(10)}, {5, h(5)}},
			[]Page{{0, h(10)}, {1, h(1)}, {3, h(3)}, {5, h(5)}, {7, h(7)}, {9, h(9)}}},
		{"zero drops", 10 * PageSize, []Page{{1, Hash{}}, {2, Hash{}}}, []Page{{3, h(3)}, {7, h(7)}}},
		{"last change wins", 10 * PageSize, []Page{{4, h(40)}, {4, h(41)}}, []Page{{1, h(1)}, {3, h(3)}, {4, h(41)}, {7, h(7)}}},
		{"grow", 20 * PageSize, []Page{{15, h(15)}}, []Page{{1, h(1)}, {3, h(3)}, {7, h(7)}, {15, h(15)}}},
		{"shrink drops tail", 4 * PageSize, []Page{{8, h(8)}}, []Page{{1, h(1)}, {3, h(3)}}},
		{"wipe", 0, nil, []Page{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := base.Patch(tt.size, tt.changes)
			if got.Size != tt.size || !reflect.DeepEqual(got.Pages, tt.want) {
				t.Errorf("Patch = %v, want %v", got.Pages, tt.want)
			}
			if err := got.Validate(MaxStableBytes); err != nil {
				t.Errorf("patched table invalid: %v", err)
			}
		})
	}
	if base.Pages[1].Hash != h(3) {
		t.Error("Patch modified its receiver")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		t    PageTable
		max  uint64
	}{
		{"too big", PageTable{Size: MaxHeapBytes + PageSize}, MaxHeapBytes},
		{"past end", PageTable{Size: PageSize, Pages: []Page{{1, h(1)}}}, MaxHeapBytes},
		{"unsorted", PageTable{Size: 4 * PageSize, Pages: []Page{{2, h(1)}, {1, h(2)}}}, MaxHeapBytes},
		{"duplicate", PageTable{Size: 4 * PageSize, Pages: []Page{{1, h(1)}, {1, h(2)}}}, MaxHeapBytes},
		{"zero hash", PageTable{Size: 4 * PageSize, Pages: []Page{{1, Hash{}}}}, MaxHeapBytes},
	}
	for _, tt := range tests {
		if err := tt.t.Validate(tt.max); err == nil {
			t.Errorf("%s: Validate accepted %+v", tt.name, tt.t)
		}
	}
}

func TestLookup(t *testing.T) {
	tb := PageTable{Size: 10 * PageSize, Pages: []Page{{1, h(1)}, {3, h(3)}}}
	for idx, want := range map[uint64]Hash{0: {}, 1: h(1), 2: {}, 3: h(3), 99: {}} {
		if got := tb.Lookup(idx); got != want {
			t.Errorf("Lookup(%d) = %v, want %v", idx, got.Short(), want.Short())
		}
	}
}
