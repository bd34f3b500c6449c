package snapshots

import "io"

// WriteChunk is the largest single write canscope makes into a file it
// fills (packs, heap images, exported memories). On this project's
// machine (Linux 6.18, ext4) a write of 1 MiB or more into the page cache
// cost 6-9x the kernel time of the same bytes in 256 KiB writes (dd of
// 4 GiB: 4 MiB blocks 14 s of system time, 1 MiB 6.5 s, 256 KiB 0.9 s,
// 64 KiB 1.6 s); pack writes of 4 MiB were half an import's CPU.
const WriteChunk = 256 << 10

// WriteAtChunked writes b at off in writes of at most WriteChunk bytes.
func WriteAtChunked(w io.WriterAt, b []byte, off int64) error {
	for len(b) > 0 {
		n := min(len(b), WriteChunk)
		if _, err := w.WriteAt(b[:n], off); err != nil {
			return err
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}
