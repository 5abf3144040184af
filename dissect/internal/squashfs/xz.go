package squashfs

import (
	"errors"
	"io"
	"sync"

	"github.com/portable-generator/portable-generator/dissect/internal/xz"
)

// maxDict bounds the LZMA dictionary a block may ask for. No SquashFS
// block decodes to more than the largest block size, and mksquashfs sets
// the dictionary to the block size, so a larger one is refused before
// anything is decoded (the kernel refuses it too). The lzma decoder
// allocates what a stream header names, up to 4 GiB; the xz decoder
// allocates nothing for it (it decodes into the block's own buffer).
const maxDict = 1 << 20

// xzStream decodes one xz block (package xz: stream and block headers,
// LZMA2 data, check, index, footer, as mksquashfs writes one per block)
// into buf, a buffer as large as the block may be, and serves it as a
// reader for fragment blocks, which are decoded only as far as the files
// read need.
type xzStream struct {
	d    xz.Decoder
	buf  []byte
	read int
}

// xzStreams keeps decoders between blocks: each holds its copy of the
// input, its probabilities and, once it served a fragment, a buffer as
// large as a block.
var xzStreams sync.Pool

func getXZ() *xzStream {
	if s, ok := xzStreams.Get().(*xzStream); ok {
		return s
	}
	return new(xzStream)
}

// decodeXZ decodes the xz stream src into dst, which bounds it.
func decodeXZ(dst, src []byte) (int, error) {
	s := getXZ()
	defer xzStreams.Put(s)
	if err := s.d.Reset(src, dst, maxDict); err != nil {
		return 0, err
	}
	n, err := s.d.DecodeAll()
	if errors.Is(err, xz.ErrTooLong) {
		err = errTooLong
	}
	return n, err
}

// xzReader returns a reader of the xz stream src, which decodes to at
// most most bytes; release gives it back to the pool.
func xzReader(src []byte, most int) (*xzStream, error) {
	s := getXZ()
	if cap(s.buf) < most {
		s.buf = make([]byte, most)
	}
	s.read = 0
	if err := s.d.Reset(src, s.buf[:most], maxDict); err != nil {
		xzStreams.Put(s)
		return nil, err
	}
	return s, nil
}

// Read decodes as far as p reaches and copies it out.
func (s *xzStream) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := s.d.DecodeTo(s.read + len(p)); err != nil {
		if errors.Is(err, xz.ErrTooLong) {
			err = errTooLong
		}
		return 0, err
	}
	n := copy(p, s.d.Bytes()[s.read:])
	s.read += n
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}
