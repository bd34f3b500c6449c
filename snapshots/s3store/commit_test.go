package s3store

import (
	"context"
	"testing"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/storetest"
)

// A commit that loses its NAME@N to another writer between sealing and
// claiming retries as the next N; neither snapshot is lost.
func TestCommitLosingTheRaceTakesNextSeq(t *testing.T) {
	loc := testURL(t)
	a, b := openTest(t, loc, ""), openTest(t, loc, "")
	var rival snapshots.Snapshot
	a.beforeClaim = func() {
		if rival.Seq == 0 {
			rival = storetest.CommitPages(t, b, "prod", nil, storetest.Page(2))
		}
	}
	mine := storetest.CommitPages(t, a, "prod", nil, storetest.Page(1))
	if rival.Ref() != "prod@1" || mine.Ref() != "prod@2" || a.Stats().ClaimsLost.Load() != 1 {
		t.Fatalf("rival %s, mine %s, claims lost %d; want prod@1, prod@2, 1", rival.Ref(), mine.Ref(), a.Stats().ClaimsLost.Load())
	}
	all, err := b.List()
	if err != nil || len(all) != 2 {
		t.Fatalf("List = %v, %v", all, err)
	}
	rep, err := a.Check(context.Background())
	if err != nil || !rep.OK || rep.UnclaimedManifests != 1 {
		t.Errorf("fsck = %+v, %v; want clean with the loser's first manifest unclaimed", rep, err)
	}
}

// A claim naming no readable manifest (deleted or damaged) does not
// block the name: the next commit takes the N after it, and fsck names it.
func TestDanglingClaimDoesNotBlockTheName(t *testing.T) {
	s := openTest(t, testURL(t), "")
	s.rawPut(t, refKey("prod", 1), []byte(snapshots.Hash{7}.String()+"\n"))
	snap := storetest.CommitPages(t, s, "prod", nil, storetest.Page(3))
	if snap.Ref() != "prod@2" {
		t.Errorf("commit after a dangling prod@1 claim is %s, want prod@2", snap.Ref())
	}
	rep, err := s.Check(context.Background())
	if err != nil || rep.OK || len(rep.Problems) != 1 || rep.Problems[0].Ref != "prod@1" {
		t.Errorf("fsck = %+v, %v; want one problem naming prod@1", rep, err)
	}
}
