package ic0

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero"

	"github.com/canscope/canscope/engine/principal"
)

// ExampleHost shows how an engine runs one message against the System API:
// state.Begin, host.Begin, call the canister, host.End, then commit or roll
// back depending on the outcome.
func ExampleHost() {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)

	state := NewState()
	host := NewHost(state, DefaultEnv())
	if _, err := host.Instantiate(ctx, r); err != nil {
		fmt.Println(err)
		return
	}
	// A stand-in canister whose exports forward to ic0 (see proxyModule).
	canister, err := r.Instantiate(ctx, proxyModule(1))
	if err != nil {
		fmt.Println(err)
		return
	}

	state.Begin()
	msg := &Message{Context: PreUpgrade}
	host.Begin(msg, nil, nil)
	_, err = canister.ExportedFunction("stable64_grow").Call(ctx, 65537)
	if err == nil {
		_, err = canister.ExportedFunction("stable_size").Call(ctx)
	}
	host.End()

	if tr, ok := AsTrap(err); ok {
		state.Rollback()
		fmt.Println(tr.Report(principal.Text(host.Env().CanisterID)))
	} else {
		state.Commit()
	}
	fmt.Println("stable pages after the message:", state.Stable.Size())
	// Output:
	// IC0502: Error from Canister rrkah-fqaaa-aaaaa-aaaaq-cai: Canister trapped: 32 bit stable memory api used on a memory larger than 4GB
	// stable pages after the message: 0
}
