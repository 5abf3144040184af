package erofs

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// decodeExtent reads an extent's pcluster and returns the extent's bytes.
// The budget is charged for the extent's length before anything is
// allocated for it; the length is bounded by the format (12 MiB).
func (f *FS) decodeExtent(ino *Inode, e extent) ([]byte, error) {
	var raw []byte
	if e.inline {
		b, err := f.meta(e.pa, int(e.plen))
		if err != nil {
			return nil, err
		}
		raw = b
	} else {
		if err := f.budget.Alloc(int(e.plen)); err != nil {
			return nil, err
		}
		defer f.budget.Free(int(e.plen))
		raw = make([]byte, e.plen)
		if err := readFull(f.r, raw, int64(e.pa), "pcluster"); err != nil {
			return nil, err
		}
	}
	// Charged once the pcluster is read: decompression is bounded by the
	// bytes read. The extent is held by the reader that asked for it,
	// which frees it when it lets it go.
	if err := f.budget.Decompress(int(e.llen)); err != nil {
		return nil, err
	}
	if err := f.budget.Alloc(int(e.llen)); err != nil {
		return nil, err
	}
	out, err := f.decodeInto(ino, e, raw)
	if err != nil {
		f.budget.Free(int(e.llen))
		return nil, err
	}
	return out, nil
}

// decodeInto decodes the extent e from its pcluster raw.
func (f *FS) decodeInto(ino *Inode, e extent, raw []byte) ([]byte, error) {
	out := make([]byte, e.llen)
	switch e.kind {
	case extentShifted:
		copy(out, raw)
	case extentInterlaced:
		// The pcluster is rotated so that each byte sits at its own
		// offset within a block: the extent's first bs-la%bs bytes are
		// the last of the pcluster's, the rest start at its beginning.
		head := uint64(f.sb.BlockSize) - e.la%uint64(f.sb.BlockSize)
		if head > e.plen {
			return nil, corrupt(int64(e.pa), "inode %d: interlaced pcluster of %d bytes for an extent at %d", ino.nid, e.plen, e.la)
		}
		n := copy(out, raw[e.plen-head:])
		copy(out[n:], raw)
	case extentEncoded:
		// With 0-padding the stream is aligned to the pcluster's end,
		// after leading zeros; no stream starts with a zero byte.
		src := raw
		for len(src) > 0 && src[0] == 0 {
			src = src[1:]
		}
		if len(src) == 0 {
			return nil, corrupt(int64(e.pa), "inode %d: pcluster of zeros", ino.nid)
		}
		if err := f.decompress(e.alg, out, src); err != nil {
			if errors.Is(err, vfs.ErrUnsupported) || errors.Is(err, vfs.ErrBudget) {
				return nil, err
			}
			return nil, corrupt(int64(e.pa), "inode %d: %s pcluster for bytes %d+%d: %v", ino.nid, algName(e.alg), e.la, e.llen, err)
		}
	}
	return out, nil
}

var errShort = errors.New("stream ends before the extent does")

// decompress fills dst from src. Every decoder stops once dst is full: an
// extent may use only the start of what its pcluster decodes to (partial
// references of deduplicated data).
func (f *FS) decompress(alg uint8, dst, src []byte) error {
	switch alg {
	case algLZ4:
		n, err := lz4Decode(dst, src)
		if err != nil {
			return err
		}
		if n < len(dst) {
			return errShort
		}
		return nil
	case algLZMA:
		return f.decompressMicroLZMA(dst, src)
	case algDeflate:
		_, err := io.ReadFull(flate.NewReader(bytes.NewReader(src)), dst)
		return err
	case algZstd:
		d, err := f.zstdDecoder()
		if err != nil {
			return err
		}
		out, err := d.DecodeAll(src, dst[:0])
		if len(out) < len(dst) {
			if err == nil {
				err = errShort
			}
			return err
		}
		if extra := len(out) - len(dst); extra > 0 {
			// A partial reference: the frame was longer than the
			// extent. Its bytes were produced, so they count.
			if err := f.budget.Decompress(extra); err != nil {
				return err
			}
		}
		if &out[0] != &dst[0] {
			copy(dst, out)
		}
		return nil
	}
	return vfs.Unsupportedf("erofs %s compression", algName(alg))
}

func (f *FS) zstdDecoder() (*zstd.Decoder, error) {
	f.zstdOnce.Do(func() {
		// DecodeAll is safe for concurrent use; memory is bounded by the
		// largest extent the format allows.
		f.zstd, f.zstdErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(pclusterMaxDSize), zstd.WithDecoderMaxWindow(pclusterMaxDSize))
	})
	return f.zstd, f.zstdErr
}

// decompressMicroLZMA decodes erofs's lzma streams, MicroLZMA: a raw LZMA1
// stream without header or end marker whose first byte, always zero in
// LZMA, is replaced by the inverted lc/lp/pb properties byte. It is fed to
// the classic .lzma reader behind a header made up for it.
func (f *FS) decompressMicroLZMA(dst, src []byte) error {
	props := ^src[0]
	if props >= 9*5*5 {
		return fmt.Errorf("lzma properties byte %#x", props)
	}
	// LZMA matches reach only into what was decoded already, so a
	// dictionary a little longer than the extent suffices, whatever the
	// image's configured one.
	dict := uint32(len(dst)) + 4096
	if f.sb.lzmaDictSize != 0 && f.sb.lzmaDictSize < dict {
		dict = max(f.sb.lzmaDictSize, lzma.MinDictCap)
	}
	var hdr [lzma.HeaderLen + 1]byte
	hdr[0] = props
	binary.LittleEndian.PutUint32(hdr[1:], dict)
	binary.LittleEndian.PutUint64(hdr[5:], ^uint64(0)) // size unknown: no end marker to expect
	r, err := lzma.ReaderConfig{DictCap: int(dict)}.NewReader(io.MultiReader(bytes.NewReader(hdr[:]), bytes.NewReader(src[1:])))
	if err != nil {
		return err
	}
	// The stream has no end marker, so the decoder runs into the end of
	// its input and says so, possibly before handing over all it decoded:
	// keep reading while it makes progress.
	n, stalls := 0, 0
	var last error
	for n < len(dst) && stalls < 2 {
		k, err := r.Read(dst[n:])
		n += k
		if k == 0 {
			stalls++
		} else {
			stalls = 0
		}
		if err != nil {
			last = err
		}
	}
	if n < len(dst) {
		if last == nil || last == io.EOF {
			last = errShort
		}
		return last
	}
	return nil
}
