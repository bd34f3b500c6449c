package s3store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/canscope/canscope/snapshots"
)

// cache is the local read-through cache of an S3 store: compressed blob
// frames and encoded manifests, named by their hash, so one cache serves
// every store and every entry verifies itself when read (a damaged entry
// is dropped and fetched again). It is bounded: when the bytes written
// since the size was last measured push it past max, the least recently
// used entries (by modification time, which a hit refreshes) are removed
// until it is at 80 % of max. Several processes may share one cache:
// every write is a temp file renamed into place.
type cache struct {
	dir string
	max int64

	mu       sync.Mutex
	measured bool
	size     int64 // bytes in the cache, approximately
	trimming bool
}

func newCache(dir string, max int64) *cache {
	if max <= 0 {
		max = DefaultCacheBytes
	}
	return &cache{dir: dir, max: max}
}

func (c *cache) path(kind string, h snapshots.Hash) string {
	x := h.String()
	return filepath.Join(c.dir, kind, x[:2], x)
}

// get returns the cached bytes of kind/h appended to dst, or ok=false.
func (c *cache) get(kind string, h snapshots.Hash, dst []byte) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	p := c.path(kind, h)
	b, err := snapshots.ReadBlobFile(p, dst)
	if err != nil {
		return nil, false
	}
	now := time.Now()
	os.Chtimes(p, now, now) // recently used: trimmed last
	return b, true
}

// drop removes an entry that failed verification.
func (c *cache) drop(kind string, h snapshots.Hash) {
	if c != nil {
		os.Remove(c.path(kind, h))
	}
}

// put stores b as kind/h. Failures are ignored: the cache only saves
// network reads, the store never depends on it.
func (c *cache) put(kind string, h snapshots.Hash, b []byte) {
	if c == nil || int64(len(b)) > c.max/4 {
		return
	}
	p := c.path(kind, h)
	if _, err := os.Stat(p); err == nil {
		return
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	f, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return
	}
	c.mu.Lock()
	c.size += int64(len(b))
	need := !c.trimming && (!c.measured || c.size > c.max)
	if need {
		c.trimming = true
	}
	c.mu.Unlock()
	if need {
		go c.trim()
	}
}

// trim measures the cache and, when it is over its bound, removes the
// least recently used entries.
func (c *cache) trim() {
	defer func() {
		c.mu.Lock()
		c.trimming = false
		c.mu.Unlock()
	}()
	type entry struct {
		path string
		size int64
		used time.Time
	}
	var all []entry
	var total int64
	filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		all = append(all, entry{p, info.Size(), info.ModTime()})
		total += info.Size()
		return nil
	})
	if total > c.max {
		slices.SortFunc(all, func(a, b entry) int { return a.used.Compare(b.used) })
		for _, e := range all {
			if total <= c.max*8/10 {
				break
			}
			if err := os.Remove(e.path); err == nil || errors.Is(err, fs.ErrNotExist) {
				total -= e.size
			}
		}
	}
	c.mu.Lock()
	c.measured, c.size = true, total
	c.mu.Unlock()
}
