package workbench

import (
	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
)

// Interface parses mod's candid:service section: the types a method's
// Candid argument is encoded with and its reply decoded with. It is nil
// when the module has none or it does not parse; decoding then falls back
// to the message's own type table.
func Interface(mod *engine.Module) *candid.Interface {
	did, _, ok := mod.Metadata("candid:service")
	if !ok {
		return nil
	}
	iface, err := candid.ParseInterface(string(did))
	if err != nil {
		return nil
	}
	return iface
}
