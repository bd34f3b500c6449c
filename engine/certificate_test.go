package engine

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/canscope/canscope/engine/certify"
)

// A canister that certifies data and returns its certificate in a query
// (ic0_all ops 20 and 21, the asset canister's pattern) answers with a
// certificate whose tree holds the certified data under its canister id,
// verifiable against the local root key.
func TestQueryDataCertificate(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "ic0_all.wasm"), nil)
	signer, err := certify.NewSigner(certify.DefaultSeed)
	if err != nil {
		t.Fatal(err)
	}
	env := *c.Env()
	env.RootKey = signer.RootKey()
	env.Certify = func(id, data []byte, time uint64) []byte {
		cert, err := signer.Certificate(id, data, time)
		if err != nil {
			t.Error(err)
		}
		return cert
	}
	c.SetEnv(&env)

	res, err := c.Update(ctx, "certified_data_set", nil)
	mustOK(t, res, err)
	// An update sees no certificate (op 20 replies data_certificate_present).
	if binary.LittleEndian.Uint32(res.Reply) != 0 {
		t.Fatal("an update sees a data certificate")
	}
	res, err = c.Query(ctx, "data_certificate_query", nil)
	mustOK(t, res, err)
	if len(res.Reply) < 8 || binary.LittleEndian.Uint32(res.Reply) != 1 {
		t.Fatalf("reply %x: no certificate present", res.Reply)
	}
	n := binary.LittleEndian.Uint32(res.Reply[4:])
	cert := res.Reply[8 : 8+n]
	data, err := certify.Lookup(cert, signer.RootKey(), "canister", string(env.CanisterID), "certified_data")
	if err != nil || string(data) != "ic0_all certified data" {
		t.Fatalf("certified_data %q, %v", data, err)
	}
	tm, err := certify.Lookup(cert, signer.RootKey(), "time")
	if v, _ := binary.Uvarint(tm); err != nil || v != env.Time {
		t.Fatalf("time %d, %v; want %d", v, err, env.Time)
	}
	if !res.CertificateRead {
		t.Fatal("Result.CertificateRead not set")
	}
}
