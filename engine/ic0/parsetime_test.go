package ic0

import (
	"strings"
	"testing"
)

// --time past the u64 nanosecond range is refused, not wrapped.
func TestParseTimeRange(t *testing.T) {
	for _, ok := range []struct {
		in   string
		want uint64
	}{
		{"18446744073709551615", 18446744073709551615},
		{"2554-07-21T23:34:33.709551615Z", 18446744073709551615},
		{"2300-01-01T00:00:00Z", 10413792000000000000},
		{"1970-01-01T00:00:01Z", 1e9},
	} {
		if got, err := ParseTime(ok.in); err != nil || got != ok.want {
			t.Errorf("ParseTime(%s) = %d, %v; want %d", ok.in, got, err, ok.want)
		}
	}
	for _, bad := range []string{"18446744073709551616", "2554-07-21T23:34:33.709551616Z", "9999-01-01T00:00:00Z"} {
		if _, err := ParseTime(bad); err == nil || !strings.Contains(err.Error(), "beyond the range") {
			t.Errorf("ParseTime(%s): %v, want refused as beyond the range", bad, err)
		}
	}
}
