package s3store

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/canscope/canscope/snapshots"
)

// A blob larger than a multipart part goes up in parts and comes back in
// parallel ranged reads, verified.
func TestLargeBlobMultipartAndRangedRead(t *testing.T) {
	loc := testURL(t)
	s := openTest(t, loc, "-")
	big := make([]byte, 2*partSize+12345) // random: zstd cannot shrink it below a part
	r := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	h, err := s.PutBlob(big)
	if err != nil {
		t.Fatal(err)
	}
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "mod", MadeBy: snapshots.MadeByInstall}, Module: h}
	if _, err := s.Commit(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	other := openTest(t, loc, "-")
	got, err := other.ReadBlob(h)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("ReadBlob of a %d-byte blob: %d bytes, %v", len(big), len(got), err)
	}
	if n := other.Stats().ObjectGets.Load(); n < 3 {
		t.Errorf("read a %d-byte blob in %d GETs: want ranged reads of %d-byte parts", len(big), n, partSize)
	}
}
