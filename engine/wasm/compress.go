package wasm

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// maxModuleSize bounds a decompressed module. The IC accepts at most 100 MiB
// of uncompressed wasm; anything larger is not a canister and is likely a
// decompression bomb.
const maxModuleSize = 100 << 20

// Decompress returns the raw module bytes of b, which is either a wasm
// module or a gzip-compressed one (the .wasm.gz dfx ships). Anything else is
// an error.
func Decompress(b []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(b, header[:4]):
		return b, nil
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("decompress wasm: %w", err)
		}
		out, err := io.ReadAll(io.LimitReader(zr, maxModuleSize+1))
		if err != nil {
			return nil, fmt.Errorf("decompress wasm: %w", err)
		}
		if len(out) > maxModuleSize {
			return nil, fmt.Errorf("decompress wasm: module exceeds %d MiB uncompressed", maxModuleSize>>20)
		}
		if !bytes.HasPrefix(out, header[:4]) {
			return nil, errors.New("decompress wasm: gzip content is not a wasm module (bad magic)")
		}
		return out, nil
	}
	return nil, errors.New("not a wasm module (bad magic)")
}
