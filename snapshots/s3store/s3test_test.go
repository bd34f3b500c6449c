package s3store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/storetest"
	"github.com/minio/minio-go/v7"
)

// testBucket is the bucket the tests create on the test server; each
// test works under its own random prefix.
const testBucket = "canscope-test"

// testEnv returns the environment of the S3 test server, or skips: the
// tests need a real server, which .ci/run starts (SeaweedFS on
// 127.0.0.1) and names in CANSCOPE_S3_TEST_ENDPOINT with its keys in
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
func testEnv(t testing.TB) func(string) string {
	t.Helper()
	ep := os.Getenv("CANSCOPE_S3_TEST_ENDPOINT")
	if ep == "" {
		t.Skip("S3 tests need a server: run them with `bash .ci/run`, which starts SeaweedFS on 127.0.0.1 and sets CANSCOPE_S3_TEST_ENDPOINT")
	}
	return func(k string) string {
		switch k {
		case "AWS_ENDPOINT_URL":
			return ep
		case "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION":
			return os.Getenv(k)
		}
		return ""
	}
}

// testURL returns a fresh s3:// location on the test server, creating the
// bucket on first use.
func testURL(t testing.TB) string {
	t.Helper()
	getenv := testEnv(t)
	cfg, err := FromEnv(Scheme+testBucket+"/x", getenv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: cfg.Creds, Secure: cfg.Secure, Region: cfg.Region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if ok, err := c.BucketExists(ctx, testBucket); err != nil {
		t.Fatalf("test server at %s: %v", getenv("AWS_ENDPOINT_URL"), err)
	} else if !ok {
		if err := c.MakeBucket(ctx, testBucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil && !strings.Contains(err.Error(), "already") {
			t.Fatal(err)
		}
	}
	var b [6]byte
	rand.Read(b[:])
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return Scheme + testBucket + "/" + name + "-" + hex.EncodeToString(b[:])
}

// openTest opens the store at loc with its own cache directory (cache ""
// makes one; "-" opens without a cache).
func openTest(t testing.TB, loc, cacheDir string) *Store {
	t.Helper()
	cfg, err := FromEnv(loc, testEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	switch cacheDir {
	case "":
		cfg.CacheDir = t.TempDir()
	case "-":
	default:
		cfg.CacheDir = cacheDir
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func (s *Store) rawGet(t *testing.T, key string) []byte {
	t.Helper()
	b, err := s.getObject(context.Background(), s.key(key), nil, maxManifestBytes, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (s *Store) rawPut(t *testing.T, key string, b []byte) {
	t.Helper()
	if err := s.putSmall(context.Background(), s.key(key), b, false); err != nil {
		t.Fatal(err)
	}
}

// TestConformance runs the backend-independent store cases (shared with
// the directory store) against a real S3 server.
func TestConformance(t *testing.T) {
	testEnv(t)
	storetest.Run(t, storetest.Backend{
		New: func(t *testing.T) storetest.Store { return openTest(t, testURL(t), "") },
		Reopen: func(t *testing.T, s storetest.Store) storetest.Store {
			return openTest(t, s.(*Store).Location(), "")
		},
		Blobs: func(t *testing.T, s storetest.Store) int {
			keys, err := s.(*Store).listKeys(context.Background(), blobsDir)
			if err != nil {
				t.Fatal(err)
			}
			return len(keys)
		},
		RawBlob: func(t *testing.T, s storetest.Store, h snapshots.Hash) []byte {
			return s.(*Store).rawGet(t, blobKey(h))
		},
		SetRawBlob: func(t *testing.T, s storetest.Store, h snapshots.Hash, b []byte) {
			st := s.(*Store)
			st.rawPut(t, blobKey(h), b)
			st.cache.drop("blobs", h)
		},
		RemoveBlob: func(t *testing.T, s storetest.Store, h snapshots.Hash) {
			st := s.(*Store)
			if err := st.client.RemoveObject(context.Background(), st.cfg.Bucket, st.key(blobKey(h)), minio.RemoveObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			st.cache.drop("blobs", h)
		},
		FlipManifestByte: func(t *testing.T, s storetest.Store, id snapshots.ID, off int) {
			st := s.(*Store)
			raw := st.rawGet(t, manifestKey(id))
			raw[off] ^= 0xff
			st.rawPut(t, manifestKey(id), raw)
			st.cache.drop("manifests", id)
			st.cache.drop("heads", id)
			st.sumMu.Lock()
			delete(st.summaries, id)
			st.sumMu.Unlock()
		},
	})
}
