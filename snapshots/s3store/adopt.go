package s3store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/canscope/canscope/snapshots"
	"github.com/minio/minio-go/v7"
)

var _ snapshots.Receiver = (*Store)(nil)

// HasBlobs reports, for each hash, whether the bucket holds its blob
// (from the shard listings this process read, else a HEAD request).
func (s *Store) HasBlobs(ctx context.Context, hs []snapshots.Hash) ([]bool, error) {
	out := make([]bool, len(hs))
	err := parallel(ctx, len(hs), 32, func(i int) error {
		ok, err := s.up.has(ctx, hs[i])
		out[i] = ok
		return err
	})
	return out, err
}

// Adopt commits m verbatim, as a copy of another store's snapshot
// (snapshots.Receiver): the manifest object, then the claim of its NAME@N
// with If-None-Match: *. A claim already naming m is success (a copy
// repeated); one naming another snapshot is refused.
func (s *Store) Adopt(ctx context.Context, m *snapshots.Manifest) (snapshots.Snapshot, error) {
	fail := func(err error) (snapshots.Snapshot, error) {
		return snapshots.Snapshot{}, fmt.Errorf("adopt snapshot %s: %w", m.Ref(), err)
	}
	if err := s.up.flush(); err != nil {
		return fail(err)
	}
	var parent *snapshots.Manifest
	if m.Parent != nil {
		p, err := s.Manifest(*m.Parent)
		if err != nil {
			return fail(fmt.Errorf("parent: %w", err))
		}
		parent = p
	}
	if err := s.checkBlobs(ctx, m, parent); err != nil {
		return fail(err)
	}
	if err := s.conditionalWrites(ctx); err != nil {
		return fail(err)
	}
	all, err := s.list(ctx)
	if err != nil {
		return fail(err)
	}
	enc, done, err := snapshots.CheckAdopt(m, all)
	if err != nil || done {
		if err != nil {
			return fail(err)
		}
		return m.Snapshot, nil
	}
	if err := s.putSmall(ctx, s.key(manifestKey(m.ID)), enc, false); err != nil {
		return fail(fmt.Errorf("write manifest: %w", err))
	}
	key := refKey(m.Name, m.Seq)
	err = s.putSmall(ctx, s.key(key), []byte(m.ID.String()+"\n"), true)
	if errors.Is(err, errTaken) {
		// Raced: someone claimed NAME@N since the listing.
		b, gerr := s.getObject(ctx, s.key(key), nil, 256, minio.GetObjectOptions{})
		if gerr != nil {
			return fail(fmt.Errorf("claim %s: %w", m.Ref(), explain(gerr)))
		}
		if other, perr := snapshots.ParseHash(strings.TrimSpace(string(b))); perr == nil && other != m.ID {
			return fail(snapshots.RefTaken(m, other))
		}
		err = nil
	}
	if err != nil {
		return fail(fmt.Errorf("claim %s: %w", m.Ref(), err))
	}
	s.cache.put("manifests", m.ID, enc)
	return m.Snapshot, nil
}
