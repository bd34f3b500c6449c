package candid

// Hash returns the Candid field id of a field name: the idl_hash of the
// spec, h = Σ byte·223^k mod 2^32 over the name's UTF-8 bytes.
func Hash(name string) uint32 {
	var h uint32
	for i := 0; i < len(name); i++ {
		h = h*223 + uint32(name[i])
	}
	return h
}

// commonLabels are field names so common in canister interfaces that a
// type-table-only decode shows them by name instead of by hash. A hash is a
// one-way function, so this is a guess; it is right unless an interface
// uses a different name with the same 32-bit hash.
var commonLabels = [...]string{
	"ok", "err", "Ok", "Err", "none", "some", "None", "Some",
	"id", "name", "owner", "subaccount", "amount", "fee", "memo",
	"created_at_time", "to", "from", "spender", "value", "key", "data",
	"status", "message", "error", "count", "total", "balance", "timestamp",
	"canister_id", "controllers", "principal", "text", "time",
}

// guessLabel returns the common name whose hash is id, or "".
func guessLabel(id uint32) string {
	for _, n := range commonLabels {
		if Hash(n) == id {
			return n
		}
	}
	return ""
}
