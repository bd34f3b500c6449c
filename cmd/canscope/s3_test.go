package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canscope/canscope/snapshots/s3store"
	"github.com/minio/minio-go/v7"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestScriptsS3 runs the operator sessions of testdata/script against an
// S3 store on the test server that .ci/run starts (SeaweedFS on
// 127.0.0.1): every command the scripts use (import, export, ls, show,
// diff, call, upgrade, trace, fork, transplant, restore, fsck, push,
// pull) works on a bucket as on a directory. store_errors and store_rm
// are the directory store's own (they damage or list files in it).
func TestScriptsS3(t *testing.T) {
	ep := os.Getenv("CANSCOPE_S3_TEST_ENDPOINT")
	if ep == "" {
		t.Skip("S3 tests need a server: run them with `bash .ci/run`, which starts SeaweedFS on 127.0.0.1 and sets CANSCOPE_S3_TEST_ENDPOINT")
	}
	ensureBucket(t, ep, "canscope-test")
	fixtures, err := filepath.Abs("../../engine/testdata")
	if err != nil {
		t.Fatal(err)
	}
	all, err := filepath.Glob("testdata/script/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range all {
		if b := filepath.Base(f); b != "store_errors.txtar" && b != "store_rm.txtar" {
			files = append(files, f)
		}
	}
	testscript.Run(t, testscript.Params{
		Files: files,
		Setup: func(env *testscript.Env) error {
			var b [6]byte
			rand.Read(b[:])
			env.Setenv("CANSCOPE_STORE", "s3://canscope-test/scripts-"+hex.EncodeToString(b[:]))
			env.Setenv("AWS_ENDPOINT_URL", ep)
			for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
				env.Setenv(k, os.Getenv(k))
			}
			env.Setenv("XDG_CACHE_HOME", env.WorkDir+"/cache")
			env.Setenv("FIXTURES", fixtures)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"cmpfile":     cmpFile,
			"verifyasset": verifyAsset,
		},
	})
}

// ensureBucket creates the test bucket on the server at ep when missing.
func ensureBucket(t *testing.T, ep, bucket string) {
	t.Helper()
	cfg, err := s3store.FromEnv("s3://"+bucket, func(k string) string {
		if k == "AWS_ENDPOINT_URL" {
			return ep
		}
		return os.Getenv(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: cfg.Creds, Secure: cfg.Secure, Region: cfg.Region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ok, err := c.BucketExists(ctx, bucket)
	if err != nil {
		t.Fatalf("test server %s: %v", ep, err)
	}
	if !ok {
		if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil && !strings.Contains(err.Error(), "already") {
			t.Fatal(err)
		}
	}
}
