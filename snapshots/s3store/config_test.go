package s3store

import (
	"strings"
	"testing"
)

func TestFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	c, err := FromEnv("s3://team/snaps/prod/", env("AWS_ENDPOINT_URL", "http://127.0.0.1:8333", "AWS_ACCESS_KEY_ID", "a", "AWS_SECRET_ACCESS_KEY", "b"))
	if err != nil || c.Bucket != "team" || c.Prefix != "snaps/prod" || c.Endpoint != "127.0.0.1:8333" || c.Secure || c.Region != "us-east-1" || c.URL() != "s3://team/snaps/prod" {
		t.Errorf("FromEnv = %+v, %v", c, err)
	}
	c, err = FromEnv("s3://team", env("AWS_ENDPOINT_URL", "https://x.r2.example", "AWS_ENDPOINT_URL_S3", "https://s3.example:9000", "AWS_DEFAULT_REGION", "auto"))
	if err != nil || c.Endpoint != "s3.example:9000" || !c.Secure || c.Region != "auto" || c.Prefix != "" {
		t.Errorf("FromEnv = %+v, %v", c, err)
	}
	if c, err := FromEnv("s3://team", env()); err != nil || c.Endpoint != "s3.amazonaws.com" || !c.Secure {
		t.Errorf("default endpoint: %+v, %v", c, err)
	}
	for loc, want := range map[string]string{
		"s3://":             "no bucket",
		"s3:///x":           "no bucket",
		"s3://b/a/../c":     "not a clean key path",
		"/var/lib/canscope": "s3://BUCKET/PREFIX",
	} {
		if _, err := FromEnv(loc, env()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("FromEnv(%q) = %v, want %q", loc, err, want)
		}
	}
	if _, err := FromEnv("s3://b", env("AWS_ACCESS_KEY_ID", "a")); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("one key only: %v", err)
	}
	if _, err := FromEnv("s3://b", env("AWS_ENDPOINT_URL", "ftp://x")); err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL") {
		t.Errorf("bad endpoint: %v", err)
	}
}

func TestRefKeys(t *testing.T) {
	k := refKey("prod", 12)
	if k != "refs/prod/0000000012" {
		t.Fatalf("refKey = %q", k)
	}
	if name, seq, ok := parseRefKey(k); !ok || name != "prod" || seq != 12 {
		t.Errorf("parseRefKey(%q) = %q, %d, %v", k, name, seq, ok)
	}
	for _, bad := range []string{"refs/prod/12", "refs/prod/0000000000", "refs/bad name/0000000001", "refs/prod", "blobs/ab/x"} {
		if _, _, ok := parseRefKey(bad); ok {
			t.Errorf("parseRefKey(%q) accepted it", bad)
		}
	}
}
