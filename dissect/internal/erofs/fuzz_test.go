package erofs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// fuzzSource is a small tree with a bit of everything: mutations should
// reach the inode, directory and index parsers, not wade through data.
func fuzzSource(f *testing.F) string {
	src := f.TempDir()
	write := func(name string, data []byte) {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, data, 0o644)
	}
	write("usr/lib/os-release", []byte("ID=seed\n"))
	// An attribute, so mutations reach the xattr parser too.
	unix.Setxattr(filepath.Join(src, "usr/lib/os-release"), "user.extension-release.strict", []byte("false"), 0)
	write("usr/lib/systemd/system/seed.service", bytes.Repeat([]byte("[Service]\n"), 500))
	var text strings.Builder
	for i := 0; text.Len() < 24<<10; i++ {
		fmt.Fprintf(&text, "%d %x\n", i*i, i*7919)
	}
	write("usr/share/text", []byte(text.String()))
	for i := 0; i < 40; i++ {
		write(fmt.Sprintf("usr/share/many/e%02d", i), []byte{byte(i)})
	}
	os.Symlink("../usr/lib/os-release", filepath.Join(src, "os-release"))
	os.Symlink(strings.Repeat("y/", 100), filepath.Join(src, "slow"))
	return src
}

// FuzzErofs opens mutated images and walks everything they offer. Seeds are
// small real images: plain, chunked, and compressed with each layout
// mkfs.erofs 1.5 writes, plus 1.8's algorithms and fragments when the
// trixie tree is there.
func FuzzErofs(f *testing.F) {
	if testenv.HaveTool(f, "mkfs.erofs") {
		src := fuzzSource(f)
		for _, args := range [][]string{
			nil,
			{"--chunksize=8192"},
			{"-zlz4"},
			{"-zlz4hc", "-Elegacy-compress"},
			{"-zlz4hc", "-C16384"},
			{"-zlz4hc", "-Eztailpacking"},
		} {
			img := filepath.Join(f.TempDir(), "seed.raw")
			out, err := exec.Command("mkfs.erofs", append(append([]string{"--quiet"}, args...), img, src)...).CombinedOutput()
			if err != nil {
				f.Fatalf("mkfs.erofs %v: %v\n%s", args, err, out)
			}
			addSeed(f, img)
		}
		// A decompression bomb from the hostile corpus.
		img := filepath.Join(f.TempDir(), "bomb.raw")
		fstest.Run(f, "mkfs.erofs", "--quiet", "-zlz4hc", img, fstest.Bomb(f, 8, 256<<10))
		addSeed(f, img)
		if _, ok := testenv.Tree(); ok || testenv.RequireAll() {
			tb := fstest.NewTrixie(f, src)
			for i, args := range [][]string{
				{"-zlzma"},
				{"-zdeflate", "-Eztailpacking"},
				{"-zzstd"},
				{"-zlz4hc", "-Efragments"},
				{"-zlz4hc", "-Ededupe"},
			} {
				addSeed(f, tb.Erofs(f, fmt.Sprint("seed", i), args...))
			}
			tb.Remove()
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fixChecksum(data)
		// One charge decompresses at most an extent.
		fstest.FuzzWalk(t, data, Open, pclusterMaxDSize)
	})
}

// fixChecksum recomputes a mutated image's superblock checksum, so that
// mutations of the first block (where small images keep their inodes and
// root directory) reach the parsers instead of failing the checksum.
func fixChecksum(data []byte) {
	if len(data) < superblockOffset+superblockSize || binary.LittleEndian.Uint32(data[superblockOffset:]) != Magic {
		return
	}
	bits := data[superblockOffset+12]
	if bits < 9 || bits > 16 {
		return
	}
	n := 1 << bits
	if n > superblockOffset {
		n -= superblockOffset
	}
	if len(data) < superblockOffset+n {
		return
	}
	blk := bytes.Clone(data[superblockOffset : superblockOffset+n])
	clear(blk[4:8])
	binary.LittleEndian.PutUint32(data[superblockOffset+4:], ^crc32.Update(0, castagnoli, blk))
}

func addSeed(f *testing.F, img string) {
	b, err := os.ReadFile(img)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}
