package fsstore

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/canscope/canscope/snapshots"
)

// randomPage returns a page of pseudo-random bytes.
func randomPage(seed uint64) []byte {
	p := make([]byte, snapshots.PageSize)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(p)
	return p
}

// TestRawFrameIsZstds: the frame stored for an incompressible page
// without running zstd is byte for byte the frame the store's encoder
// writes for it, and reads back as the page.
func TestRawFrameIsZstds(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page := randomPage(1)
	if !incompressible(page) {
		t.Fatal("a random page is not judged incompressible")
	}
	raw := append(rawPageFrame[:], page...)
	if enc := s.enc.EncodeAll(page, nil); !bytes.Equal(enc, raw) {
		t.Fatalf("zstd writes % x… (%d bytes), the raw frame is % x… (%d bytes)", enc[:12], len(enc), raw[:12], len(raw))
	}
	h, err := s.PutPage(page)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, snapshots.PageSize)
	if err := s.ReadPage(h, got); err != nil || !bytes.Equal(got, page) {
		t.Fatalf("read back: %v, equal %v", err, bytes.Equal(got, page))
	}
}

// TestIncompressible: only random-looking pages skip zstd; pages zstd
// shrinks, including partly filled ones, are compressed.
func TestIncompressible(t *testing.T) {
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog; "), snapshots.PageSize/45+1)[:snapshots.PageSize]
	counters := make([]byte, snapshots.PageSize)
	for i := 0; i < len(counters); i += 8 {
		binary.LittleEndian.PutUint64(counters[i:], uint64(i)*2654435761)
	}
	tail := randomPage(2)
	clear(tail[snapshots.PageSize-256:]) // data up to the last 256 bytes
	head := randomPage(3)
	clear(head[:256])
	half := randomPage(4)
	clear(half[snapshots.PageSize/2:])
	lowBytes := randomPage(5) // 6 bits of entropy a byte
	for i := range lowBytes {
		lowBytes[i] &= 0x3f
	}
	for name, c := range map[string]struct {
		page []byte
		want bool
	}{
		"random": {randomPage(6), true},
		"text":   {text, false}, "counters": {counters, false},
		"zeros at the end": {tail, false}, "zeros at the start": {head, false},
		"half zeros": {half, false}, "6-bit bytes": {lowBytes, false},
	} {
		if got := incompressible(c.page); got != c.want {
			t.Errorf("%s: incompressible = %v, want %v", name, got, c.want)
		}
	}
}

// TestPageDedupLoose: a page present as a loose blob (as a format-1 store
// holds its pages) is not stored again in a pack, whether it was there
// when the loose blobs were listed or written by another process since
// this Store last held the writers lock.
func TestPageDedupLoose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	loose := func(page []byte) snapshots.Hash {
		t.Helper()
		other, err := Open(dir) // another process's store
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		h, err := other.PutBlob(page) // PutBlob stores loose
		if err == nil {
			err = other.flush()
		}
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	a := loose(randomPage(7))
	if h, err := s.PutPage(randomPage(7)); err != nil || h != a {
		t.Fatalf("PutPage: %v, %v", h, err)
	}
	if s.pendingPage(a) {
		t.Fatal("a page stored loose was written into a pack again")
	}
	s.releaseWriters() // as a commit that leaves nothing pending does
	b := loose(randomPage(8))
	if _, err := s.PutPage(randomPage(8)); err != nil {
		t.Fatal(err)
	}
	if s.pendingPage(b) {
		t.Fatal("a page stored loose since the writers lock was last held was written into a pack again")
	}
}
