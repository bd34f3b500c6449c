package s3store

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/canscope/canscope/snapshots"
	"github.com/minio/minio-go/v7"
)

// Check is fsck on the bucket itself (the local cache is not trusted for
// it): it reads and verifies every blob and manifest object, checks that
// every NAME@N claim names a manifest that exists and agrees, and judges
// the references by the same rules as the local store
// (snapshots.CheckReport.Judge). Claims are listed before blobs, so a
// commit running concurrently only adds snapshots Check does not judge.
func (s *Store) Check(ctx context.Context) (*snapshots.CheckReport, error) {
	rep := &snapshots.CheckReport{Problems: []snapshots.Problem{}}
	claims, err := s.listClaims(ctx)
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	ids, err := s.resolveClaims(ctx, claims)
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	manifestKeys, err := s.listKeys(ctx, manifestsDir)
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	claimed := map[snapshots.ID]claim{}
	var visible []snapshots.ID
	var manifests []*snapshots.Manifest
	var mu sync.Mutex
	for _, c := range claims {
		id, ok := ids[c.rel]
		if !ok {
			rep.Problems = append(rep.Problems, snapshots.Problem{
				What: snapshots.ProblemCorruptManifest, Ref: fmt.Sprintf("%s@%d", c.name, c.seq),
				Detail: fmt.Sprintf("the claim %s does not name a snapshot id; delete it", s.key(c.rel)),
			})
			continue
		}
		claimed[id] = c
	}
	claimedList := make([]snapshots.ID, 0, len(claimed))
	for id := range claimed {
		claimedList = append(claimedList, id)
	}
	err = parallel(ctx, len(claimedList), 16, func(i int) error {
		id := claimedList[i]
		c := claimed[id]
		ref := fmt.Sprintf("%s@%d", c.name, c.seq)
		b, err := s.getObject(ctx, s.key(manifestKey(id)), nil, maxManifestBytes, minio.GetObjectOptions{})
		var m *snapshots.Manifest
		switch {
		case isNotFound(err):
			err = fmt.Errorf("%s names manifest %s, which is not in the store", ref, id.Short())
		case err != nil:
			return explain(err)
		default:
			if m, err = snapshots.DecodeManifest(b); err == nil && m.ID != id {
				err = fmt.Errorf("content hashes to %s, not its name", m.ID.Short())
			} else if err == nil && m.Ref() != ref {
				err = fmt.Errorf("claimed as %s but the manifest says %s", ref, m.Ref())
			}
		}
		mu.Lock()
		defer mu.Unlock()
		rep.SnapshotsChecked++
		if err != nil {
			rep.Problems = append(rep.Problems, snapshots.Problem{
				Snapshot: id.String(), Ref: ref, What: snapshots.ProblemCorruptManifest,
				Detail: fmt.Sprintf("manifest %s: %v", id.Short(), err),
			})
			return nil
		}
		visible = append(visible, id)
		manifests = append(manifests, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	for _, k := range manifestKeys {
		if id, err := snapshots.ParseHash(k); err == nil {
			if _, ok := claimed[id]; !ok {
				rep.UnclaimedManifests++
			}
		}
	}
	blobKeys, err := s.listKeys(ctx, blobsDir)
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	bad, good := map[snapshots.Hash]string{}, map[snapshots.Hash]bool{}
	err = parallel(ctx, len(blobKeys), 32, func(i int) error {
		_, name, _ := strings.Cut(blobKeys[i], "/")
		h, err := snapshots.ParseHash(name)
		if err != nil {
			return nil // not a blob
		}
		comp, err := s.fetch(ctx, h)
		if err != nil && !isNotFound(err) {
			return explain(err)
		}
		if err == nil {
			_, err = s.decode(h, comp, nil)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			bad[h] = err.Error()
		} else {
			good[h] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	rep.BlobsChecked = len(bad) + len(good)
	rep.Judge(visible, manifests, bad, good, func(h snapshots.Hash) string {
		return fmt.Sprintf("delete %s/%s", s.cfg.URL(), blobKey(h))
	})
	return rep, nil
}

// listKeys lists the keys under dir (relative to it).
func (s *Store) listKeys(ctx context.Context, dir string) ([]string, error) {
	prefix := s.key(dir)
	var out []string
	for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list %s in %s: %w", dir, s.cfg.URL(), explain(obj.Err))
		}
		out = append(out, strings.TrimPrefix(obj.Key, prefix))
	}
	return out, nil
}
