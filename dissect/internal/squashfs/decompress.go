package squashfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/anchore/go-lzo"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz/lzma"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// decompress inflates src into dst, which is exactly as long as the most
// the block may hold, and returns how much it produced. More output than
// dst holds is an error: the format bounds every block.
func (c Compressor) decompress(dst, src []byte) (int, error) {
	switch c {
	case Gzip:
		zr, err := zlibReader(src)
		if err != nil {
			return 0, err
		}
		defer zlibReaders.Put(zr)
		return readAllInto(zr, dst)
	case LZMA:
		// The .lzma header names the dictionary to allocate: at most
		// what a block can need (see maxDict).
		lr, err := lzma.ReaderConfig{DictCap: maxDict}.NewReader(bytes.NewReader(src))
		if err != nil {
			return 0, err
		}
		return readAllInto(lr, dst)
	case XZ:
		return decodeXZ(dst, src)
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

// streamDecoder returns a decoder of src, a block of at most most bytes,
// that hands out its output as it goes, for the compressors that stream
// (gzip, xz, lzma): a fragment block packs many small files, and a read
// needs only those up to the one it reads, so the block is inflated only
// so far, and further when a later file needs more. ok is false for the
// others, whose blocks decode only whole. release returns what the decoder
// holds to its pool. An xz block's check is verified when the block is
// read to its end, never before; the zlib trailer never (see zlibReader).
func (c Compressor) streamDecoder(src []byte, most int) (r io.Reader, release func(), ok bool, err error) {
	switch c {
	case Gzip:
		zr, err := zlibReader(src)
		if err != nil {
			return nil, nil, true, err
		}
		return zr, func() { zlibReaders.Put(zr) }, true, nil
	case LZMA:
		lr, err := lzma.ReaderConfig{DictCap: maxDict}.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, nil, true, err
		}
		return lr, func() {}, true, nil
	case XZ:
		xr, err := xzReader(src, most)
		if err != nil {
			return nil, nil, true, err
		}
		return xr, func() { xzStreams.Put(xr) }, true, nil
	}
	return nil, nil, false, nil
}

// decodeError says why the block at pos did not decode: a stream feature we
// do not read stays unsupported, anything else is corruption.
func decodeError(pos uint64, what string, c Compressor, err error) error {
	if errors.Is(err, vfs.ErrUnsupported) {
		return err
	}
	return corrupt(int64(pos), "%s (%v): %v", what, c, err)
}

// zlibReaders keeps inflaters between blocks: each holds a 32 KiB window,
// and an image's metadata blocks would otherwise allocate one apiece.
var zlibReaders sync.Pool

// zlibReader inflates one zlib stream. The two-byte header is checked
// here and the stream inflated raw: the Adler-32 trailer is not checked,
// which spares a tenth of the time; a damaged block still fails to inflate
// or inflates to the wrong length, and the budget bounds the rest.
func zlibReader(src []byte) (io.ReadCloser, error) {
	if len(src) < 2 || src[0]&0x0f != 8 || (uint16(src[0])<<8|uint16(src[1]))%31 != 0 || src[1]&0x20 != 0 {
		return nil, errors.New("not a zlib stream")
	}
	body := bytes.NewReader(src[2:])
	if zr, ok := zlibReaders.Get().(io.ReadCloser); ok {
		if err := zr.(flate.Resetter).Reset(body, nil); err != nil {
			return nil, err
		}
		return zr, nil
	}
	return flate.NewReader(body), nil
}

var errTooLong = errors.New("decompressed block longer than the format allows")

// decompressSized inflates src, which may hold up to most bytes, into a
// slice of exactly the size it holds. A fragment or metadata block is
// often far smaller than the most it may hold (a few KiB of unit files in
// a 128 KiB fragment): it is inflated into a reused scratch buffer and
// copied out, so what is kept is what the image holds.
func (c Compressor) decompressSized(src []byte, most int) ([]byte, error) {
	bp, _ := scratch.Get().(*[]byte)
	if bp == nil || cap(*bp) < most {
		b := make([]byte, most)
		bp = &b
	}
	defer scratch.Put(bp)
	buf := (*bp)[:most]
	n, err := c.decompress(buf, src)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(buf[:n]), nil
}

// scratch holds decompression buffers between blocks (at most one block,
// 1 MiB, each).
var scratch sync.Pool

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
