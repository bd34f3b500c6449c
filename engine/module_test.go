package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"github.com/canscope/canscope/engine/wasm"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadRejects(t *testing.T) {
	e := newEngine(t, Config{})
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"not wasm", []byte("hello, world"), "not a wasm module"},
		{"empty", nil, "not a wasm module"},
		{"truncated", read("counter.wasm")[:40], "parse wasm"},
		{"memory64", heap64(t, read("core/memory64.wasm"), 65537), "wasm64 module declares an initial heap of 65537 pages (4.00 GiB): canscope runs wasm64 heaps up to 4 GiB"},
		{"foreign import", read("core/import_env.wasm"), "Wasm module has an invalid import section. Module imports function 'abort' from 'env' that is not exported by the runtime."},
		{"unknown ic0 function", read("core/import_unknown.wasm"), "Wasm module has an invalid import section. Module imports function 'no_such_function' from 'ic0' that is not exported by the runtime."},
		{"wrong signature", read("core/import_badtype.wasm"), "Wasm module has an invalid function signature. Expected input params [] for 'msg_reply', got [I32]."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Load(context.Background(), tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load error %v, want it to contain %q", err, tt.want)
			}
			if tt.name == "memory64" && !errors.Is(err, ErrMemory64) {
				t.Errorf("error %v does not wrap ErrMemory64", err)
			}
		})
	}
}

// heap64 returns the wasm64 module b with an initial heap of pages.
func heap64(t *testing.T, b []byte, pages uint64) []byte {
	t.Helper()
	m, err := wasm.Parse(b)
	if err != nil || !m.IsMemory64() {
		t.Fatalf("not a wasm64 module: %v", err)
	}
	mems := append([]wasm.Limits(nil), m.Memories...)
	mems[0].Min, mems[0].HasMax = pages, false
	m.SetMemories(mems)
	return m.Encode()
}

func TestLoadInfo(t *testing.T) {
	e := newEngine(t, Config{})
	raw, err := os.ReadFile("testdata/counter.wasm")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	for _, in := range [][]byte{raw, gz.Bytes()} {
		m, err := e.Load(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if m.Hash() != sha256.Sum256(in) || !bytes.Equal(m.Bytes(), in) {
			t.Error("module hash or bytes are not those of the input")
		}
		want := []Method{{"inc", Update}, {"get", Query}}
		if !slices.Equal(m.Methods(), want) {
			t.Errorf("Methods = %v, want %v", m.Methods(), want)
		}
		if !m.HasExport("canister_pre_upgrade") || m.HasExport("canister_heartbeat") {
			t.Error("HasExport is wrong")
		}
		if got := m.Globals(); len(got) != 1 || got[0].Export != "__persistent_mutable_global_0" {
			t.Errorf("Globals = %+v, want the one mutable global", got)
		}
	}
	m := load(t, e, "motoko_v1.wasm")
	// moc writes the sections as icp:private; dfx makes them public.
	if svc, _, ok := m.Metadata("candid:service"); !ok || !bytes.Contains(svc, []byte("add: (nat, text) -> (nat)")) {
		t.Errorf("candid:service = %q, ok %v", svc, ok)
	}
	if !slices.Contains(m.MetadataNames(), "motoko:stable-types") {
		t.Errorf("MetadataNames = %v, want motoko:stable-types", m.MetadataNames())
	}
}

func TestStartRunsOnInstallAndUpgradeOnly(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	mod := load(t, e, "core/start.wasm")
	c := installed(t, e, mod, nil)
	starts := func(c *Canister) []byte {
		res, err := c.Query(ctx, "starts", nil)
		mustOK(t, res, err)
		return res.Reply
	}
	// Start ran once: heap counter 1, global 1, data segment in place.
	if got, want := starts(c), []byte{1, 0, 0, 0, 1, 0, 0, 0, 'D', 'A', 'T', 'A'}; !bytes.Equal(got, want) {
		t.Fatalf("after install: %q, want %q", got, want)
	}
	res, err := c.Update(ctx, "poke", nil)
	mustOK(t, res, err)
	// A restore applies neither start nor data segments.
	c2, err := e.Restore(ctx, mod, mustState(t, c), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	if got, want := starts(c2), []byte{1, 0, 0, 0, 1, 0, 0, 0, 0x77, 0, 0, 0}; !bytes.Equal(got, want) {
		t.Fatalf("after restore: %q, want %q", got, want)
	}
	// An upgrade discards the heap: data segments and start run anew.
	res, err = c2.Upgrade(ctx, nil, nil, UpgradeOptions{})
	mustOK(t, res, err)
	if got, want := starts(c2), []byte{1, 0, 0, 0, 1, 0, 0, 0, 'D', 'A', 'T', 'A'}; !bytes.Equal(got, want) {
		t.Fatalf("after upgrade: %q, want %q", got, want)
	}
}

func TestDidNotReply(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "core/start.wasm"), nil)
	res, err := c.Update(ctx, "silent", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusRejected || res.Code != CodeDidNotReply ||
		res.ErrorText(c.ID()) != "Canister rrkah-fqaaa-aaaaa-aaaaq-cai did not reply to the call" {
		t.Fatalf("got %s %s %q", res.Status, res.Code, res.ErrorText(c.ID()))
	}
	// Not replying is no trap: the changes are kept.
	if len(res.HeapPagesChanged) != 1 {
		t.Errorf("changed heap pages %v, want the write kept", res.HeapPagesChanged)
	}
}
