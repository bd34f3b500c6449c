// Package s3store is the snapshot store on S3-compatible object storage
// (AWS S3, Cloudflare R2, MinIO, Ceph RGW, SeaweedFS): the same
// content-addressed, zstd-compressed blobs and encoded manifests as the
// local store, as objects under s3://BUCKET/PREFIX, with NAME@N claimed
// by conditional writes so several writers share a bucket safely. A local
// read-through cache keeps reads of a snapshot off the network after the
// first. Layout and consistency rules are in ../FORMAT.md.
package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/canscope/canscope/snapshots"
	"github.com/klauspost/compress/zstd"
	"github.com/minio/minio-go/v7"
)

// Key names under the store prefix.
const (
	markerKey    = "canscope-store"
	markerText   = "canscope snapshot store, format 1 (see snapshots/FORMAT.md)\n"
	blobsDir     = "blobs/"
	manifestsDir = "manifests/"
	refsDir      = "refs/"
)

// Store is a snapshot store in an S3 bucket. It implements
// snapshots.Store and is safe for concurrent use.
type Store struct {
	cfg    Config
	client *minio.Client
	stats  *Stats
	cache  *cache
	enc    *zstd.Encoder
	dec    *zstd.Decoder

	up        *uploader
	closeOnce sync.Once

	sumMu     sync.Mutex
	summaries map[snapshots.ID]snapshots.Snapshot
	refs      map[string]refEntry // key under refs/ → the id it names, by ETag

	condOnce sync.Once
	condErr  error // non-nil when the server ignores If-None-Match

	// beforeClaim, when set (by tests), runs between sealing a commit and
	// claiming its NAME@N: where another writer's commit races it.
	beforeClaim func()
	// pruneGrace, when set (by tests), replaces the pruneGrace constant.
	pruneGrace time.Duration
}

var _ snapshots.Store = (*Store)(nil)

// Stats counts the store's traffic: what a test or a benchmark asserts
// about ("a second call reads nothing remote", "a re-import sends < 2 %").
type Stats struct {
	Requests   atomic.Int64 // HTTP requests sent
	ObjectGets atomic.Int64 // GET requests of objects (not listings)
	Lists      atomic.Int64 // listing requests
	ClaimsLost atomic.Int64 // NAME@N claims another writer made first
	BytesSent  atomic.Int64 // request body bytes
	BytesRecv  atomic.Int64 // response body bytes
}

// countingTransport counts requests and body bytes both ways.
type countingTransport struct {
	next  http.RoundTripper
	stats *Stats
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.stats.Requests.Add(1)
	if r.Method == http.MethodGet {
		if q := r.URL.Query(); q.Has("list-type") || q.Has("prefix") || q.Has("delimiter") {
			t.stats.Lists.Add(1)
		} else {
			t.stats.ObjectGets.Add(1)
		}
	}
	if r.ContentLength > 0 {
		t.stats.BytesSent.Add(r.ContentLength)
	}
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.Body != nil {
		resp.Body = countingBody{resp.Body, t.stats}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	stats *Stats
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.stats.BytesRecv.Add(int64(n))
	return n, err
}

// Open connects to the store cfg names, creating it (the marker object)
// when the prefix is empty. The bucket must exist. A prefix holding other
// objects is refused rather than written into.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Uploads <= 0 {
		cfg.Uploads = 32
	}
	if cfg.Creds != nil {
		if _, err := cfg.Creds.Get(); err != nil {
			return nil, fmt.Errorf("open store %s: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials (%w)", cfg.URL(), err)
		}
	}
	stats := &Stats{}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Uploads + 16
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        cfg.Creds,
		Secure:       cfg.Secure,
		Region:       cfg.Region,
		Transport:    countingTransport{tr, stats},
		BucketLookup: lookupFor(cfg.Endpoint),
	})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.URL(), err)
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(max(4, runtime.GOMAXPROCS(0))),
		zstd.WithLowerEncoderMem(true),
		zstd.WithEncoderCRC(false)) // SHA-256 verifies every read already
	if err != nil {
		return nil, fmt.Errorf("open store %s: zstd encoder: %w", cfg.URL(), err)
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(max(4, runtime.GOMAXPROCS(0))),
		zstd.WithDecoderMaxMemory(snapshots.MaxModuleBytes+1),
		zstd.WithDecoderLowmem(true),
		zstd.IgnoreChecksum(true))
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("open store %s: zstd decoder: %w", cfg.URL(), err)
	}
	s := &Store{cfg: cfg, client: client, stats: stats, enc: enc, dec: dec,
		summaries: map[snapshots.ID]snapshots.Snapshot{}}
	if cfg.CacheDir != "" {
		s.cache = newCache(cfg.CacheDir, cfg.CacheBytes)
	}
	s.up = newUploader(s, cfg.Uploads)
	if err := s.initLayout(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.loadRefCache()
	return s, nil
}

// lookupFor picks path-style addressing for custom endpoints (MinIO,
// SeaweedFS, Ceph serve buckets as paths) and lets minio-go choose for
// AWS's own hosts.
func lookupFor(endpoint string) minio.BucketLookupType {
	if strings.HasSuffix(strings.Split(endpoint, ":")[0], "amazonaws.com") {
		return minio.BucketLookupAuto
	}
	return minio.BucketLookupPath
}

// initLayout checks the marker, writing it into an empty prefix. A store
// seen before (its marker is remembered in the cache) costs no request.
func (s *Store) initLayout(ctx context.Context) error {
	seen := s.stateFile("marker")
	if seen != "" {
		if _, err := os.Stat(seen); err == nil {
			return nil
		}
	}
	_, err := s.client.StatObject(ctx, s.cfg.Bucket, s.key(markerKey), minio.StatObjectOptions{})
	if err == nil {
		s.remember(seen)
		return nil
	}
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NotFound":
	case "NoSuchBucket":
		return fmt.Errorf("open store %s: bucket %q does not exist: create it first (e.g. `aws s3 mb s3://%s`)", s.cfg.URL(), s.cfg.Bucket, s.cfg.Bucket)
	default:
		return fmt.Errorf("open store %s: %w", s.cfg.URL(), explain(err))
	}
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("open store %s: %w", s.cfg.URL(), explain(err))
	}
	if !ok {
		return fmt.Errorf("open store %s: bucket %q does not exist: create it first (e.g. `aws s3 mb s3://%s`)", s.cfg.URL(), s.cfg.Bucket, s.cfg.Bucket)
	}
	for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.key(""), Recursive: true, MaxKeys: 1}) {
		if obj.Err != nil {
			return fmt.Errorf("open store %s: %w", s.cfg.URL(), explain(obj.Err))
		}
		rel := strings.TrimPrefix(obj.Key, s.key(""))
		// Another process creating the store at the same time leaves
		// only these.
		if rel != markerKey && !strings.HasPrefix(rel, blobsDir) && !strings.HasPrefix(rel, manifestsDir) &&
			!strings.HasPrefix(rel, refsDir) && !strings.HasPrefix(rel, "probe/") {
			return fmt.Errorf("open store %s: the prefix holds other objects and no canscope store; pass --store with a new or empty prefix", s.cfg.URL())
		}
		break
	}
	if err := s.putSmall(ctx, s.key(markerKey), []byte(markerText), false); err != nil {
		return fmt.Errorf("create store %s: %w", s.cfg.URL(), err)
	}
	s.remember(seen)
	return nil
}

// explain turns the S3 errors an operator can fix into advice.
func explain(err error) error {
	switch minio.ToErrorResponse(err).Code {
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		return fmt.Errorf("%w (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_PROFILE)", err)
	}
	return err
}

// Location names the store: s3://BUCKET/PREFIX.
func (s *Store) Location() string { return s.cfg.URL() }

// Stats returns the traffic counters of this Store.
func (s *Store) Stats() *Stats { return s.stats }

// Close waits for uploads in flight and releases the compressors. The
// Store must not be used afterwards.
func (s *Store) Close() error {
	err := s.up.close()
	s.closeOnce.Do(func() {
		s.dec.Close()
		if e := s.enc.Close(); err == nil {
			err = e
		}
	})
	return err
}

// key returns the object key of name under the store prefix.
func (s *Store) key(name string) string {
	if s.cfg.Prefix == "" {
		return name
	}
	return s.cfg.Prefix + "/" + name
}

func blobKey(h snapshots.Hash) string {
	x := h.String()
	return blobsDir + x[:2] + "/" + x
}

func manifestKey(id snapshots.ID) string { return manifestsDir + id.String() }

// refKey is the claim object of NAME@N. N is zero-padded so a listing
// returns a name's snapshots in order.
func refKey(name string, seq int) string { return fmt.Sprintf("%s%s/%010d", refsDir, name, seq) }

// parseRefKey reads NAME and N back from a key relative to the prefix.
func parseRefKey(rel string) (name string, seq int, ok bool) {
	rest, ok := strings.CutPrefix(rel, refsDir)
	if !ok {
		return "", 0, false
	}
	name, n, ok := strings.Cut(rest, "/")
	if !ok || snapshots.ValidateName(name) != nil {
		return "", 0, false
	}
	seq, err := strconv.Atoi(n)
	if err != nil || seq < 1 || len(n) != 10 {
		return "", 0, false
	}
	return name, seq, true
}

// putSmall writes a small object in one request; ifAbsent makes it a
// conditional write (If-None-Match: *) that fails with errTaken when the
// key exists.
func (s *Store) putSmall(ctx context.Context, key string, b []byte, ifAbsent bool) error {
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true}
	if ifAbsent {
		opts.SetMatchETagExcept("*")
	}
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(b), int64(len(b)), opts)
	if err != nil && ifAbsent && isTaken(err) {
		return errTaken
	}
	if err != nil {
		return explain(err)
	}
	return nil
}

// errTaken is a conditional write that found its key already written.
var errTaken = errors.New("key already exists")

func isTaken(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "PreconditionFailed" || r.StatusCode == http.StatusPreconditionFailed ||
		r.Code == "ConditionalRequestConflict" || r.StatusCode == http.StatusConflict
}

func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "NoSuchKey" || r.Code == "NotFound" || r.StatusCode == http.StatusNotFound
}

// getObject reads a whole object (at most limit bytes) into dst's space.
func (s *Store) getObject(ctx context.Context, key string, dst []byte, limit int64, opts minio.GetObjectOptions) ([]byte, error) {
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key, opts)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	buf := bytes.NewBuffer(dst[:0])
	n, err := buf.ReadFrom(io.LimitReader(obj, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("object %s is larger than %d bytes", key, limit)
	}
	return buf.Bytes(), nil
}

// stateFile is a per-store file in the cache directory ("" without a
// cache): the marker seen, the ref claims read.
func (s *Store) stateFile(name string) string {
	if s.cache == nil {
		return ""
	}
	sum := sha256.Sum256([]byte(s.cfg.Endpoint + "\x00" + s.cfg.URL()))
	return filepath.Join(s.cache.dir, "stores", hex.EncodeToString(sum[:8]), name)
}

func (s *Store) remember(path string) {
	if path == "" {
		return
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte(s.cfg.URL()+"\n"), 0o644)
}

// refEntry is one claim read from the bucket: the id NAME@N names, and
// the claim object's ETag, which changes if the claim is ever removed
// and written again.
type refEntry struct {
	ETag string       `json:"etag"`
	ID   snapshots.ID `json:"id"`
}

func (s *Store) loadRefCache() {
	s.refs = map[string]refEntry{}
	if p := s.stateFile("refs.json"); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			json.Unmarshal(b, &s.refs)
		}
	}
}

func (s *Store) saveRefCache() {
	p := s.stateFile("refs.json")
	if p == "" {
		return
	}
	s.sumMu.Lock()
	b, err := json.Marshal(s.refs)
	s.sumMu.Unlock()
	if err != nil {
		return
	}
	os.MkdirAll(filepath.Dir(p), 0o755)
	tmp := fmt.Sprintf("%s.tmp-%d", p, os.Getpid())
	if os.WriteFile(tmp, b, 0o644) == nil {
		os.Rename(tmp, p)
	}
}

// claim is one NAME@N object found by a listing.
type claim struct {
	rel  string // key relative to the prefix
	etag string
	name string
	seq  int
}

// listClaims lists every NAME@N claim in the bucket.
func (s *Store) listClaims(ctx context.Context) ([]claim, error) {
	var out []claim
	for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.key(refsDir), Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list snapshots in %s: %w", s.cfg.URL(), explain(obj.Err))
		}
		rel := strings.TrimPrefix(obj.Key, s.key(""))
		name, seq, ok := parseRefKey(rel)
		if !ok {
			continue // strays
		}
		out = append(out, claim{rel, strings.Trim(obj.ETag, `"`), name, seq})
	}
	return out, nil
}

// resolveClaims reads the id each claim names (from the ref cache when
// its ETag is known) in parallel.
func (s *Store) resolveClaims(ctx context.Context, claims []claim) (map[string]snapshots.ID, error) {
	ids := make(map[string]snapshots.ID, len(claims))
	var todo []claim
	s.sumMu.Lock()
	for _, c := range claims {
		if e, ok := s.refs[c.rel]; ok && e.ETag == c.etag && c.etag != "" {
			ids[c.rel] = e.ID
		} else {
			todo = append(todo, c)
		}
	}
	s.sumMu.Unlock()
	if len(todo) == 0 {
		return ids, nil
	}
	var mu sync.Mutex
	err := parallel(ctx, len(todo), 16, func(i int) error {
		c := todo[i]
		b, err := s.getObject(ctx, s.key(c.rel), nil, 256, minio.GetObjectOptions{})
		if isNotFound(err) {
			return nil // removed since the listing
		}
		if err != nil {
			return fmt.Errorf("read %s@%d: %w", c.name, c.seq, explain(err))
		}
		id, err := snapshots.ParseHash(strings.TrimSpace(string(b)))
		if err != nil {
			return nil // a damaged claim: fsck names it
		}
		mu.Lock()
		ids[c.rel] = id
		mu.Unlock()
		s.sumMu.Lock()
		s.refs[c.rel] = refEntry{c.etag, id}
		s.sumMu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.saveRefCache()
	return ids, nil
}

// List returns every snapshot, oldest first. A snapshot exists when its
// NAME@N claim names a manifest that exists and agrees with the claim;
// anything else is left out (fsck reports it). It lists the claims (one
// request per thousand snapshots) and reads only manifest headers it has
// not seen, with ranged reads; a second List in any process sharing the
// cache reads no object.
func (s *Store) List() ([]snapshots.Snapshot, error) {
	return s.list(context.Background())
}

func (s *Store) list(ctx context.Context) ([]snapshots.Snapshot, error) {
	claims, err := s.listClaims(ctx)
	if err != nil {
		return nil, err
	}
	return s.snapshotsOf(ctx, claims)
}

// snapshotsOf returns the snapshots the claims name, oldest first.
func (s *Store) snapshotsOf(ctx context.Context, claims []claim) ([]snapshots.Snapshot, error) {
	ids, err := s.resolveClaims(ctx, claims)
	if err != nil {
		return nil, err
	}
	out := make([]snapshots.Snapshot, len(claims))
	okAt := make([]bool, len(claims))
	err = parallel(ctx, len(claims), 16, func(i int) error {
		c := claims[i]
		id, ok := ids[c.rel]
		if !ok {
			return nil
		}
		snap, err := s.summary(ctx, id)
		if err != nil || snap.Name != c.name || snap.Seq != c.seq {
			return nil // absent or damaged: fsck reports it
		}
		out[i], okAt[i] = snap, true
		return nil
	})
	if err != nil {
		return nil, err
	}
	var all []snapshots.Snapshot
	for i, ok := range okAt {
		if ok {
			all = append(all, out[i])
		}
	}
	slices.SortFunc(all, func(a, b snapshots.Snapshot) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return a.Seq - b.Seq
	})
	return all, nil
}

// headBytes is the first read of a manifest for its summary: the magic,
// the header length and, almost always, the whole JSON header.
const headBytes = 64 << 10

// summary returns the decoded header of manifest id: from memory, from a
// cached manifest or header, or by a ranged read of the object's head.
func (s *Store) summary(ctx context.Context, id snapshots.ID) (snapshots.Snapshot, error) {
	s.sumMu.Lock()
	snap, ok := s.summaries[id]
	s.sumMu.Unlock()
	if !ok {
		var head []byte
		if b, hit := s.cache.get("manifests", id, nil); hit {
			head = b
		} else if b, hit := s.cache.get("heads", id, nil); hit {
			head = b
		} else {
			opts := minio.GetObjectOptions{}
			opts.SetRange(0, headBytes-1)
			b, err := s.getObject(ctx, s.key(manifestKey(id)), nil, headBytes, opts)
			if err != nil {
				return snapshots.Snapshot{}, err
			}
			if len(b) >= 12 {
				if n := 12 + int64(uint32(b[8])|uint32(b[9])<<8|uint32(b[10])<<16|uint32(b[11])<<24); n > int64(len(b)) && n < 16<<20 {
					opts.SetRange(0, n-1)
					if b, err = s.getObject(ctx, s.key(manifestKey(id)), nil, n, opts); err != nil {
						return snapshots.Snapshot{}, err
					}
				}
			}
			head = b
			s.cache.put("heads", id, b)
		}
		var err error
		if snap, err = snapshots.DecodeSummary(bytes.NewReader(head), id); err != nil {
			return snapshots.Snapshot{}, err
		}
		s.sumMu.Lock()
		s.summaries[id] = snap
		s.sumMu.Unlock()
	}
	if snap.Parent != nil {
		p := *snap.Parent
		snap.Parent = &p
	}
	if snap.ForkedFrom != nil {
		f := *snap.ForkedFrom
		snap.ForkedFrom = &f
	}
	return snap, nil
}

// Resolve finds a snapshot by NAME, NAME@N, id or unique id prefix.
func (s *Store) Resolve(ref string) (snapshots.Snapshot, error) {
	all, err := s.List()
	if err != nil {
		return snapshots.Snapshot{}, err
	}
	return snapshots.ResolveRef(all, ref)
}

// maxManifestBytes bounds a manifest read: a 500 GiB stable memory with
// every page stored has a 320 MB table.
const maxManifestBytes = 400 << 20

// Manifest reads a snapshot's manifest (from the cache when there) and
// verifies that it hashes to id.
func (s *Store) Manifest(id snapshots.ID) (*snapshots.Manifest, error) {
	b, hit := s.cache.get("manifests", id, nil)
	if hit && snapshots.HashOf(b) != id {
		s.cache.drop("manifests", id)
		hit = false
	}
	if !hit {
		var err error
		b, err = s.getObject(context.Background(), s.key(manifestKey(id)), nil, maxManifestBytes, minio.GetObjectOptions{})
		if isNotFound(err) {
			return nil, fmt.Errorf("snapshot %s: %w", id.Short(), snapshots.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("read snapshot %s: %w", id.Short(), explain(err))
		}
		if got := snapshots.HashOf(b); got != id {
			return nil, fmt.Errorf("snapshot %s: manifest is corrupt (hashes to %s); run `canscope fsck`", id.Short(), got.Short())
		}
		s.cache.put("manifests", id, b)
	}
	m, err := snapshots.DecodeManifest(b)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w; run `canscope fsck`", id.Short(), err)
	}
	return m, nil
}

// Fork makes a new snapshot named name that shares every page with the
// snapshot ref names (snapshots.Fork).
func (s *Store) Fork(ctx context.Context, ref, name string) (snapshots.Snapshot, error) {
	return snapshots.Fork(ctx, s, ref, name)
}

// parallel runs fn(0..n-1) on up to workers goroutines and returns the
// first error; it stops handing out work after an error or ctx's end.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	if n == 0 {
		return nil
	}
	var next atomic.Int64
	var first error
	var once sync.Once
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(n, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = fn(i)
				}
				if err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
