package layout_test

import (
	"bytes"
	"fmt"

	"github.com/canscope/canscope/engine/layout"
)

// Stable memory that holds no known layout gives KindUnknown and a
// reason, not an error; MemoryAt then labels nothing.
func ExampleDetect() {
	mem := []byte("INCD\x01\x00\x00\x00 a custom header")
	l, err := layout.Detect(bytes.NewReader(mem), uint64(len(mem)), "")
	if err != nil {
		panic(err)
	}
	fmt.Println(l.Kind)
	fmt.Println(l.Summary)
	_, ok := l.MemoryAt(0)
	fmt.Println(ok)
	// Output:
	// unknown
	// not a stable-structures layout: no MGR magic at offset 0
	// false
}
