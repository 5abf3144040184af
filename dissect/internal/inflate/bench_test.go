package inflate

import (
	"bytes"
	"compress/flate"
	"io"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
)

// BenchmarkBlocks inflates 128 KiB blocks of real files deflated at zlib's
// level 9, as mksquashfs compresses gzip blocks, with our decoder and, for
// scale, with compress/flate and GNU gzip ("gzip -dc" over the same data
// as one member per block, end to end; see fstest.BenchCommand).
func BenchmarkBlocks(b *testing.B) {
	const size = 128 << 10
	blocks := fstest.GoTreeBlocks(b, size, 32)
	streams := make([][]byte, len(blocks))
	members := make([][]byte, len(blocks))
	for i, blk := range blocks {
		members[i] = gzipMember(b, blk, "-9")
		streams[i] = deflateOf(members[i])
	}
	total := int64(len(blocks) * size)
	b.Run("ours", func(b *testing.B) {
		var d Decoder
		fstest.BenchDecode(b, blocks, streams, func(dst, src []byte) (int, error) {
			d.Reset(src, dst)
			return d.DecodeAll()
		})
	})
	b.Run("compress-flate", func(b *testing.B) {
		r := flate.NewReader(nil)
		fstest.BenchDecode(b, blocks, streams, func(dst, src []byte) (int, error) {
			r.(flate.Resetter).Reset(bytes.NewReader(src), nil)
			return io.ReadFull(r, dst)
		})
	})
	b.Run("gzip", func(b *testing.B) {
		fstest.BenchCommand(b, bytes.Join(members, nil), int(total), "gzip", "-dc")
	})
}
