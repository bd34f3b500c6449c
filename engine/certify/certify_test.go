package certify

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestCertificateRoundTrip(t *testing.T) {
	s, err := NewSigner(DefaultSeed)
	if err != nil {
		t.Fatal(err)
	}
	id := []byte{0, 0, 0, 0, 0, 0, 0, 1, 1, 1}
	cert, err := s.Certificate(id, []byte("hello"), 1234567)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Lookup(cert, s.RootKey(), "canister", string(id), "certified_data")
	if err != nil || string(got) != "hello" {
		t.Fatalf("certified_data %q, %v", got, err)
	}
	tm, err := Lookup(cert, s.RootKey(), "time")
	if v, _ := binary.Uvarint(tm); err != nil || v != 1234567 {
		t.Fatalf("time %x, %v", tm, err)
	}
	if !bytes.HasPrefix(cert, []byte{0xd9, 0xd9, 0xf7}) {
		t.Fatalf("certificate does not start with the self-describing tag: %x", cert[:3])
	}
	// Another key does not verify it; a changed byte breaks it.
	other, _ := NewSigner(bytes.Repeat([]byte{7}, 32))
	if _, err := Lookup(cert, other.RootKey(), "time"); err == nil {
		t.Fatal("verified against another key")
	}
	bad := bytes.Clone(cert)
	i := bytes.Index(bad, []byte("hello"))
	bad[i] = 'j'
	if _, err := Lookup(bad, s.RootKey(), "time"); err == nil {
		t.Fatal("a changed tree verified")
	}
}
