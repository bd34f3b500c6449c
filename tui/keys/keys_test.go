package keys_test

import (
	"math"
	"reflect"
	"testing"

	"charm.land/bubbles/v2/key"

	// Registers -update, so go test ./tui/... -update runs everywhere.
	_ "github.com/canscope/canscope/tui/internal/screentest"
	. "github.com/canscope/canscope/tui/keys"
)

// TestEveryBindingHasHelp guards the overlay: a binding without help text
// would be handled but never shown.
func TestEveryBindingHasHelp(t *testing.T) {
	km := DefaultKeyMap()
	v := reflect.ValueOf(km)
	for i := 0; i < v.NumField(); i++ {
		b := v.Field(i).Interface().(key.Binding)
		name := v.Type().Field(i).Name
		if len(b.Keys()) == 0 {
			t.Errorf("%s has no keys", name)
		}
		if b.Help().Key == "" || b.Help().Desc == "" {
			t.Errorf("%s has no help text", name)
		}
	}
}

func TestForGroupsScreenMovementGlobal(t *testing.T) {
	km := DefaultKeyMap()
	h := km.For([]key.Binding{km.Diff}, true)
	full := h.FullHelp()
	if len(full) != 3 || full[0][0].Help().Key != "d" || full[2][len(full[2])-1].Help().Key != "q" {
		t.Errorf("FullHelp groups = %v", full)
	}
	if got := km.For([]key.Binding{km.Back}, false).ShortHelp(); len(got) != 3 {
		t.Errorf("esc listed by a screen and globally should show once: %v", got)
	}
	if len(km.For(nil, false).FullHelp()) != 1 {
		t.Error("a screen without keys and scrolling should only show the global group")
	}
	short := h.ShortHelp()
	if short[0].Help().Key != "?" || short[1].Help().Key != "d" || short[len(short)-1].Help().Key != "q" {
		t.Errorf("ShortHelp = %v", short)
	}
}

type keyName string

func (k keyName) String() string { return string(k) }

// TestScroll: each movement key's distance for a scrolled view; other
// keys are not movement.
func TestScroll(t *testing.T) {
	k := DefaultKeyMap()
	for name, want := range map[string]int{"k": -1, "down": 1, "pgup": -7, "ctrl+d": 7, "g": math.MinInt32, "end": math.MaxInt32} {
		if got, ok := k.Scroll(keyName(name), 7); !ok || got != want {
			t.Errorf("Scroll(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	if _, ok := k.Scroll(keyName("tab"), 7); ok {
		t.Error("tab scrolls")
	}
}
