package candid_test

import (
	"fmt"

	"github.com/canscope/canscope/engine/candid"
)

// A call's argument and reply, typed by the module's candid:service.
func Example() {
	iface, err := candid.ParseInterface(`
		type Account = record { owner : principal; subaccount : opt blob };
		service : { balance : (Account) -> (nat64) query }`)
	if err != nil {
		panic(err)
	}
	arg, err := candid.EncodeText(`(record { owner = principal "aaaaa-aa" })`, iface.Args("balance"))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", arg)
	text, err := candid.DecodeText(arg, iface.Args("balance"))
	if err != nil {
		panic(err)
	}
	fmt.Println(text)
	reply := []byte("DIDL\x00\x01\x78\x40\x42\x0f\x00\x00\x00\x00\x00")
	text, err = candid.DecodeText(reply, iface.Results("balance"))
	if err != nil {
		panic(err)
	}
	fmt.Println(text)
	// Output:
	// 4449444c036c02b3b0dac30368ad86ca8305016e026d7b0100010000
	// (record { owner = principal "aaaaa-aa"; subaccount = null })
	// (1_000_000 : nat64)
}

// Without an interface, field names are hashes unless they are common.
func ExampleDecode() {
	vals, err := candid.Decode([]byte("DIDL\x01\x6b\x01\x9c\xc2\x01\x7d\x01\x00\x00\x2a"))
	if err != nil {
		panic(err)
	}
	fmt.Println(candid.Format(vals))
	_, err = candid.Decode([]byte("{\"json\": true}"))
	fmt.Println(err)
	// Output:
	// (variant { ok = 42 })
	// not a Candid message: no DIDL magic
}
