package candid

import (
	"fmt"
	"strings"
	"testing"
)

// benchArgs is a typical transfer-sized argument plus a 100-element
// vector of records, the shape of a paginated query reply.
func benchArgs() string {
	var b strings.Builder
	b.WriteString(`(record { to = record { owner = principal "rrkah-fqaaa-aaaaa-aaaaq-cai"; subaccount = opt blob "\01\02\03" }; amount = 1_000_000; memo = opt blob "memo" }, vec {`)
	for i := range 100 {
		fmt.Fprintf(&b, ` record { id = %d : nat64; name = "item %d"; tags = vec { "a"; "b" }; score = %d : int }; `, i, i, -i)
	}
	b.WriteString("})")
	return b.String()
}

func BenchmarkDecodeText(b *testing.B) {
	blob, err := EncodeText(benchArgs(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeText(blob, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeText(b *testing.B) {
	text := benchArgs()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeText(text, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBlob1MiB(b *testing.B) {
	blob, err := Encode([]Value{{Type: VecOf(Prim(Nat8)), Bytes: make([]byte, 1<<20)}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(blob)))
	for b.Loop() {
		if _, err := Decode(blob); err != nil {
			b.Fatal(err)
		}
	}
}
