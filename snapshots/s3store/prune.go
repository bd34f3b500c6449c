package s3store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/canscope/canscope/snapshots"
	"github.com/minio/minio-go/v7"
)

// pruneGrace is how old an unreferenced blob or unclaimed manifest must
// be before prune deletes it. S3 has no lock that prune could take
// against writers (the directory store's writers.lock), so a blob an
// import is about to reference may look unreferenced; any import that
// started less than a day ago keeps its blobs.
const pruneGrace = 24 * time.Hour

// Damaged lists the NAME@N claims whose manifest is missing, unreadable
// or does not verify; it reads every claimed manifest object.
func (s *Store) Damaged() ([]snapshots.Damaged, error) {
	ctx := context.Background()
	claims, err := s.listClaims(ctx)
	if err != nil {
		return nil, err
	}
	_, damaged, err := s.claimedManifests(ctx, claims)
	return damaged, err
}

// claimedManifests reads and verifies the manifest of every claim.
func (s *Store) claimedManifests(ctx context.Context, claims []claim) ([]*snapshots.Manifest, []snapshots.Damaged, error) {
	ids, err := s.resolveClaims(ctx, claims)
	if err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	var good []*snapshots.Manifest
	var bad []snapshots.Damaged
	err = parallel(ctx, len(claims), 16, func(i int) error {
		c := claims[i]
		id, ok := ids[c.rel]
		if !ok {
			return nil // removed since the listing, or names no id (fsck)
		}
		m, err := s.Manifest(id)
		if err == nil && (m.Name != c.name || m.Seq != c.seq) {
			err = fmt.Errorf("claimed as %s@%d but the manifest says %s", c.name, c.seq, m.Ref())
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			bad = append(bad, snapshots.Damaged{ID: id, Reason: err.Error()})
		} else {
			good = append(good, m)
		}
		return nil
	})
	return good, bad, err
}

// Remove deletes the snapshots ids name: their NAME@N claims (which makes
// them invisible at once) and their manifest objects; prune then frees
// the blobs nobody else uses. A snapshot another descends from is
// refused unless withDescendants (snapshots.RemovalSet). Unlike the
// directory store there is no lock: a commit racing the removal of its
// parent lands with a missing parent, which fsck reports.
func (s *Store) Remove(ctx context.Context, ids []snapshots.ID, withDescendants bool) ([]snapshots.Snapshot, error) {
	claims, err := s.listClaims(ctx)
	if err != nil {
		return nil, err
	}
	all, err := s.snapshotsOf(ctx, claims)
	if err != nil {
		return nil, err
	}
	doomed, err := snapshots.RemovalSet(all, ids, withDescendants)
	if err != nil {
		return nil, err
	}
	var removed []snapshots.Snapshot
	for _, snap := range all {
		if doomed[snap.ID] {
			removed = append(removed, snap)
		}
	}
	refIDs, err := s.resolveClaims(ctx, claims)
	if err != nil {
		return nil, err
	}
	for _, c := range claims { // a damaged snapshot is removed by id
		if id, ok := refIDs[c.rel]; ok && doomed[id] && !slices.ContainsFunc(removed, func(x snapshots.Snapshot) bool { return x.ID == id }) {
			removed = append(removed, snapshots.Snapshot{ID: id})
		}
	}
	for _, c := range claims {
		id, ok := refIDs[c.rel]
		if !ok || !doomed[id] {
			continue
		}
		if err := s.client.RemoveObject(ctx, s.cfg.Bucket, s.key(c.rel), minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("remove %s@%d: %w", c.name, c.seq, explain(err))
		}
		s.sumMu.Lock()
		delete(s.refs, c.rel)
		s.sumMu.Unlock()
	}
	for _, snap := range removed {
		if err := s.client.RemoveObject(ctx, s.cfg.Bucket, s.key(manifestKey(snap.ID)), minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("remove snapshot %s: %w", snap.ID.Short(), explain(err))
		}
		s.sumMu.Lock()
		delete(s.summaries, snap.ID)
		s.sumMu.Unlock()
	}
	s.saveRefCache()
	return removed, nil
}

// Prune deletes the blobs no snapshot references and the manifests no
// claim names, when older than pruneGrace (see there), and reports what
// it freed. A store with a damaged snapshot is refused, as in the
// directory store: the blobs it references cannot be known.
func (s *Store) Prune(ctx context.Context) (snapshots.PruneReport, error) {
	var rep snapshots.PruneReport
	claims, err := s.listClaims(ctx)
	if err != nil {
		return rep, err
	}
	manifests, damaged, err := s.claimedManifests(ctx, claims)
	if err != nil {
		return rep, err
	}
	if len(damaged) > 0 {
		d := damaged[0]
		return rep, fmt.Errorf("prune %s: snapshot %s is damaged (%s); run `canscope fsck` and remove it with `canscope rm %s` first", s.cfg.URL(), d.ID.Short(), d.Reason, d.ID.Short())
	}
	used := snapshots.Referenced(manifests)
	claimed := map[snapshots.ID]bool{}
	for _, m := range manifests {
		claimed[m.ID] = true
	}
	grace := pruneGrace
	if s.pruneGrace != 0 {
		grace = s.pruneGrace
	}
	cutoff := time.Now().Add(-grace)
	type victim struct {
		key  string
		size int64
		blob bool
	}
	var victims []victim
	for _, dir := range []string{blobsDir, manifestsDir} {
		prefix := s.key(dir)
		for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if obj.Err != nil {
				return rep, fmt.Errorf("prune: list %s: %w", dir, explain(obj.Err))
			}
			rel := strings.TrimPrefix(obj.Key, prefix)
			if dir == blobsDir {
				_, rel, _ = strings.Cut(rel, "/")
			}
			h, err := snapshots.ParseHash(rel)
			if err != nil {
				continue // not ours: leave it
			}
			if (dir == blobsDir && used[h]) || (dir == manifestsDir && claimed[h]) {
				if dir == blobsDir {
					rep.BlobsKept++
				}
				continue
			}
			if obj.LastModified.After(cutoff) {
				if dir == blobsDir {
					rep.BlobsTooYoung++
				}
				continue
			}
			victims = append(victims, victim{obj.Key, obj.Size, dir == blobsDir})
		}
	}
	var mu sync.Mutex
	err = parallel(ctx, len(victims), 16, func(i int) error {
		v := victims[i]
		if err := s.client.RemoveObject(ctx, s.cfg.Bucket, v.key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
			return fmt.Errorf("prune: %w", explain(err))
		}
		mu.Lock()
		defer mu.Unlock()
		rep.BytesFreed += v.size
		if v.blob {
			rep.BlobsRemoved++
		} else {
			rep.TempRemoved++ // an unclaimed manifest
		}
		return nil
	})
	return rep, err
}
