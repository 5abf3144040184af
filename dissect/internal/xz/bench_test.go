package xz

import (
	"bytes"
	"io"
	"testing"

	ulxz "github.com/ulikunitz/xz"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
)

// BenchmarkBlocks decodes 128 KiB blocks of real files as mksquashfs
// compresses them with xz (xz-utils, a dictionary of the block's size and
// a CRC32 check), with our decoder and, for scale, with the reference
// decoders: ulikunitz/xz (pure Go) and xz-utils itself ("xz -dc" over the same
// streams end to end; see fstest.BenchCommand).
func BenchmarkBlocks(b *testing.B) {
	const size = 128 << 10
	blocks := fstest.GoTreeBlocks(b, size, 32)
	streams := make([][]byte, len(blocks))
	for i, blk := range blocks {
		streams[i] = compress(b, blk, "--check=crc32", "--lzma2=preset=6,dict=128KiB")
	}
	total := int64(len(blocks) * size)
	b.Run("ours", func(b *testing.B) {
		var d Decoder
		fstest.BenchDecode(b, blocks, streams, func(dst, src []byte) (int, error) {
			if err := d.Reset(src, dst, size); err != nil {
				return 0, err
			}
			return d.DecodeAll()
		})
	})
	b.Run("ulikunitz", func(b *testing.B) {
		fstest.BenchDecode(b, blocks, streams, func(dst, src []byte) (int, error) {
			r, err := ulxz.NewReader(bytes.NewReader(src))
			if err != nil {
				return 0, err
			}
			return io.ReadFull(r, dst)
		})
	})
	b.Run("xz-utils", func(b *testing.B) {
		fstest.BenchCommand(b, bytes.Join(streams, nil), int(total), "xz", "-dc")
	})
}
