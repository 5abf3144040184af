package squashfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// TestFragmentDecodedOnlySoFar: the decoder of a streaming compressor
// stops after the last byte a read needs, so a fragment block damaged near
// its end still serves the files packed before the damage.
func TestFragmentDecodedOnlySoFar(t *testing.T) {
	src := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	var names []string
	want := map[string][]byte{}
	for i := 0; i < 30; i++ {
		var text strings.Builder
		for text.Len() < 3000 {
			// Text and noise, as a real tree's files are.
			if i%2 == 0 {
				fmt.Fprintf(&text, "line %d of unit %d\n", rng.IntN(1000), i)
			} else {
				fmt.Fprintf(&text, "%x\n", rng.Uint64())
			}
		}
		name := fmt.Sprintf("unit-%02d.service", i)
		names = append(names, name)
		want[name] = []byte(text.String())
		if err := os.WriteFile(filepath.Join(src, name), want[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Not lzma (deprecated, no kernel reads it): its reader decodes ahead
	// in chunks of its own.
	for _, comp := range []string{"gzip", "xz"} {
		t.Run(comp, func(t *testing.T) {
			img := build(t, src, "-comp", comp)
			_, sq, _ := open(t, img)
			if sq.sb.Fragments != 1 {
				t.Fatalf("%d fragments, want the files in one", sq.sb.Fragments)
			}
			start, size := fragmentAt(t, sq, 0)
			data, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			stored := data[start : start+size]
			// Damage the last tenth of the block, short of the trailers
			// (zlib's Adler-32 is not checked).
			for i := size * 9 / 10; i < size-8; i++ {
				stored[i] ^= 0x5a
			}
			damaged := filepath.Join(t.TempDir(), "damaged.raw")
			if err := os.WriteFile(damaged, data, 0o644); err != nil {
				t.Fatal(err)
			}
			tree, _, _ := fstest.OpenImage(t, damaged, vfs.DefaultLimits, Open)
			got, err := fs.ReadFile(tree, names[0])
			if err != nil {
				t.Fatalf("the first file of a block damaged at its end: %v", err)
			}
			if !bytes.Equal(got, want[names[0]]) {
				t.Fatalf("the first file reads wrong")
			}
		})
	}
}

// fragmentAt returns where fragment block idx is stored and its stored size.
func fragmentAt(t *testing.T, sq *FS, idx uint32) (start, size uint64) {
	t.Helper()
	index, err := sq.fragmentIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := sq.newMetaReader(index[idx/512], int(idx%512)*16)
	if err != nil {
		t.Fatal(err)
	}
	var e errs
	start, entry := e.u64(m), e.u32(m)
	if e.err != nil {
		t.Fatal(e.err)
	}
	return start, uint64(entry & blockLengthMask)
}

// TestMetadataDecodedOnlySoFar: a lookup decodes the metadata blocks of a
// streaming compressor (gzip, xz) only as far as the inode and entries it
// reads; a later read further into a block goes on from there, and every
// file still reads right.
func TestMetadataDecodedOnlySoFar(t *testing.T) {
	src := t.TempDir()
	for i := 0; i < 400; i++ {
		name := fmt.Sprintf("unit-%03d.service", i)
		if err := os.WriteFile(filepath.Join(src, name), []byte(fmt.Sprintf("[Service]\nExecStart=/bin/true %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, comp := range []string{"gzip", "xz", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			tree, sq, _ := open(t, build(t, src, "-comp", comp))
			if _, err := fs.ReadFile(tree, "unit-000.service"); err != nil {
				t.Fatal(err)
			}
			partial := 0
			sq.cache.mu.Lock()
			for _, b := range sq.cache.blocks {
				if !b.complete {
					partial++
				}
			}
			sq.cache.mu.Unlock()
			switch {
			case comp == "zstd" && partial > 0:
				t.Errorf("%d zstd metadata blocks decoded in part", partial)
			case comp != "zstd" && partial == 0:
				t.Errorf("every metadata block read was decoded whole")
			}
			for i := 399; i >= 0; i -= 7 {
				name := fmt.Sprintf("unit-%03d.service", i)
				got, err := fs.ReadFile(tree, name)
				if want := fmt.Sprintf("[Service]\nExecStart=/bin/true %d\n", i); err != nil || string(got) != want {
					t.Errorf("%s: %q, %v", name, got, err)
				}
			}
		})
	}
}

// TestMetadataCheckMismatch: an xz metadata block whose check does not
// match what it decodes to is corrupt, however far a read needs it: the
// bytes decoded in the very call that found the mismatch are not served.
func TestMetadataCheckMismatch(t *testing.T) {
	src := t.TempDir()
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("unit-%d.service", i)
		if err := os.WriteFile(filepath.Join(src, name), []byte("[Service]\nExecStart=/bin/true\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := build(t, src, "-comp", "xz")
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	// The inode table's one block: its length word, then one xz stream.
	at := binary.LittleEndian.Uint64(b[64:])
	h := binary.LittleEndian.Uint16(b[at:])
	if h&0x8000 != 0 {
		t.Fatal("inode table stored uncompressed")
	}
	stream := b[at+2 : at+2+uint64(h)]
	// The footer gives the index's size; the block's check is right
	// before the index.
	footer := stream[len(stream)-12:]
	index := (int(binary.LittleEndian.Uint32(footer[4:])) + 1) * 4
	checkSize := map[byte]int{0: 0, 1: 4, 4: 8, 10: 32}[stream[7]]
	if checkSize == 0 {
		// mksquashfs writes CRC32; a build that writes none (or a check
		// this test does not know) leaves nothing to damage here.
		testenv.Unavailable(t, "mksquashfs wrote an xz stream with check type %d: no check to damage", stream[7])
	}
	stream[len(stream)-12-index-checkSize] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.squashfs")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	tree, _, _ := open(t, bad)
	if got, err := fs.ReadFile(tree, "unit-1.service"); err == nil {
		t.Errorf("read %q through an inode table that fails its check", got)
	}
}
