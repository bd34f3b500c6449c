package trace

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/canscope/canscope/engine"
)

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// TestSeekEveryNthEvent compares the state at every 5th event of a
// longer run (32 heap pages filled, checksums saved to stable memory)
// reached moving forward from the start with the state reached moving
// backward and jumping around at random, with and without anchors.
func TestSeekEveryNthEvent(t *testing.T) {
	f := newFixture(t)
	snap := f.install(t, "testdata/longrun.wasm")
	for _, anchors := range []int{0, 3} {
		t.Run(fmt.Sprintf("anchors=%d", anchors), func(t *testing.T) {
			s, err := f.tracer.Open(context.Background(), snap.ID, Request{Method: "fill", Arg: u32(32), Anchors: anchors})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			if len(s.anchors) != anchors {
				t.Fatalf("%d anchors, want %d", len(s.anchors), anchors)
			}
			for k, a := range s.anchors {
				if k > 0 && a.target <= s.anchors[k-1].target {
					t.Fatalf("anchor targets %d then %d", s.anchors[k-1].target, a.target)
				}
			}
			var grows []string
			for _, e := range events(t, s) {
				if e.Kind == Grow {
					grows = append(grows, e.String())
				}
			}
			want := []string{"    memory grew by 32 pages from 1 to 33", "      stable grew by 1 pages from 0 to 1"}
			if !slices.Equal(grows, want) {
				t.Errorf("grow events %q, want %q", grows, want)
			}
			checkSeeks(t, s)
		})
	}
}

func checkSeeks(t *testing.T, s *Session) {
	ctx := context.Background()
	if s.Len() < 60 {
		t.Fatalf("only %d events", s.Len())
	}
	const step = 5
	var sampled []int
	for i := 0; i < s.Len(); i += step {
		sampled = append(sampled, i)
	}
	forward := map[int][32]byte{}
	distinct := map[[32]byte]bool{}
	for _, i := range sampled {
		v, err := s.Seek(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		h := stateHash(t, v)
		forward[i], distinct[h] = h, true
	}
	// The run changes the state between nearly all samples: a session
	// that showed one state throughout would fail here.
	if len(distinct) < len(sampled)*3/4 {
		t.Fatalf("%d distinct states at %d sampled events", len(distinct), len(sampled))
	}
	order := append([]int(nil), sampled...)
	for a, b := 0, len(order)-1; a < b; a, b = a+1, b-1 {
		order[a], order[b] = order[b], order[a]
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10 {
		order = append(order, sampled[rng.IntN(len(sampled))])
	}
	for _, i := range order {
		v, err := s.Seek(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		if stateHash(t, v) != forward[i] {
			t.Errorf("event %d (%s): the state differs from the one seen moving forward", i, events(t, s)[i])
		}
	}
}

func TestAnchorMemory(t *testing.T) {
	f := newFixture(t)
	snap := f.install(t, "testdata/longrun.wasm", call{"fill", u32(8)}) // 9 heap pages stored
	for _, c := range []struct {
		budget uint64
		want   int
	}{{0, 3}, {100 * engine.PageSize, 3}, {20 * engine.PageSize, 2}, {engine.PageSize, 0}} {
		s, err := f.tracer.Open(context.Background(), snap.ID, Request{Method: "fill", Arg: u32(4), Anchors: 3, AnchorMemory: c.budget})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.anchors) != c.want {
			t.Errorf("budget %d bytes: %d anchors, want %d", c.budget, len(s.anchors), c.want)
		}
		s.Close(context.Background())
	}
}
