package bridge

import (
	"fmt"
	"strings"

	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/tui/source"
)

// Inspect parses module and returns its exports, candid:service metadata
// and metadata section names. It satisfies source.ModuleInspector.
func Inspect(module []byte) (source.ModuleInfo, error) {
	raw, err := wasm.Decompress(module)
	if err != nil {
		return source.ModuleInfo{}, fmt.Errorf("inspect module: %w", err)
	}
	m, err := wasm.Parse(raw)
	if err != nil {
		return source.ModuleInfo{}, fmt.Errorf("inspect module: %w", err)
	}
	info := source.ModuleInfo{Exports: m.ExportedFunctions(), Metadata: m.MetadataNames()}
	if did, _, ok := m.Metadata("candid:service"); ok {
		info.Candid = string(did)
		if iface, err := candid.ParseInterface(info.Candid); err == nil {
			info.Signatures = make(map[string]string, len(iface.Methods))
			for _, meth := range iface.Methods {
				info.Signatures[meth.Name] = strings.TrimPrefix(meth.Type.String(), "func ")
			}
		}
	}
	if types, _, ok := m.Metadata("motoko:stable-types"); ok {
		info.StableTypes = string(types)
	}
	return info, nil
}
