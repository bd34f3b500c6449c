package trace_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// The incident: a pre_upgrade that traps once stable memory passed 4 GiB.
// Trace the upgrade, look at the state where it trapped, and keep the
// moment just after the heap was saved to stable memory as a checkpoint.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "trace-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := fsstore.Open(filepath.Join(dir, "store"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	eng, err := engine.New(engine.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close(ctx)
	bench := workbench.New(store, eng)

	// A production-like snapshot: data in the heap, stable memory > 4 GiB.
	code, err := os.ReadFile("../testdata/incident.wasm")
	if err != nil {
		log.Fatal(err)
	}
	run, _, err := bench.Install(ctx, code, nil, "")
	if err != nil {
		log.Fatal(err)
	}
	run.Canister.Update(ctx, "add_chunks", binary.LittleEndian.AppendUint64(nil, 16))
	run.Canister.Update(ctx, "grow_stable", binary.LittleEndian.AppendUint64(nil, 65537))
	prod, err := run.Commit(ctx, workbench.CommitOptions{Name: "prod", MadeBy: snapshots.MadeByInstall})
	if err != nil {
		log.Fatal(err)
	}
	run.Close(ctx)

	tracer := trace.New(bench, store)
	defer tracer.Close(ctx)
	s, err := tracer.Open(ctx, prod.ID, trace.Request{Upgrade: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)
	saved := -1
	all, _ := s.All()
	for e := range all {
		fmt.Printf("%2d %s\n", e.Index, e)
		if e.Kind == trace.Syscall && e.Name == "stable64_write" {
			saved = e.Index
		}
	}

	v, err := s.Seek(ctx, s.Len()-1)
	if err != nil {
		log.Fatal(err)
	}
	used, _ := v.Instructions()
	fmt.Printf("at the trap: %d stable pages written, %d instructions, stack %q\n",
		len(v.StablePagesChanged()), used, v.Stack()[len(v.Stack())-2:])

	cp, err := s.Checkpoint(ctx, saved, "saved")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("checkpoint %s made by %s, parent %s\n", cp.Ref(), cp.MadeBy, prod.Ref())
	// Output:
	//  0 -> incident::pre_upgrade()
	//  1   -> ic_cdk::storage::stable_save()
	//  2     -> ic_cdk::api::stable::StableWriter::write(0x100080)
	//  3       -> ic_cdk::api::stable::stable64_grow_to(0x1000c0)
	//  4         ic0.stable64_size() = 65537
	//  5       <- ic_cdk::api::stable::stable64_grow_to
	//  6       ic0.stable64_write(64, 0x110000, 0x100080)
	//  7     <- ic_cdk::api::stable::StableWriter::write
	//  8     -> ic_cdk::api::stable::StableWriter::flush(1048512)
	//  9       -> ic_cdk::api::stable::stable_size()
	// 10         ic0.stable_size() trapped
	// 11         trap in ic_cdk::api::stable::stable_size: Canister trapped: 32 bit stable memory api used on a memory larger than 4GB
	// at the trap: 17 stable pages written, 1305839 instructions, stack ["ic_cdk::api::stable::StableWriter::flush" "ic_cdk::api::stable::stable_size"]
	// checkpoint saved@1 made by checkpoint, parent prod@1
}
