package themes

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name        string
		flag        string
		env         map[string]string
		wantName    string
		wantNoColor bool
		wantErr     string
	}{
		{name: "default", wantName: "dark"},
		{name: "env", env: map[string]string{"CANSCOPE_THEME": "light"}, wantName: "light"},
		{name: "flag beats env", flag: "high-contrast", env: map[string]string{"CANSCOPE_THEME": "light"}, wantName: "high-contrast"},
		{name: "no color", env: map[string]string{"NO_COLOR": "1"}, wantName: "dark", wantNoColor: true},
		{name: "unknown", flag: "solarized", wantErr: `theme "solarized": unknown, pick one of dark, high-contrast, light`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(tt.flag, env(tt.env))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Select error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tt.wantName || got.NoColor != tt.wantNoColor {
				t.Errorf("Select = %s (no colour %v), want %s (no colour %v)", got.Name, got.NoColor, tt.wantName, tt.wantNoColor)
			}
		})
	}
}

// TestNoColorDropsColour checks that NO_COLOR output carries no colour
// escape (38;/48; SGR parameters) while colour themes do.
func TestNoColorDropsColour(t *testing.T) {
	for _, name := range Names() {
		th, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		colour := th.Styles()
		th.NoColor = true
		plain := th.Styles()
		for _, tc := range []struct {
			what string
			out  string
			want bool
		}{
			{"colour changed cell", colour.CellChanged.Render("x"), true},
			{"colour selected row", colour.Selected.Render("x"), true},
			{"plain changed cell", plain.CellChanged.Render("x"), false},
			{"plain selected row", plain.Selected.Render("x"), false},
			{"plain status", plain.Status.Render("x"), false},
			{"plain overlay", plain.Overlay.Render("x"), false},
		} {
			has := strings.Contains(tc.out, "38;") || strings.Contains(tc.out, "48;")
			if has != tc.want {
				t.Errorf("%s: %s has colour = %v, want %v (%q)", name, tc.what, has, tc.want, tc.out)
			}
		}
		if !strings.Contains(plain.Selected.Render("x"), "7") {
			t.Errorf("%s: no-colour selection should be reverse video, got %q", name, plain.Selected.Render("x"))
		}
	}
}
