package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/certify"
)

// The asset canister's pattern (rust_assets.wasm, built by rustc from
// testdata/rust/assets): an update stores an asset and certifies the
// asset tree; a non-replicated http_request query answers 200 with the
// body and a v1 IC-Certificate header that verifies as a boundary node
// checks it: the BLS signature against the local root key, the state
// tree's certified_data equal to the asset tree's root hash, the body's
// SHA-256 in the asset tree. A key never stored answers 404.
func TestAssetCanisterHTTPRequest(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "rust_assets.wasm"), nil)
	local, err := certify.LocalCertificates()
	if err != nil {
		t.Fatal(err)
	}
	env := *c.Env()
	local(&env)
	c.SetEnv(&env)

	encode := func(text string) []byte {
		t.Helper()
		b, err := candid.EncodeText(text, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, a := range [][2]string{{"/index.html", "<h1>offline</h1>"}, {"/app.js", "console.log(1)"}, {"/style.css", "h1{}"}} {
		res, err := c.Update(ctx, "store", encode(`("`+a[0]+`", "text/plain", blob "`+a[1]+`")`))
		mustOK(t, res, err)
	}
	get := func(url string) Result {
		t.Helper()
		res, err := c.Query(ctx, "http_request", encode(`(record { url = "`+url+`"; method = "GET"; headers = vec {}; body = blob "" })`))
		mustOK(t, res, err)
		return res
	}

	res := get("/app.js?v=2")
	r, err := certify.VerifyAssetReply(res.Reply, env.RootKey, env.CanisterID, "/app.js")
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode != 200 || string(r.Body) != "console.log(1)" {
		t.Fatalf("status %d body %q", r.StatusCode, r.Body)
	}
	// The same header does not certify another body or another path, nor
	// verify against another key.
	h, _ := r.Header("IC-Certificate")
	if err := certify.VerifyAsset(h, env.RootKey, env.CanisterID, "/app.js", []byte("console.log(2)")); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("a changed body verified: %v", err)
	}
	if err := certify.VerifyAsset(h, env.RootKey, env.CanisterID, "/index.html", r.Body); err == nil {
		t.Fatal("the witness of /app.js certified /index.html")
	}
	other, err := certify.NewSigner([]byte("another key, not canscope's local one"))
	if err != nil {
		t.Fatal(err)
	}
	if err := certify.VerifyAsset(h, other.RootKey(), env.CanisterID, "/app.js", r.Body); err == nil {
		t.Fatal("verified against another root key")
	}

	// A later store changes the certified root: the new response verifies.
	res, err = c.Update(ctx, "store", encode(`("/app.js", "text/javascript", blob "console.log(3)")`))
	mustOK(t, res, err)
	if r, err := certify.VerifyAssetReply(get("/app.js").Reply, env.RootKey, env.CanisterID, "/app.js"); err != nil || string(r.Body) != "console.log(3)" {
		t.Fatalf("after the second store: %q, %v", r.Body, err)
	}

	r, err = certify.DecodeHTTPResponse(get("/missing.html").Reply)
	if err != nil || r.StatusCode != 404 {
		t.Fatalf("missing key: status %d, %v", r.StatusCode, err)
	}
}
