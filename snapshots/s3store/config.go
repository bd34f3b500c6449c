package s3store

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Scheme is the URL scheme that selects this backend: s3://BUCKET/PREFIX.
const Scheme = "s3://"

// IsURL reports whether loc names an S3 store rather than a directory.
func IsURL(loc string) bool { return strings.HasPrefix(loc, Scheme) }

// Config says where an S3 store lives and how to reach it. FromEnv fills
// it the way the AWS tools do.
type Config struct {
	Bucket string
	Prefix string // "" or a key prefix without leading or trailing '/'
	// Endpoint is host[:port]; Secure selects https.
	Endpoint string
	Secure   bool
	Region   string
	// Creds signs the requests.
	Creds *credentials.Credentials
	// CacheDir holds the local read-through cache of blobs and manifests
	// (shared by every store: blobs are content-addressed); "" disables it.
	CacheDir string
	// CacheBytes bounds the cache; 0 means DefaultCacheBytes.
	CacheBytes int64
	// Uploads is the number of concurrent object uploads; 0 means 32.
	Uploads int
}

// DefaultCacheBytes bounds the local cache unless the caller says
// otherwise: room for a few large snapshots' pages.
const DefaultCacheBytes = 20 << 30

// ParseURL splits s3://BUCKET/PREFIX.
func ParseURL(loc string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(loc, Scheme)
	if !ok {
		return "", "", fmt.Errorf("store %q: an S3 store is named s3://BUCKET/PREFIX", loc)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("store %q: no bucket: name it s3://BUCKET/PREFIX", loc)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" && path.Clean(prefix) != prefix {
		return "", "", fmt.Errorf("store %q: the prefix %q is not a clean key path", loc, prefix)
	}
	return bucket, prefix, nil
}

// FromEnv builds the configuration of the store loc (s3://BUCKET/PREFIX)
// from the standard AWS variables, read through getenv:
// AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (default AWS S3 itself),
// AWS_REGION or AWS_DEFAULT_REGION (default us-east-1), and the keys
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); without
// keys in the environment the shared files are read (AWS_PROFILE,
// AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, ~/.aws), as the AWS CLI
// does. Instance-metadata credentials are not tried: they would reach
// the network on machines that are not cloud instances.
func FromEnv(loc string, getenv func(string) string) (Config, error) {
	bucket, prefix, err := ParseURL(loc)
	if err != nil {
		return Config{}, err
	}
	c := Config{Bucket: bucket, Prefix: prefix, Endpoint: "s3.amazonaws.com", Secure: true}
	ep := getenv("AWS_ENDPOINT_URL_S3")
	if ep == "" {
		ep = getenv("AWS_ENDPOINT_URL")
	}
	if ep != "" {
		u, err := url.Parse(ep)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return Config{}, fmt.Errorf("AWS_ENDPOINT_URL %q: want http(s)://HOST[:PORT]", ep)
		}
		c.Endpoint, c.Secure = u.Host, u.Scheme == "https"
	}
	c.Region = getenv("AWS_REGION")
	if c.Region == "" {
		c.Region = getenv("AWS_DEFAULT_REGION")
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" || secret != "" {
		if id == "" || secret == "" {
			return Config{}, fmt.Errorf("store %s: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither to use the AWS shared files", loc)
		}
		c.Creds = credentials.NewStaticV4(id, secret, getenv("AWS_SESSION_TOKEN"))
	} else {
		// minio-go reads ~/.aws/config and ~/.aws/credentials (or the
		// files the variables name) the way the AWS CLI merges them.
		c.Creds = credentials.NewFileAWSCredentials(getenv("AWS_SHARED_CREDENTIALS_FILE"), getenv("AWS_PROFILE"))
	}
	return c, nil
}

// URL returns s3://BUCKET/PREFIX.
func (c Config) URL() string {
	if c.Prefix == "" {
		return Scheme + c.Bucket
	}
	return Scheme + c.Bucket + "/" + c.Prefix
}
