package vfs

import (
	"fmt"
	"io"
	"sync/atomic"
)

// Limits bound the work one image may cost. Zero means unlimited.
type Limits struct {
	BytesRead    int64 // bytes read from the image file
	Decompressed int64 // bytes produced by decompressors, in all
	// DecompressRatio and DecompressSlack bound the bytes decompressed by
	// the bytes read: at no time more than DecompressRatio times BytesRead
	// plus DecompressSlack (see Budget.Decompress). Zero ratio: no bound.
	DecompressRatio int64
	DecompressSlack int64
	Entries         int64 // directory entries and extents visited
	Hops            int64 // symlinks followed during one path resolution
	Listing         int64 // names one directory listing may hold (see Budget.Listing)
	// FileSize is the largest file whose content is served (see
	// Budget.CheckFileSize); zero means MaxReadFile.
	FileSize int64
	// FileBytes bounds the content of all files served, in all: what the
	// caller of an image's tree holds in the end.
	FileBytes int64
	// Memory is the most bytes of buffers a reader holds for the image at
	// once: decoded blocks, caches, the content of the file being read
	// (see Budget.Alloc).
	Memory int64
}

// MaxFileSize is the default FileSize: 1 MiB, systemd's LONG_LINE_MAX, the
// longest line its configuration parser reads before it refuses a unit
// file ("Line too long"), continuation lines included. It is the tightest
// limit systemd itself puts on what it loads from a unit file: it reads
// unit files line by line with no limit on their total length, and
// os-release whole with read_full_file's general 64 MiB limit, but an
// os-release or unit file a portable image ships is a few KiB. A file of
// one 16 MiB line, the cheapest decompression bomb, is one systemd would
// refuse too, and it is refused here before a byte of it is inflated.
const MaxFileSize = 1 << 20

// DefaultLimits are generous for any honest portable image, and small enough
// that a hostile one cannot stall a boot.
//
// An image's files are served up to eight at the cap in all: its caller
// (the generator) holds what it reads until it has planned the image, and
// an honest image's os-release and units are a few KiB.
//
// What the generator reads of an honest image (os-release, the unit
// directories, the matching units) decompresses to 2 to 3.5 times the
// bytes read, in every compressor and block size, on the 8,000 inodes of a
// Debian tree; so does reading the whole tree. Sixteen times, plus two
// files at the cap that compress to nothing, is far above that, and stops
// a decompression bomb after a few MiB instead of half a gigabyte. The
// totals are a hundred times what such an image costs.
var DefaultLimits = Limits{
	BytesRead:       64 << 20,
	Decompressed:    64 << 20,
	DecompressRatio: 16,
	DecompressSlack: 2 * MaxFileSize,
	Entries:         4 << 20,
	Hops:            40,
	Listing:         1 << 17,
	FileSize:        MaxFileSize,
	FileBytes:       8 * MaxFileSize,
	Memory:          16 << 20,
}

// Stats is what one image has cost so far.
type Stats struct {
	BytesRead    int64
	Decompressed int64
	Entries      int64
	Hops         int64 // total symlinks followed
	FileBytes    int64 // bytes of file content served (see Budget.CheckFileSize)
	Allocated    int64 // bytes of buffers allocated, in all (see Budget.Alloc)
	PeakMemory   int64 // the most bytes of buffers held at once
}

// Budget counts the work done on one image and refuses work past its Limits.
// The zero value and a nil *Budget count nothing and never refuse, so readers
// can be used on their own.
type Budget struct {
	limits                                 Limits
	bytesRead, decompressed, entries, hops atomic.Int64
	fileBytes                              atomic.Int64
	allocated, held, peak                  atomic.Int64
}

// NewBudget returns a Budget that enforces l.
func NewBudget(l Limits) *Budget { return &Budget{limits: l} }

// Limits returns the limits this budget enforces.
func (b *Budget) Limits() Limits {
	if b == nil {
		return Limits{}
	}
	return b.limits
}

// Stats returns the work counted so far.
func (b *Budget) Stats() Stats {
	if b == nil {
		return Stats{}
	}
	return Stats{
		BytesRead:    b.bytesRead.Load(),
		Decompressed: b.decompressed.Load(),
		Entries:      b.entries.Load(),
		Hops:         b.hops.Load(),
		FileBytes:    b.fileBytes.Load(),
		Allocated:    b.allocated.Load(),
		PeakMemory:   b.peak.Load(),
	}
}

func charge(c *atomic.Int64, n, limit int64, what string) error {
	if v := c.Add(n); limit > 0 && v > limit {
		return fmt.Errorf("%w: more than %d %s", ErrBudget, limit, what)
	}
	return nil
}

// Read counts n bytes read from the image.
func (b *Budget) Read(n int) error {
	if b == nil {
		return nil
	}
	return charge(&b.bytesRead, int64(n), b.limits.BytesRead, "bytes read")
}

// Decompress counts n bytes produced by a decompressor. Readers call it
// after they read the compressed bytes and before they decompress or
// allocate an output buffer, with the size they are about to produce. It
// refuses more than the Decompressed total, and more than DecompressRatio
// times the bytes read so far plus DecompressSlack: what an image may make
// us inflate grows with what it makes us read, so a block that inflates a
// thousandfold is refused as soon as it adds up, not at the total.
func (b *Budget) Decompress(n int) error {
	if b == nil {
		return nil
	}
	if err := charge(&b.decompressed, int64(n), b.limits.Decompressed, "bytes decompressed"); err != nil {
		return err
	}
	if r := b.limits.DecompressRatio; r > 0 {
		read, done := b.bytesRead.Load(), b.decompressed.Load()
		if done > r*read+b.limits.DecompressSlack {
			return fmt.Errorf("%w: %d bytes to decompress from %d read, more than %d times as many and %d more",
				ErrBudget, done, read, r, b.limits.DecompressSlack)
		}
	}
	return nil
}

// Alloc counts n bytes of a buffer a reader is about to allocate and hold
// for the image (a decoded block, a cache entry, the content of a file),
// and refuses it when the bytes held at once would pass the Memory limit.
// A reader calls Free with the same n when it drops the buffer; one it
// hands to its caller it frees as it hands it over. Allocated and
// PeakMemory in Stats are what tests assert.
func (b *Budget) Alloc(n int) error {
	if b == nil || n <= 0 {
		return nil
	}
	held := b.held.Add(int64(n))
	if l := b.limits.Memory; l > 0 && held > l {
		b.held.Add(-int64(n))
		return fmt.Errorf("%w: more than %d bytes of buffers held at once", ErrBudget, l)
	}
	b.allocated.Add(int64(n))
	for {
		p := b.peak.Load()
		if held <= p || b.peak.CompareAndSwap(p, held) {
			return nil
		}
	}
}

// Free returns n bytes counted by Alloc.
func (b *Budget) Free(n int) {
	if b == nil || n <= 0 {
		return
	}
	b.held.Add(-int64(n))
}

// Held is how many bytes of buffers are held now.
func (b *Budget) Held() int64 {
	if b == nil {
		return 0
	}
	return b.held.Load()
}

// Entries counts n directory entries (or extents, or table entries) visited.
func (b *Budget) Entries(n int) error {
	if b == nil {
		return nil
	}
	return charge(&b.entries, int64(n), b.limits.Entries, "directory entries visited")
}

// Listing refuses a directory listing that has grown to n names, more than
// the Listing limit. The names are allocated whether or not the image paid
// for them in bytes read (a hostile ext4 lists one cached block a million
// times, a squashfs listing of one name repeated decompresses a
// thousandfold), so their number is bounded on its own: the entries budget
// alone would let one listing take a gigabyte. Unit directories hold
// hundreds of names.
func (b *Budget) Listing(n int) error {
	if b == nil || b.limits.Listing <= 0 || int64(n) <= b.limits.Listing {
		return nil
	}
	return fmt.Errorf("%w: a directory of more than %d names", ErrBudget, b.limits.Listing)
}

// CheckFileSize refuses, with an error wrapping ErrFileTooLarge (and so
// ErrBudget), a regular file of size bytes that is larger than the FileSize
// limit, or than MaxReadFile without one; and with ErrBudget one that
// would take the content served past the FileBytes limit, counting it.
// Callers check before they read or allocate anything for the file: its
// size comes from the image.
func (b *Budget) CheckFileSize(size int64) error {
	limit := int64(MaxReadFile)
	if b != nil && b.limits.FileSize > 0 {
		limit = b.limits.FileSize
	}
	if size < 0 || size > limit {
		return fmt.Errorf("%w: %d bytes, more than the %d a file may hold", ErrFileTooLarge, size, limit)
	}
	if b == nil {
		return nil
	}
	return charge(&b.fileBytes, size, b.limits.FileBytes, "bytes of files read")
}

// hop counts one symlink followed; hopsThisWalk is the count within the
// current resolution, which is what the hop limit applies to.
func (b *Budget) hop(hopsThisWalk int) error {
	limit := int64(40)
	if b != nil {
		b.hops.Add(1)
		if b.limits.Hops > 0 {
			limit = b.limits.Hops
		}
	}
	if int64(hopsThisWalk) > limit {
		return ErrLoop
	}
	return nil
}

// CountingReaderAt charges every read to a Budget. Readers of image bytes sit
// on top of it, so BytesRead is what the image really cost.
type CountingReaderAt struct {
	R io.ReaderAt
	B *Budget
}

// ReadAt implements io.ReaderAt.
func (c CountingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := c.B.Read(len(p)); err != nil {
		return 0, err
	}
	return c.R.ReadAt(p, off)
}
