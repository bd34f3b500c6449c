package s3store

import (
	"context"
	"testing"
	"time"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/storetest"
)

// rm refuses a snapshot others descend from, removes it with them, and
// prune frees their blobs once past the grace period, never a blob a
// snapshot still uses.
func TestRemoveAndPrune(t *testing.T) {
	s := openTest(t, testURL(t), "")
	p1 := storetest.CommitPages(t, s, "prod", nil, storetest.Page(1), storetest.Page(2))
	storetest.CommitPages(t, s, "prod", &p1.ID, storetest.Page(1), storetest.Page(3))
	other := storetest.CommitPages(t, s, "other", nil, storetest.Page(1))
	ctx := context.Background()
	if _, err := s.Remove(ctx, []snapshots.ID{p1.ID}, false); err == nil {
		t.Fatal("removed a snapshot another descends from")
	}
	removed, err := s.Remove(ctx, []snapshots.ID{p1.ID}, true)
	if err != nil || len(removed) != 2 {
		t.Fatalf("Remove with descendants = %v, %v", removed, err)
	}
	fresh := openTest(t, s.Location(), "")
	if all, err := fresh.List(); err != nil || len(all) != 1 || all[0].ID != other.ID {
		t.Fatalf("after rm another handle lists %v, %v", all, err)
	}
	rep, err := s.Prune(ctx)
	if err != nil || rep.BlobsRemoved != 0 || rep.BlobsTooYoung != 2 || rep.BlobsKept != 1 {
		t.Fatalf("prune within the grace period = %+v, %v; want 2 young blobs kept", rep, err)
	}
	s.pruneGrace = -time.Minute // everything is old enough
	rep, err = s.Prune(ctx)
	if err != nil || rep.BlobsRemoved != 2 || rep.BlobsKept != 1 {
		t.Fatalf("prune = %+v, %v; want pages 2 and 3 removed, page 1 kept", rep, err)
	}
	if c, err := fresh.Check(ctx); err != nil || !c.OK || c.UnreferencedBlobs != 0 {
		t.Errorf("fsck after prune = %+v, %v", c, err)
	}
}
