package squashfs

import (
	"bytes"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstdStream decodes a zstd fragment block as far as a read needs. At the
// levels mksquashfs uses, zstd splits a 128 KiB block into several zstd
// blocks, and a streaming decoder decodes one of them at a time: a file
// packed in the first few costs only those.
type zstdStream struct {
	d   *zstd.Decoder
	src bytes.Reader // not a bytes.Buffer, which Reset decodes whole
	buf []byte
	n   int
	end bool
}

// zstdStreams keeps stream decoders between blocks: each holds a window
// of up to the largest block.
var zstdStreams sync.Pool

// zstdReader returns a decoder of the zstd frame src into buf, which
// bounds it; it reads src until released.
func zstdReader(src, buf []byte) (*zstdStream, error) {
	s, _ := zstdStreams.Get().(*zstdStream)
	if s == nil {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(2<<20), zstd.WithDecoderMaxWindow(2<<20))
		if err != nil {
			return nil, err
		}
		s = &zstdStream{d: d}
	}
	s.src.Reset(src)
	if err := s.d.Reset(&s.src); err != nil {
		s.release()
		return nil, err
	}
	s.buf, s.n, s.end = buf, 0, false
	return s, nil
}

func (s *zstdStream) decodeTo(n int) ([]byte, bool, error) {
	if n >= len(s.buf) {
		// The whole block: to the frame's end, where a block longer
		// than the buffer is found out.
		if !s.end {
			m, err := readAllInto(s.d, s.buf[s.n:])
			s.n += m
			if err != nil {
				return s.buf[:s.n], false, err
			}
			s.end = true
		}
		return s.buf[:s.n], true, nil
	}
	if !s.end && s.n < n {
		m, err := io.ReadFull(s.d, s.buf[s.n:n])
		s.n += m
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			s.end = true
		case err != nil:
			return s.buf[:s.n], false, err
		}
	}
	return s.buf[:s.n], s.end, nil
}

func (s *zstdStream) readsSource() bool { return true }

func (s *zstdStream) release() {
	s.d.Reset(nil) // drops the source
	s.buf = nil
	zstdStreams.Put(s)
}
