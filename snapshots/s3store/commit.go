package s3store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/canscope/canscope/snapshots"
	"github.com/minio/minio-go/v7"
)

// maxClaimTries bounds the retries of a commit that keeps losing its
// NAME@N to other writers; each loss means another snapshot landed.
const maxClaimTries = 64

// Commit makes m a snapshot of the store (see snapshots.Store). It waits
// for this process's uploads, checks that every blob m adds to its
// parent's is in the bucket, then:
//
//  1. lists the snapshots and seals m as the next NAME@N;
//  2. writes the manifest object (named by its hash, so harmless if the
//     commit goes no further: no claim names it, nothing lists it);
//  3. claims NAME@N by writing refs/NAME/N with If-None-Match: *. The
//     claim is the commit point: S3 writes an object whole or not at all,
//     and of two writers claiming the same N exactly one succeeds. The
//     loser seals again as N+1 and retries.
//
// A process killed at any point leaves either no claim (no snapshot) or a
// complete one.
func (s *Store) Commit(ctx context.Context, m *snapshots.Manifest) (snapshots.Snapshot, error) {
	fail := func(err error) (snapshots.Snapshot, error) {
		return snapshots.Snapshot{}, fmt.Errorf("commit snapshot %q: %w", m.Name, err)
	}
	if err := m.CheckCommittable(); err != nil {
		return fail(err)
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
	for range maxClaimTries {
		all, err := s.listForSeal(ctx, m.Name)
		if err != nil {
			return fail(err)
		}
		enc, err := m.Seal(all)
		if err != nil {
			return fail(err)
		}
		if err := s.putSmall(ctx, s.key(manifestKey(m.ID)), enc, false); err != nil {
			return fail(fmt.Errorf("write manifest: %w", err))
		}
		if s.beforeClaim != nil {
			s.beforeClaim()
		}
		err = s.putSmall(ctx, s.key(refKey(m.Name, m.Seq)), []byte(m.ID.String()+"\n"), true)
		if errors.Is(err, errTaken) {
			s.stats.ClaimsLost.Add(1)
			continue // another writer took NAME@N first
		}
		if err != nil {
			return fail(fmt.Errorf("claim %s: %w", m.Ref(), err))
		}
		s.cache.put("manifests", m.ID, enc)
		return m.Snapshot, nil
	}
	return fail(fmt.Errorf("%d other snapshots named %q landed while this one tried to; try again", maxClaimTries, m.Name))
}

// listForSeal lists the snapshots for sealing a commit under name: the
// visible ones, preceded by a placeholder for every claim of name that
// names no readable snapshot (a damaged or deleted manifest), so the next
// N is past every claimed N. Without them a dangling claim would make
// every commit under the name lose its conditional write forever.
func (s *Store) listForSeal(ctx context.Context, name string) ([]snapshots.Snapshot, error) {
	claims, err := s.listClaims(ctx)
	if err != nil {
		return nil, err
	}
	all, err := s.snapshotsOf(ctx, claims)
	if err != nil {
		return nil, err
	}
	visible := map[int]bool{}
	for _, v := range all {
		if v.Name == name {
			visible[v.Seq] = true
		}
	}
	var out []snapshots.Snapshot
	for _, c := range claims {
		if c.name == name && !visible[c.seq] {
			out = append(out, snapshots.Snapshot{Name: name, Seq: c.seq})
		}
	}
	return append(out, all...), nil
}

// checkBlobs verifies that every blob m references and its parent does
// not is in the bucket: known from this process's uploads and listings,
// else asked for with a HEAD request.
func (s *Store) checkBlobs(ctx context.Context, m, parent *snapshots.Manifest) error {
	refs := snapshots.NewBlobs(m, parent)
	return parallel(ctx, len(refs), 32, func(i int) error {
		r := refs[i]
		ok, err := s.up.has(ctx, r.Hash)
		if err != nil || ok {
			return err
		}
		_, err = s.client.StatObject(ctx, s.cfg.Bucket, s.key(blobKey(r.Hash)), minio.StatObjectOptions{})
		if isNotFound(err) {
			return fmt.Errorf("%s: blob %s is not in the store (store it with PutPage/PutBlob before Commit)", r.What, r.Hash.Short())
		}
		return explain(err)
	})
}

// conditionalWrites checks once per store (remembered in the cache) that
// the server honours If-None-Match: * on PUT, the rule that keeps two
// writers from both taking one NAME@N: it writes a probe object twice and
// expects the second write to be refused. A server that ignores the
// header would let a commit silently replace another's, so canscope
// refuses to commit to it rather than risk losing a snapshot.
func (s *Store) conditionalWrites(ctx context.Context) error {
	s.condOnce.Do(func() {
		seen := s.stateFile("conditional-writes-ok")
		if seen != "" {
			if _, err := os.Stat(seen); err == nil {
				return
			}
		}
		var nonce [8]byte
		rand.Read(nonce[:])
		key := s.key("probe/" + hex.EncodeToString(nonce[:]))
		defer s.client.RemoveObject(context.WithoutCancel(ctx), s.cfg.Bucket, key, minio.RemoveObjectOptions{})
		if err := s.putSmall(ctx, key, []byte("1"), true); err != nil {
			s.condErr = fmt.Errorf("probe conditional writes: %w", err)
			return
		}
		switch err := s.putSmall(ctx, key, []byte("2"), true); {
		case errors.Is(err, errTaken):
			s.remember(seen)
		case err == nil:
			s.condErr = fmt.Errorf("the server behind %s ignores conditional writes (If-None-Match: *), so two writers could take the same NAME@N; canscope does not commit to it (use a server that supports them: AWS S3, R2, MinIO, Ceph, SeaweedFS)", s.cfg.URL())
		default:
			s.condErr = fmt.Errorf("probe conditional writes: %w", err)
		}
	})
	return s.condErr
}
