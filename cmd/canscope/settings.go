package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// canisterSettings are the settings of the real canister that change how
// it runs offline, read from what `icp canister status --json` or
// `dfx canister status` printed for it (--settings FILE).
type canisterSettings struct {
	// WasmMemoryLimit is the wasm_memory_limit in bytes (0: none), nil
	// when the file does not give it.
	WasmMemoryLimit *uint64
	// WasmMemoryThreshold is the wasm_memory_threshold in bytes (the
	// low-memory hook's trigger), nil when the file does not give it.
	WasmMemoryThreshold *uint64
	// Controllers are the canister's controllers (ic0.is_controller).
	Controllers []string
}

// icpStatus is the part of `icp canister status --json` canscope reads
// (icp-cli crates/icp-cli/src/commands/canister/status.rs,
// SerializableCanisterStatusResult): Nat fields are strings as candid
// prints them, with '_' separators ("3_221_225_472").
type icpStatus struct {
	Settings *struct {
		Controllers         []string `json:"controllers"`
		WasmMemoryLimit     string   `json:"wasm_memory_limit"`
		WasmMemoryThreshold string   `json:"wasm_memory_threshold"`
	} `json:"settings"`
}

// dfx canister status prints "Wasm memory limit: 3_221_225_472 Bytes" and
// "Controllers: <p> <p> ...".
var (
	dfxWasmLimit   = regexp.MustCompile(`(?m)^\s*Wasm memory limit:\s*([0-9_]+)`)
	dfxWasmThresh  = regexp.MustCompile(`(?m)^\s*Wasm memory threshold:\s*([0-9_]+)`)
	dfxControllers = regexp.MustCompile(`(?m)^\s*Controllers:\s*(.*)$`)
)

// readSettings reads a status file.
func readSettings(path string) (canisterSettings, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return canisterSettings{}, fmt.Errorf("--settings: %w", err)
	}
	s, err := parseSettings(b)
	if err != nil {
		return canisterSettings{}, fmt.Errorf("--settings %s: %w", path, err)
	}
	return s, nil
}

// parseSettings parses `icp canister status --json` output or `dfx
// canister status` text.
func parseSettings(b []byte) (canisterSettings, error) {
	var out canisterSettings
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var st icpStatus
		if err := json.Unmarshal(t, &st); err != nil {
			return out, fmt.Errorf("not `icp canister status --json` output: %w", err)
		}
		if st.Settings == nil {
			return out, errors.New(`no "settings" object: give the output of icp canister status --json`)
		}
		out.Controllers = st.Settings.Controllers
		if st.Settings.WasmMemoryLimit != "" {
			v, err := natText(st.Settings.WasmMemoryLimit)
			if err != nil {
				return out, fmt.Errorf("wasm_memory_limit: %w", err)
			}
			out.WasmMemoryLimit = &v
		}
		if st.Settings.WasmMemoryThreshold != "" {
			v, err := natText(st.Settings.WasmMemoryThreshold)
			if err != nil {
				return out, fmt.Errorf("wasm_memory_threshold: %w", err)
			}
			out.WasmMemoryThreshold = &v
		}
		return out, nil
	}
	m := dfxWasmLimit.FindSubmatch(b)
	c := dfxControllers.FindSubmatch(b)
	if m == nil && c == nil {
		return out, errors.New("neither icp canister status --json output nor dfx canister status output (no \"Wasm memory limit:\" line)")
	}
	if m != nil {
		v, err := natText(string(m[1]))
		if err != nil {
			return out, fmt.Errorf("Wasm memory limit: %w", err)
		}
		out.WasmMemoryLimit = &v
	}
	if c != nil {
		out.Controllers = strings.Fields(string(c[1]))
	}
	if t := dfxWasmThresh.FindSubmatch(b); t != nil {
		v, err := natText(string(t[1]))
		if err != nil {
			return out, fmt.Errorf("Wasm memory threshold: %w", err)
		}
		out.WasmMemoryThreshold = &v
	}
	return out, nil
}

// natText parses a candid Nat as printed, "3_221_225_472".
func natText(s string) (uint64, error) {
	v, err := strconv.ParseUint(strings.ReplaceAll(strings.TrimSpace(s), "_", ""), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a byte count", s)
	}
	return v, nil
}
