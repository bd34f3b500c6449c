package meter

import "testing"

// BenchmarkInstrument measures instrumenting the Motoko fixture (about
// 220 KB of code), the work done once per module load.
func BenchmarkInstrument(b *testing.B) {
	m := loadModule(b, "../testdata/motoko_v1.wasm")
	b.SetBytes(int64(len(m.Encode())))
	for b.Loop() {
		if _, _, err := Instrument(m); err != nil {
			b.Fatal(err)
		}
	}
}
