package squashfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/anchore/go-lzo"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz/lzma"

	"github.com/portable-generator/portable-generator/dissect/internal/inflate"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/dissect/internal/xz"
)

// decompress inflates src into dst, which is exactly as long as the most
// the block may hold, and returns how much it produced. More output than
// dst holds is an error: the format bounds every block.
func (c Compressor) decompress(dst, src []byte) (int, error) {
	switch c {
	case Gzip, XZ:
		// The decoder fragment and metadata blocks keep, run to the
		// stream's end (an xz block's check verified there).
		s, _, err := c.streamDecoder(src, dst)
		if err != nil {
			return 0, err
		}
		defer s.release()
		data, _, err := s.decodeTo(len(dst))
		return len(data), err
	case LZMA:
		// The .lzma header names the dictionary to allocate: at most
		// what a block can need (see maxDict).
		lr, err := lzma.ReaderConfig{DictCap: maxDict}.NewReader(bytes.NewReader(src))
		if err != nil {
			return 0, err
		}
		return readAllInto(lr, dst)
	case LZO:
		return lzo.Decompress(src, dst)
	case LZ4:
		n, err := lz4.UncompressBlock(src, dst)
		if err != nil {
			return 0, fmt.Errorf("lz4: %w", err)
		}
		return n, nil
	case Zstd:
		d, err := zstdDecoder()
		if err != nil {
			return 0, err
		}
		out, err := d.DecodeAll(src, dst[:0])
		if err != nil {
			return 0, err
		}
		if len(out) > len(dst) {
			return 0, errTooLong
		}
		if len(out) > 0 && &out[0] != &dst[0] {
			copy(dst, out)
		}
		return len(out), nil
	}
	return 0, fmt.Errorf("%v not supported", c)
}

// blockStream decodes one block into a buffer given when it is made, as
// far as asked: a fragment block packs many small files, and a read needs
// only those up to the one it reads, so the block is inflated only so far,
// and further when a later file needs more.
type blockStream interface {
	// decodeTo decodes until the buffer holds at least n bytes or the
	// block ends, and returns what it holds and whether that is all.
	decodeTo(n int) (data []byte, done bool, err error)
	// readsSource reports whether the decoder reads the stored bytes
	// it was made from until it is released.
	readsSource() bool
	// release returns the decoder's state to its pool (not the buffer).
	release()
}

// streamDecoder returns a decoder of src into buf, as large as the block
// may be, for the compressors that stream (gzip, xz, lzma); ok is false
// for the others, whose blocks decode only whole. An xz block's check is
// verified when it is decoded to its end, never before; the zlib trailer
// never (see gzipStream).
//
// Not zstd: its streaming decoder keeps a ring of three times the window
// (384 KiB for a 128 KiB block, 3 MiB for a 1 MiB one) per waiting
// block. Measured on 1,000 real-tree images it saved 1% of the CPU, and
// its memory left the collector less room: 10,000 images took 4% more.
func (c Compressor) streamDecoder(src, buf []byte) (s blockStream, ok bool, err error) {
	switch c {
	case Gzip:
		zr, err := gzipReader(src, buf)
		if err != nil {
			return nil, true, err
		}
		return zr, true, nil
	case LZMA:
		lr, err := lzma.ReaderConfig{DictCap: maxDict}.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, true, err
		}
		return &readerStream{r: lr, buf: buf}, true, nil
	case XZ:
		xr, err := xzReader(src, buf)
		if err != nil {
			return nil, true, err
		}
		return xr, true, nil
	}
	return nil, false, nil
}

// readerStream is a blockStream over a decoder that is an io.Reader.
type readerStream struct {
	r    io.Reader
	buf  []byte
	n    int
	done bool
}

func (s *readerStream) decodeTo(n int) ([]byte, bool, error) {
	n = min(n, len(s.buf))
	if !s.done && s.n < n {
		m, err := io.ReadFull(s.r, s.buf[s.n:n])
		s.n += m
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			s.done = true
		case err != nil:
			return s.buf[:s.n], false, err
		case s.n == len(s.buf):
			s.done = true // the most a block holds
		}
	}
	return s.buf[:s.n], s.done, nil
}

func (s *readerStream) readsSource() bool { return true }
func (s *readerStream) release()          {} // nothing pooled

// flatDecoder is what package inflate's and package xz's decoders have in
// common: they decode one stream straight into the block's buffer, as far
// as asked, and say ErrTooLong of a stream longer than the buffer.
type flatDecoder interface {
	DecodeTo(n int) error
	Bytes() []byte
	Done() bool
}

// flatStream is the blockStream part of gzipStream and xzStream (each
// adds its decoder, which dec points to, and its pool's release).
type flatStream struct {
	dec  flatDecoder
	size int // of the buffer
}

func (s *flatStream) decodeTo(n int) ([]byte, bool, error) {
	if n >= s.size {
		// Asked for the whole block: to the stream's end (an xz
		// block's check verified there).
		n = s.size + 1
	}
	err := s.dec.DecodeTo(n)
	return s.dec.Bytes(), s.dec.Done(), blockError(err)
}

func (s *flatStream) readsSource() bool { return false } // a copy of it

// blockError turns the decoders' own "longer than its buffer" into
// errTooLong.
func blockError(err error) error {
	if errors.Is(err, inflate.ErrTooLong) || errors.Is(err, xz.ErrTooLong) {
		return errTooLong
	}
	return err
}

// decodeError says why the block at pos did not decode: a stream feature we
// do not read stays unsupported, anything else is corruption.
func decodeError(pos uint64, what string, c Compressor, err error) error {
	if errors.Is(err, vfs.ErrUnsupported) {
		return err
	}
	return corrupt(int64(pos), "%s (%v): %v", what, c, err)
}

var errTooLong = errors.New("decompressed block longer than the format allows")

// decompressSized inflates src, which may hold up to most bytes, into a
// slice of exactly the size it holds: it is inflated into a buffer from
// the block pools (see getBuffer) and copied out, so what is kept is what
// the image holds. Data blocks use it; fragment and metadata blocks are
// inflated straight into the pooled buffers they keep.
func (c Compressor) decompressSized(src []byte, most int) ([]byte, error) {
	bp := getBuffer(most)
	defer putBuffer(bp)
	n, err := c.decompress(*bp, src)
	if err != nil {
		return nil, err
	}
	return bytes.Clone((*bp)[:n]), nil
}

// readAllInto reads r to its end into dst.
func readAllInto(r io.Reader, dst []byte) (int, error) {
	n, err := io.ReadFull(r, dst)
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		return n, nil
	case nil:
		var one [1]byte
		if m, _ := r.Read(one[:]); m > 0 {
			return n, errTooLong
		}
		return n, nil
	}
	return n, err
}

// One zstd decoder serves every image: DecodeAll is safe for concurrent
// use, and its window is capped at the largest SquashFS block.
var zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(2<<20), zstd.WithDecoderMaxWindow(2<<20))
})
