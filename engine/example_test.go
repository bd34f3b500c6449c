package engine_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log"
	"os"

	"github.com/canscope/canscope/engine"
)

// Install a canister and call it: a reply, and the replica's rejection of a
// method the module does not export.
func Example() {
	ctx := context.Background()
	eng, err := engine.New(engine.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close(ctx)

	wasm, err := os.ReadFile("testdata/counter.wasm")
	if err != nil {
		log.Fatal(err)
	}
	mod, err := eng.Load(ctx, wasm)
	if err != nil {
		log.Fatal(err)
	}
	c, err := eng.NewCanister(ctx, engine.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	if _, err := c.Install(ctx, mod, binary.LittleEndian.AppendUint64(nil, 41)); err != nil {
		log.Fatal(err)
	}
	res, err := c.Update(ctx, "inc", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, binary.LittleEndian.Uint64(res.Reply), "heap pages written:", res.HeapPagesChanged)

	res, err = c.Update(ctx, "no_such_method", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, res.Code)
	// Output:
	// ok 42 heap pages written: [0]
	// rejected IC0536
}
