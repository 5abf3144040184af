package ext4

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// FuzzExt4 opens mutated images and walks everything they offer. Seeds are
// small real images made by mke2fs: extents, block maps (ext2), inline
// data, and an htree directory indexed by e2fsck -D.
func FuzzExt4(f *testing.F) {
	if testenv.HaveTool(f, "mke2fs") {
		src := fstest.SeedTree(f, 150)
		os.Symlink(string(bytes.Repeat([]byte("long/"), 20)), filepath.Join(src, "slow-link"))
		for i := 0; i < 60; i++ { // two directory blocks: room for an index
			os.WriteFile(filepath.Join(src, "usr/lib/systemd/system", fmt.Sprintf("unit-%03d.service", i)), nil, 0o644)
		}
		// Sparse units from the hostile corpus: zeros made from nothing.
		for i := 0; i < 4; i++ {
			os.Truncate(filepath.Join(src, "usr/lib/systemd/system", fmt.Sprintf("unit-%03d.service", i)), 1<<20)
		}
		for _, c := range []struct {
			opts  []string
			index bool
		}{
			{[]string{"-t", "ext4", "-O", "^has_journal,^resize_inode"}, false},
			{[]string{"-t", "ext4", "-O", "^has_journal,^resize_inode,inline_data"}, false},
			{[]string{"-t", "ext2", "-O", "^resize_inode"}, false},
			{[]string{"-t", "ext4", "-O", "^has_journal,^resize_inode"}, true},
		} {
			img := filepath.Join(f.TempDir(), "seed.raw")
			// Small seeds keep the fuzzer fast: it mutates and minimizes
			// whole inputs.
			args := append([]string{"-q", "-F", "-b", "1024", "-N", "96", "-d", src}, c.opts...)
			if out, err := exec.Command("mke2fs", append(args, img, "96k")...).CombinedOutput(); err != nil {
				f.Fatalf("mke2fs: %v\n%s", err, out)
			}
			if c.index {
				exec.Command("e2fsck", "-fyD", img).Run()
			}
			b, err := os.ReadFile(img)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Holes are charged a run of blocks at a time, up to a file.
		fstest.FuzzWalk(t, data, Open, vfs.MaxReadFile)
	})
}
