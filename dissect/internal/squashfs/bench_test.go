package squashfs

import (
	"bytes"
	"os/exec"
	"strconv"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// BenchmarkZstdBlocks decodes 128 KiB blocks of real files compressed as
// mksquashfs compresses them with zstd (level 15, no checksum), with the
// decoder the reader uses (klauspost/compress, whole blocks) and, for
// scale, with zstd's own command over the same frames end to end (see
// fstest.BenchCommand). The xz and inflate packages have the same
// benchmark for the decoders that are ours.
func BenchmarkZstdBlocks(b *testing.B) {
	testenv.NeedTool(b, "zstd")
	const size = 128 << 10
	blocks := fstest.GoTreeBlocks(b, size, 32)
	frames := make([][]byte, len(blocks))
	for i, blk := range blocks {
		// The size told, as mksquashfs's one-shot call tells it: the
		// window then fits the block.
		cmd := exec.Command("zstd", "-15", "--no-check", "-q", "-c", "--stream-size="+strconv.Itoa(len(blk)))
		cmd.Stdin = bytes.NewReader(blk)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("zstd: %v", err)
		}
		frames[i] = out
	}
	total := int64(len(blocks) * size)
	b.Run("klauspost", func(b *testing.B) {
		fstest.BenchDecode(b, blocks, frames, Zstd.decompress)
	})
	b.Run("zstd", func(b *testing.B) {
		fstest.BenchCommand(b, bytes.Join(frames, nil), int(total), "zstd", "-dc")
	})
}
