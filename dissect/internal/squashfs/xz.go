package squashfs

import (
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
// straight into the buffer it is given, as the blockStream of every xz
// block. Decoded to its end, the block's check is verified.
type xzStream struct {
	flatStream
	d xz.Decoder
}

// xzStreams keeps decoders between blocks: each holds its copy of the
// input and its probabilities.
var xzStreams sync.Pool

func getXZ() *xzStream {
	if s, ok := xzStreams.Get().(*xzStream); ok {
		return s
	}
	s := new(xzStream)
	s.dec = &s.d
	return s
}

// xzReader returns a decoder of the xz stream src into buf, which bounds
// it; release gives it back to the pool. It keeps its own copy of src.
func xzReader(src, buf []byte) (*xzStream, error) {
	s := getXZ()
	if err := s.d.Reset(src, buf, maxDict); err != nil {
		s.release()
		return nil, err
	}
	s.size = len(buf)
	return s, nil
}

func (s *xzStream) release() { xzStreams.Put(s) }
