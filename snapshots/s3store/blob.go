package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/canscope/canscope/snapshots"
	"github.com/minio/minio-go/v7"
)

// uploader writes blobs behind the caller: PutPage compresses and hashes
// in the caller's goroutine, then queues the upload, so an import keeps
// many requests in flight (object stores answer each in milliseconds, a
// disk in microseconds). The queue is bounded, which bounds memory and
// slows the producer to the network's pace. Commit waits for every queued
// upload and fails if one did: a manifest never names a blob that is not
// in the bucket.
type uploader struct {
	s    *Store
	jobs chan upload
	wg   sync.WaitGroup // running workers
	once sync.Once      // close

	mu      sync.Mutex
	idle    *sync.Cond              // signalled when pending drops to zero
	pending int                     // queued or running uploads
	err     error                   // first failed upload since the last flush
	known   map[snapshots.Hash]bool // blobs this process knows are in the bucket
	listed  map[string]*shardList   // blob shards listed once, by two hex digits

	whole    sync.Once // the first listing of all blobs (small stores)
	wholeErr error
}

// wholeListLimit is how many blob keys the first listing reads before it
// gives up on listing the whole store at once and leaves the rest to one
// listing per shard, on demand: a store of a few snapshots is listed in a
// few requests, a store of millions of blobs only where it is written.
const wholeListLimit = 20000

type upload struct {
	h    snapshots.Hash
	comp []byte
}

// shardList is one shard's listing, read once per process on first need.
type shardList struct {
	once sync.Once
	err  error
}

func newUploader(s *Store, workers int) *uploader {
	u := &uploader{s: s, jobs: make(chan upload, 2*workers), known: map[snapshots.Hash]bool{}, listed: map[string]*shardList{}}
	u.idle = sync.NewCond(&u.mu)
	for range workers {
		u.wg.Add(1)
		go u.work()
	}
	return u
}

func (u *uploader) work() {
	defer u.wg.Done()
	for j := range u.jobs {
		err := u.s.putBlobObject(context.Background(), j.h, j.comp)
		u.mu.Lock()
		if err != nil && u.err == nil {
			u.err = fmt.Errorf("store blob %s: %w", j.h.Short(), err)
		} else if err == nil {
			u.known[j.h] = true
		}
		if u.pending--; u.pending == 0 {
			u.idle.Broadcast()
		}
		u.mu.Unlock()
	}
}

// has reports whether blob h is known to be in the bucket, listing its
// shard once per process: a re-import of a snapshot that is mostly there
// then sends only what changed, at one listing request per thousand blobs.
func (u *uploader) has(ctx context.Context, h snapshots.Hash) (bool, error) {
	u.whole.Do(func() { u.wholeErr = u.listAll(ctx) })
	if u.wholeErr != nil {
		return false, u.wholeErr
	}
	u.mu.Lock()
	if u.known[h] {
		u.mu.Unlock()
		return true, nil
	}
	shard := h.String()[:2]
	l, ok := u.listed[shard]
	if !ok {
		l = &shardList{}
		u.listed[shard] = l
	}
	u.mu.Unlock()
	l.once.Do(func() { l.err = u.listShard(ctx, shard) })
	if l.err != nil {
		return false, l.err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.known[h], nil
}

// listAll lists every blob when the store holds at most wholeListLimit;
// then every shard counts as listed.
func (u *uploader) listAll(ctx context.Context) error {
	s := u.s
	prefix := s.key(blobsDir)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var found []snapshots.Hash
	n := 0
	for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("list blobs in %s: %w", s.cfg.URL(), explain(obj.Err))
		}
		if n++; n > wholeListLimit {
			return nil // a large store: list shards as they are written
		}
		_, name, _ := strings.Cut(strings.TrimPrefix(obj.Key, prefix), "/")
		if h, err := snapshots.ParseHash(name); err == nil && obj.Size > 0 {
			found = append(found, h)
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, h := range found {
		u.known[h] = true
	}
	for i := range 256 {
		l := &shardList{}
		l.once.Do(func() {})
		u.listed[fmt.Sprintf("%02x", i)] = l
	}
	return nil
}

func (u *uploader) listShard(ctx context.Context, shard string) error {
	s := u.s
	prefix := s.key(blobsDir + shard + "/")
	var found []snapshots.Hash
	for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("list blobs in %s: %w", s.cfg.URL(), explain(obj.Err))
		}
		if h, err := snapshots.ParseHash(strings.TrimPrefix(obj.Key, prefix)); err == nil && obj.Size > 0 {
			found = append(found, h)
		}
	}
	u.mu.Lock()
	for _, h := range found {
		u.known[h] = true
	}
	u.mu.Unlock()
	return nil
}

// enqueue queues an upload of the compressed blob comp named h.
func (u *uploader) enqueue(h snapshots.Hash, comp []byte) {
	u.mu.Lock()
	u.pending++
	u.mu.Unlock()
	u.jobs <- upload{h, comp}
}

// flush waits for every queued upload and returns (and clears) the first
// failure.
func (u *uploader) flush() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	for u.pending > 0 {
		u.idle.Wait()
	}
	err := u.err
	u.err = nil
	return err
}

func (u *uploader) close() error {
	err := u.flush()
	u.once.Do(func() {
		close(u.jobs)
		u.wg.Wait()
	})
	return err
}

// partSize is the multipart part of large blobs (modules up to 100 MiB):
// parts go up in parallel.
const partSize = 8 << 20

// putBlobObject uploads one compressed blob and puts it in the cache (a
// blob just written is likely read soon: a call after an import).
func (s *Store) putBlobObject(ctx context.Context, h snapshots.Hash, comp []byte) error {
	opts := minio.PutObjectOptions{ContentType: "application/zstd"}
	if len(comp) > partSize {
		opts.PartSize, opts.NumThreads = partSize, 4
	} else {
		opts.DisableMultipart = true
	}
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, s.key(blobKey(h)), bytes.NewReader(comp), int64(len(comp)), opts); err != nil {
		return explain(err)
	}
	s.cache.put("blobs", h, comp)
	return nil
}

// PutBlob stores data under its SHA-256 unless the bucket has it. The
// upload may finish after PutBlob returns; Commit waits for it.
func (s *Store) PutBlob(data []byte) (snapshots.Hash, error) {
	h, err := snapshots.PrepareBlob(data)
	if err != nil {
		return h, err
	}
	return h, s.put(h, data)
}

// PutPage stores one page (at most PageSize bytes, zero-padded) and
// returns its hash, or the zero Hash without storing anything when the
// page is all zero. The upload may finish after PutPage returns; Commit
// waits for it.
func (s *Store) PutPage(data []byte) (snapshots.Hash, error) {
	page, h, err := snapshots.PreparePage(data)
	if err != nil || page == nil {
		return h, err
	}
	return h, s.put(h, page)
}

func (s *Store) put(h snapshots.Hash, data []byte) error {
	ok, err := s.up.has(context.Background(), h)
	if err != nil {
		return fmt.Errorf("store blob %s: %w", h.Short(), err)
	}
	if ok {
		return nil
	}
	s.up.enqueue(h, s.enc.EncodeAll(data, nil))
	return nil
}

// ReadBlob returns the content of blob h, verified against its hash.
func (s *Store) ReadBlob(h snapshots.Hash) ([]byte, error) {
	return s.read(context.Background(), h, nil)
}

// ReadPage fills buf (at least PageSize long) with page h, verified.
func (s *Store) ReadPage(h snapshots.Hash, buf []byte) error {
	if len(buf) < snapshots.PageSize {
		return fmt.Errorf("read page %s: buffer of %d bytes is smaller than a page", h.Short(), len(buf))
	}
	out, err := s.read(context.Background(), h, buf[:0:snapshots.PageSize])
	if err != nil {
		return err
	}
	if len(out) != snapshots.PageSize {
		return fmt.Errorf("read page %s: blob holds %d bytes, not a page", h.Short(), len(out))
	}
	if &out[0] != &buf[0] {
		copy(buf, out)
	}
	return nil
}

// read returns blob h appended to dst: from the cache when it holds an
// intact copy, else from the bucket (then cached).
func (s *Store) read(ctx context.Context, h snapshots.Hash, dst []byte) ([]byte, error) {
	if comp, hit := s.cache.get("blobs", h, nil); hit {
		if out, err := s.decode(h, comp, dst); err == nil {
			return out, nil
		}
		s.cache.drop("blobs", h) // damaged copy: read the bucket's
	}
	comp, err := s.fetch(ctx, h)
	if isNotFound(err) {
		return nil, fmt.Errorf("blob %s: %w; run `canscope fsck`", h.Short(), snapshots.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h.Short(), explain(err))
	}
	out, err := s.decode(h, comp, dst)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w; run `canscope fsck`", h.Short(), err)
	}
	s.cache.put("blobs", h, comp)
	return out, nil
}

// fetch reads blob h's object. Large blobs are read as parallel ranged
// reads of partSize each.
func (s *Store) fetch(ctx context.Context, h snapshots.Hash) ([]byte, error) {
	key := s.key(blobKey(h))
	limit := int64(snapshots.MaxModuleBytes + 1<<20)
	first, err := s.rangeRead(ctx, key, 0, partSize)
	if err != nil || len(first) < partSize {
		return first, err
	}
	info, err := s.client.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return nil, err
	}
	if info.Size > limit {
		return nil, fmt.Errorf("object of %d bytes is larger than any blob canscope writes", info.Size)
	}
	out := make([]byte, info.Size)
	copy(out, first)
	parts := int((info.Size - partSize + partSize - 1) / partSize)
	err = parallel(ctx, parts, 4, func(i int) error {
		off := int64(i+1) * partSize
		b, err := s.rangeRead(ctx, key, off, min(partSize, info.Size-off))
		if err == nil && int64(len(b)) != min(partSize, info.Size-off) {
			err = errors.New("short ranged read")
		}
		if err == nil {
			copy(out[off:], b)
		}
		return err
	})
	return out, err
}

// rangeRead reads n bytes at off (fewer at the end of the object).
func (s *Store) rangeRead(ctx context.Context, key string, off, n int64) ([]byte, error) {
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, off+n-1); err != nil {
		return nil, err
	}
	b, err := s.getObject(ctx, key, make([]byte, 0, min(n, 1<<20)), n, opts)
	if r := minio.ToErrorResponse(err); r.Code == "InvalidRange" && off == 0 {
		return nil, nil // an empty object: decode reports it
	}
	return b, err
}

// decode decompresses a blob frame into dst and checks its hash.
func (s *Store) decode(h snapshots.Hash, comp, dst []byte) ([]byte, error) {
	out, err := s.dec.DecodeAll(comp, dst)
	if err != nil {
		return nil, fmt.Errorf("corrupt: does not decompress (%w)", err)
	}
	if got := snapshots.HashOf(out); got != h {
		return nil, fmt.Errorf("corrupt: content hashes to %s", got.Short())
	}
	return out, nil
}
