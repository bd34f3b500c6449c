package fsstore

import (
	"math"

	"github.com/canscope/canscope/snapshots"
)

// Pages of random-looking data (compressed or encrypted content, hashes,
// the seed snapshot's test data) do not compress: zstd spends ~15 µs a
// page finding that out and then stores the page as one raw block. Such a
// page is stored as exactly that frame without running zstd: rawPageFrame
// followed by the page. Readers see an ordinary zstd frame (byte for byte
// what the encoder writes for an incompressible page), so the format does
// not change.

// rawPageFrame is the zstd frame header of a 65536-byte frame (single
// segment, content size 65536 - 256 in two bytes, no checksum, no
// dictionary) and the header of its one block: last, raw, 65536 bytes
// (RFC 8878 sections 3.1.1.1 and 3.1.1.2).
var rawPageFrame = [...]byte{
	0x28, 0xb5, 0x2f, 0xfd, // magic 0xFD2FB528
	0x60,       // descriptor: content size flag 1, single segment
	0x00, 0xff, // content size 65536 - 256, little-endian
	0x01, 0x00, 0x08, // block header: 65536<<3 | raw<<1 | last
}

// Sampling: incompressible looks at sampleSpans spans of sampleSpan bytes
// spread evenly from the page's first byte to its last (so a page of data
// and zeros, such as a heap page filled only in part, is sampled in both),
// 2 KiB in all: ~2 µs a page.
const (
	sampleSpans = 8
	sampleSpan  = 256
	sampleBytes = sampleSpans * sampleSpan
)

// maxSampleCLogC is Σ c·log2(c) over the byte counts c of a sample whose
// entropy is 7.8 bits a byte: H = log2(n) - Σ c·log2(c) / n. A random
// sample of 2048 bytes measures ~7.91 (the finite sample's bias), so
// random data passes with a wide margin; data zstd can shrink by more
// than a few percent (text, code, structs, zero padding) measures far
// lower. What passes only loses that few percent of compression.
var maxSampleCLogC = (math.Log2(sampleBytes) - 7.8) * sampleBytes

// cLog2C[c] is c·log2(c) for the byte counts of a sample.
var cLog2C = func() (t [sampleBytes + 1]float64) {
	for c := 2; c <= sampleBytes; c++ {
		t[c] = float64(c) * math.Log2(float64(c))
	}
	return t
}()

// incompressible reports whether page (PageSize bytes) looks like random
// data: the byte entropy of a sample of it is at least 7.8 bits a byte.
// High-entropy data that repeats at a distance (the same random block
// twice) is misjudged and stored uncompressed: only space is lost.
func incompressible(page []byte) bool {
	var counts [256]uint16
	const stride = (snapshots.PageSize - sampleSpan) / (sampleSpans - 1)
	for i := range sampleSpans {
		for _, b := range page[i*stride : i*stride+sampleSpan] {
			counts[b]++
		}
	}
	var sum float64
	for _, c := range counts {
		sum += cLog2C[c]
	}
	return sum <= maxSampleCLogC
}
