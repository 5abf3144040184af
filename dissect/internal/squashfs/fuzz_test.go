package squashfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// FuzzSquashfs opens mutated images and walks everything they offer. Seeds
// are small real images, one per compressor, built with mksquashfs.
func FuzzSquashfs(f *testing.F) {
	if testenv.HaveTool(f, "mksquashfs") {
		src := fstest.SeedTree(f, 500)
		// The uncompressed seed lets mutations reach the inode and
		// directory parsers instead of failing in a decompressor.
		for _, comp := range [][]string{{"-noI", "-noD", "-noF"}, {"-comp", "gzip"}, {"-comp", "lzo"}, {"-comp", "lz4"}, {"-comp", "xz"}, {"-comp", "zstd"}} {
			img := filepath.Join(f.TempDir(), "seed.raw")
			args := append([]string{src, img, "-noappend", "-quiet", "-no-progress", "-b", "4096"}, comp...)
			if out, err := exec.Command("mksquashfs", args...).CombinedOutput(); err != nil {
				f.Fatalf("mksquashfs: %v\n%s", err, out)
			}
			b, err := os.ReadFile(img)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
		// Decompression bombs from the hostile corpus: units that
		// inflate a thousandfold, packed by the streaming and the
		// whole-block compressors.
		bomb := fstest.Bomb(f, 8, 256<<10)
		for _, comp := range []string{"xz", "zstd"} {
			img := filepath.Join(f.TempDir(), "bomb.raw")
			fstest.Run(f, "mksquashfs", bomb, img, "-noappend", "-quiet", "-no-progress", "-comp", comp)
			b, err := os.ReadFile(img)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// One charge decompresses at most a block.
		fstest.FuzzWalk(t, data, Open, 1<<20)
	})
}
