package fsstore

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeFileAtomic writes data to dir/name so that the name either does
// not exist or holds all of data, whatever happens to the process or the
// machine: temp file in the same directory, write, fsync, rename. The
// caller fsyncs dir to make the rename itself durable. The temp file is
// removed on any error.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, tempPrefix)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	n, err := f.Write(data)
	if err != nil {
		return err
	}
	if n != len(data) {
		return fmt.Errorf("write %s: short write (%d of %d bytes)", tmp, n, len(data))
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// syncDir fsyncs a directory so renames into it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
