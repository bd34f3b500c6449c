package engine

import (
	"context"
	"slices"
	"testing"
)

// TestUpgradePhases checks that an upgrade's instructions are reported per
// execution (pre_upgrade, start, post_upgrade) and add up to the total the
// 300-billion limit applies to.
func TestUpgradePhases(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	names := func(res Result) []string {
		var out []string
		var sum uint64
		for _, p := range res.Phases {
			out = append(out, p.Name)
			sum += p.Instructions
			if p.Instructions == 0 {
				t.Errorf("phase %s used no instructions", p.Name)
			}
		}
		if sum != res.Instructions {
			t.Errorf("phases add up to %d, result says %d", sum, res.Instructions)
		}
		return out
	}

	incident := load(t, e, "incident.wasm")
	c := installed(t, e, incident, nil)
	res, err := c.Update(ctx, "add_chunks", u64(2))
	mustOK(t, res, err)
	res, err = c.Upgrade(ctx, nil, nil, UpgradeOptions{})
	mustOK(t, res, err)
	if got, want := names(res), []string{"pre_upgrade", "compile", "post_upgrade"}; !slices.Equal(got, want) {
		t.Errorf("upgrade phases %v, want %v", got, want)
	}

	// A trap ends the list at the phase that trapped.
	res, err = c.Update(ctx, "grow_stable", u64(65537))
	mustOK(t, res, err)
	res, err = c.Upgrade(ctx, nil, nil, UpgradeOptions{})
	if err != nil || res.Status != StatusTrapped {
		t.Fatalf("upgrade past 4 GiB: %v, %v; want a trap", res.Status, err)
	}
	if got, want := names(res), []string{"pre_upgrade"}; !slices.Equal(got, want) {
		t.Errorf("trapped upgrade phases %v, want %v", got, want)
	}

	// A module with a start function and no upgrade hooks.
	start := load(t, e, "core/start.wasm")
	s := installed(t, e, start, nil)
	res, err = s.Upgrade(ctx, nil, nil, UpgradeOptions{})
	mustOK(t, res, err)
	if got, want := names(res), []string{"compile", "start"}; !slices.Equal(got, want) {
		t.Errorf("start-only upgrade phases %v, want %v", got, want)
	}
}
