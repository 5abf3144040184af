// Package xz decodes the xz streams SquashFS stores its blocks in (one
// stream per block, LZMA2 data, mksquashfs -comp xz), as far as a reader
// asks and no further.
//
// It decodes into a flat buffer the caller provides, which is the whole
// block: the buffer is both the output and the LZMA dictionary, so nothing
// is copied out of a ring and nothing is allocated while decoding. A block
// is a few hundred KiB at most, and a reader that wants the first 5 KiB of
// a fragment block decodes those and stops; a later call goes on from
// there.
//
// # Security
//
// Every byte of the stream is untrusted. The output never grows past the
// buffer given (a longer stream is an error, not a reallocation); a match
// may reach back only into what this block decoded since its last
// dictionary reset and within the dictionary size the block header
// declares, and never past the end of its chunk; the dictionary size is
// refused past the caller's bound before anything is decoded. The input is
// decoded from a copy padded with zeros, so the range decoder never reads
// outside it, and a chunk that reads past its declared size is corrupt.
// When a block is decoded to its end, its check (CRC32, CRC64 or SHA-256),
// the index and the stream footer are verified; a partial decode verifies
// what it has read so far only.
//
// Filter chains (BCJ, delta) are not supported: SquashFS's own xz options
// can ask for BCJ filters (mksquashfs -Xbcj), which are reported as
// unsupported.
package xz
