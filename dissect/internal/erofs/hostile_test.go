package erofs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// The hostile images here are real images with a few bytes changed where
// the reader itself says a structure lives. Every one must end in a clean
// ErrCorrupt, ErrUnsupported or ErrBudget: no panic, no hang, no huge
// allocation.

// crafted is an image held in memory, to be patched and reopened.
type crafted struct {
	t testing.TB
	b []byte
	e *FS // over the unpatched bytes, to find structures
	// badChecksum keeps the superblock checksum as patched; otherwise
	// open recomputes it, since small images keep their inodes in the
	// checksummed first block.
	badChecksum bool
}

func craft(t testing.TB, src string, args ...string) *crafted {
	t.Helper()
	return craftFrom(t, build(t, src, args...))
}

func craftFrom(t testing.TB, img string) *crafted {
	t.Helper()
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(bytes.NewReader(bytes.Clone(b)), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &crafted{t: t, b: b, e: e}
}

// ino finds an inode by path, without following symlinks.
func (c *crafted) ino(p string) *Inode {
	c.t.Helper()
	n, err := c.e.Root()
	if err != nil {
		c.t.Fatal(err)
	}
	for _, name := range strings.Split(p, "/") {
		if n, err = c.e.Lookup(n, name); err != nil {
			c.t.Fatalf("%s: %v", p, err)
		}
	}
	return n.(*Inode)
}

// open opens the patched bytes under limits.
func (c *crafted) open(l vfs.Limits) (*FS, *vfs.Tree, *vfs.Budget, error) {
	if !c.badChecksum && len(c.b) >= int(c.e.sb.BlockSize) {
		c.fixChecksum()
	}
	b := vfs.NewBudget(l)
	e, err := Open(vfs.CountingReaderAt{R: bytes.NewReader(c.b), B: b}, int64(len(c.b)), b)
	if err != nil {
		return nil, nil, b, err
	}
	return e, vfs.NewTree(e, nil, b), b, nil
}

func (c *crafted) put16(off uint64, v uint16) { binary.LittleEndian.PutUint16(c.b[off:], v) }
func (c *crafted) put32(off uint64, v uint32) { binary.LittleEndian.PutUint32(c.b[off:], v) }
func (c *crafted) put64(off uint64, v uint64) { binary.LittleEndian.PutUint64(c.b[off:], v) }

// setSize rewrites an inode's size field.
func (c *crafted) setSize(ino *Inode, size uint64) {
	if ino.extended {
		c.put64(ino.pos+8, size)
	} else {
		c.put32(ino.pos+8, uint32(size))
	}
}

// fixChecksum recomputes the superblock checksum after a patch to it.
func (c *crafted) fixChecksum() {
	n := int(c.e.sb.BlockSize) - superblockOffset
	blk := bytes.Clone(c.b[superblockOffset : superblockOffset+n])
	clear(blk[4:8])
	c.put32(superblockOffset+4, ^crc32.Update(0, castagnoli, blk))
}

// dirent returns the image offset of name's dirent in dir.
func (c *crafted) dirent(dir *Inode, name string) uint64 {
	at, _ := c.direntIn(dir, name)
	return at
}

// direntIn returns the image offsets of name's dirent and of the start of
// its directory block, where name offsets count from.
func (c *crafted) direntIn(dir *Inode, name string) (uint64, uint64) {
	c.t.Helper()
	d, err := c.e.openDir(dir)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := uint64(0); i < d.blocks; i++ {
		blk, err := d.block(i)
		if err != nil {
			c.t.Fatal(err)
		}
		for j := 0; j < blk.count; j++ {
			if n, _ := blk.name(j); string(n) == name {
				return uint64(blk.pos) + uint64(j)*direntSize, uint64(blk.pos)
			}
		}
	}
	c.t.Fatalf("no %s in directory inode %d", name, dir.nid)
	return 0, 0
}

// fullIndex returns the image offset of lcluster lcn's full index.
func fullIndex(ino *Inode, lcn uint64) uint64 { return (ino.dataPos+7)&^7 + 16 + lcn*8 }

// hostileSource is a small tree: hostile cases need structure, not bulk.
func hostileSource(t testing.TB) string {
	t.Helper()
	src := t.TempDir()
	write := func(name string, data []byte) {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("usr/lib/os-release", []byte("ID=hostile\n"))
	write("usr/lib/systemd/system/app.service", []byte("[Service]\nExecStart=/app\n"))
	// Text that compresses a few times over, so that it needs many
	// extents and pclusters.
	rng := rand.New(rand.NewPCG(5, 6))
	var text bytes.Buffer
	for text.Len() < 200<<10 {
		text.WriteString(itoa(rng.IntN(1 << 20)))
		text.WriteByte(" \n"[rng.IntN(2)])
	}
	write("usr/share/text", text.Bytes())
	os.Symlink("../usr/lib/os-release", filepath.Join(src, "os-release"))
	os.MkdirAll(filepath.Join(src, "etc"), 0o755)
	os.Symlink("../usr/lib/os-release", filepath.Join(src, "etc/os-release"))
	return src
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	t.Logf("%s: %v", what, err)
	if !errors.Is(err, kind) {
		t.Errorf("%s: %v, want %v", what, err, kind)
	}
}

func TestHostileSuperblock(t *testing.T) {
	src := hostileSource(t)
	base := craft(t, src)
	for _, c := range []struct {
		name  string
		patch func(c *crafted)
		kind  error
		say   string
	}{
		{"bad magic", func(c *crafted) { c.b[superblockOffset] ^= 0xff }, vfs.ErrCorrupt, "magic"},
		{"checksum of another block", func(c *crafted) {
			c.b[c.e.sb.BlockSize-1] ^= 0xff
			c.badChecksum = true
		}, vfs.ErrCorrupt, "checksum"},
		{"bad checksum", func(c *crafted) {
			c.b[superblockOffset+64] ^= 0xff
			c.badChecksum = true
		}, vfs.ErrCorrupt, "checksum"},
		{"unknown incompatible feature", func(c *crafted) {
			c.put32(superblockOffset+80, c.e.sb.FeatureIncompat|0x400)
			c.fixChecksum()
		}, vfs.ErrUnsupported, "0x400"},
		{"48-bit layout", func(c *crafted) {
			c.put32(superblockOffset+80, c.e.sb.FeatureIncompat|incompat48Bit)
			c.fixChecksum()
		}, vfs.ErrUnsupported, "48-bit"},
		{"block size 2^30", func(c *crafted) {
			c.b[superblockOffset+12] = 30
			c.fixChecksum()
		}, vfs.ErrCorrupt, "block size"},
		{"more blocks than the image", func(c *crafted) {
			c.put32(superblockOffset+36, 1<<30)
			c.fixChecksum()
		}, vfs.ErrCorrupt, "blocks"},
		{"truncated", func(c *crafted) { c.b = c.b[:len(c.b)/2] }, vfs.ErrCorrupt, "blocks"},
		{"too small", func(c *crafted) { c.b = c.b[:1100] }, vfs.ErrCorrupt, "too small"},
		{"root is a file", func(c *crafted) {
			c.put16(superblockOffset+14, uint16(c.ino("usr/lib/os-release").nid))
			c.fixChecksum()
		}, vfs.ErrCorrupt, "not a directory"},
		{"root beyond the image", func(c *crafted) {
			c.put16(superblockOffset+14, 0xffff)
			c.fixChecksum()
		}, vfs.ErrCorrupt, "beyond"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := &crafted{t: t, b: bytes.Clone(base.b), e: base.e}
			c.patch(cc)
			e, _, _, err := cc.open(vfs.DefaultLimits)
			if err == nil {
				_, err = e.Root()
			}
			wantKind(t, c.name, err, c.kind)
			if err != nil && !strings.Contains(err.Error(), c.say) {
				t.Errorf("%v does not say %q", err, c.say)
			}
		})
	}
}

func TestHostileInodesAndDirectories(t *testing.T) {
	src := hostileSource(t)
	base := craft(t, src)
	for _, c := range []struct {
		name  string
		patch func(c *crafted)
		read  string // path to read (or list, when it ends in /)
		kind  error
	}{
		{"directory of 4 GiB", func(c *crafted) { c.setSize(c.ino("usr/lib"), 0xfffff000) }, "usr/lib/os-release", vfs.ErrCorrupt},
		{"directory of 2^62 bytes", func(c *crafted) { c.setSize(c.ino("usr/lib"), 1<<62) }, "usr/lib/", vfs.ErrCorrupt},
		{"file of 2^62 bytes", func(c *crafted) { c.setSize(c.ino("usr/lib/os-release"), 1<<62) }, "usr/lib/os-release", vfs.ErrCorrupt},
		{"size beyond int64", func(c *crafted) { c.setSize(c.ino("usr/lib/os-release"), 1<<63) }, "usr/lib/os-release", vfs.ErrCorrupt},
		{"symlink of 1 MiB", func(c *crafted) { c.setSize(c.ino("etc/os-release"), 1<<20) }, "etc/os-release", vfs.ErrCorrupt},
		{"unknown file type", func(c *crafted) {
			ino := c.ino("usr/lib/os-release")
			c.put16(ino.pos+4, 0o070644)
		}, "usr/lib/os-release", vfs.ErrCorrupt},
		{"unknown inode format", func(c *crafted) {
			ino := c.ino("usr/lib/os-release")
			c.b[ino.pos] |= 0x40
		}, "usr/lib/os-release", vfs.ErrUnsupported},
		{"reserved data layout", func(c *crafted) {
			ino := c.ino("usr/lib/os-release")
			c.b[ino.pos] = c.b[ino.pos]&1 | 6<<1
		}, "usr/lib/os-release", vfs.ErrUnsupported},
		{"data blocks beyond the image", func(c *crafted) {
			ino := c.ino("usr/share/text")
			c.put32(ino.pos+16, 0xfffffff0)
		}, "usr/share/text", vfs.ErrCorrupt},
		{"inline tail across its block", func(c *crafted) {
			// An xattr area that ends 4 bytes before a block boundary
			// puts the 11-byte tail across it.
			ino := c.ino("usr/lib/os-release")
			bs := uint64(c.e.sb.BlockSize)
			isize := uint64(compactInodeSize)
			if ino.extended {
				isize = extendedInodeSize
			}
			area := bs - 4 - (ino.pos+isize)%bs
			if area < 12 {
				area += bs
			}
			c.put16(ino.pos+2, uint16((area-12)/4+1))
		}, "usr/lib/os-release", vfs.ErrCorrupt},
		{"dirent to an inode beyond the image", func(c *crafted) {
			c.put64(c.dirent(c.ino("usr/lib"), "os-release"), 1<<40)
		}, "usr/lib/os-release", vfs.ErrCorrupt},
		{"first name offset past the block", func(c *crafted) {
			c.put16(c.dirent(c.ino("usr/lib"), ".")+8, 0xfff0)
		}, "usr/lib/", vfs.ErrCorrupt},
		{"name offsets out of order", func(c *crafted) {
			at := c.dirent(c.ino("usr/lib"), "os-release")
			c.put16(at+8, binary.LittleEndian.Uint16(c.b[at+8-direntSize:])-1)
		}, "usr/lib/", vfs.ErrCorrupt},
		{"name with a slash", func(c *crafted) {
			at, blk := c.direntIn(c.ino("usr/lib"), "os-release")
			c.b[blk+uint64(binary.LittleEndian.Uint16(c.b[at+8:]))+2] = '/'
		}, "usr/lib/", vfs.ErrCorrupt},
		{"unknown dirent type", func(c *crafted) {
			c.b[c.dirent(c.ino("usr/lib"), "os-release")+10] = 9
		}, "usr/lib/", vfs.ErrCorrupt},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := &crafted{t: t, b: bytes.Clone(base.b), e: base.e}
			c.patch(cc)
			_, tree, _, err := cc.open(vfs.DefaultLimits)
			if err == nil {
				if dir, ok := strings.CutSuffix(c.read, "/"); ok {
					_, err = fs.ReadDir(tree, dir)
				} else {
					_, err = fs.ReadFile(tree, c.read)
				}
			}
			wantKind(t, c.name, err, c.kind)
		})
	}
}

// TestCyclicDirectory points a directory's entry back at the root: a walk
// goes round and round until the entries budget stops it.
func TestCyclicDirectory(t *testing.T) {
	c := craft(t, hostileSource(t))
	c.put64(c.dirent(c.ino("usr/lib"), "systemd"), c.e.sb.RootNid)
	_, tree, b, err := c.open(vfs.Limits{Entries: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	// The loop is there: usr/lib/systemd is the root.
	if _, err := fs.ReadFile(tree, "usr/lib/systemd/usr/lib/systemd/usr/lib/os-release"); err != nil {
		t.Fatal(err)
	}
	var walkErr error
	fs.WalkDir(tree, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil && walkErr == nil {
			walkErr = err
		}
		return err
	})
	wantKind(t, "walking a cyclic directory", walkErr, vfs.ErrBudget)
	if st := b.Stats(); st.Entries > 21_000 {
		t.Errorf("visited %d entries under a budget of 20,000", st.Entries)
	}
}

// TestHostileLclusters breaks the lcluster indexes of a compressed file
// (full indexes, whose fields sit at known places).
func TestHostileLclusters(t *testing.T) {
	src := hostileSource(t)
	base := craft(t, src, "-zlz4hc", "-Elegacy-compress")
	big := craft(t, src, "-zlz4hc", "-Elegacy-compress", "-C65536")
	text := base.ino("usr/share/text")
	lclusters := (text.size + uint64(base.e.sb.BlockSize) - 1) / uint64(base.e.sb.BlockSize)
	if text.layout != layoutCompressedFull || lclusters < 8 {
		t.Fatalf("usr/share/text: layout %d, %d lclusters", text.layout, lclusters)
	}
	setAll := func(c *crafted, ino *Inode, from uint64, advise, d0, d1 uint16) {
		for lcn := from; lcn < lclusters; lcn++ {
			at := fullIndex(ino, lcn)
			c.put16(at, advise)
			c.put16(at+4, d0)
			c.put16(at+6, d1)
		}
	}
	for _, c := range []struct {
		name   string
		from   *crafted
		patch  func(c *crafted)
		limits vfs.Limits
		kind   error // nil: the file must still read right
	}{
		// One extent over the whole file, decoded from one block.
		{"every lcluster after the first a nonhead", base, func(c *crafted) {
			setAll(c, text, 1, lclusterNonhead, 1, 1)
		}, vfs.DefaultLimits, vfs.ErrCorrupt},
		{"nonhead chain under a small budget", base, func(c *crafted) {
			setAll(c, text, 1, lclusterNonhead, 1, 1)
		}, vfs.Limits{Entries: 20}, vfs.ErrBudget},
		{"lookback distance zero", base, func(c *crafted) {
			setAll(c, text, 0, lclusterNonhead, 0, 0)
		}, vfs.DefaultLimits, vfs.ErrCorrupt},
		{"lookback past the start", base, func(c *crafted) {
			setAll(c, text, 0, lclusterNonhead, 0x7ff, 0)
		}, vfs.DefaultLimits, vfs.ErrCorrupt},
		{"unknown advise bits ignored, heads beyond the image", base, func(c *crafted) {
			for lcn := uint64(0); lcn < lclusters; lcn++ {
				at := fullIndex(text, lcn)
				if binary.LittleEndian.Uint16(c.b[at:])&3 != lclusterNonhead {
					c.put32(at+4, 0xffffff00)
				}
			}
		}, vfs.DefaultLimits, vfs.ErrCorrupt},
		{"cluster offset past the lcluster", base, func(c *crafted) {
			c.put16(fullIndex(text, 0)+2, 0xffff)
		}, vfs.DefaultLimits, vfs.ErrCorrupt},
		{"next-head distances zeroed still read right", base, func(c *crafted) {
			for lcn := uint64(0); lcn < lclusters; lcn++ {
				at := fullIndex(text, lcn)
				if binary.LittleEndian.Uint16(c.b[at:])&3 == lclusterNonhead {
					c.put16(at+6, 0)
				}
			}
		}, vfs.DefaultLimits, nil},
		{"garbage pcluster", base, func(c *crafted) {
			pa := uint64(binary.LittleEndian.Uint32(c.b[fullIndex(text, 0)+4:])) * uint64(c.e.sb.BlockSize)
			for i := range c.e.sb.BlockSize {
				c.b[pa+uint64(i)] = 0xf0
			}
		}, vfs.DefaultLimits, vfs.ErrCorrupt},
		{"block count of 8 MiB", big, func(c *crafted) {
			ino := c.ino("usr/share/text")
			for lcn := uint64(0); lcn < lclusters; lcn++ {
				at := fullIndex(ino, lcn)
				if d0 := binary.LittleEndian.Uint16(c.b[at+4:]); binary.LittleEndian.Uint16(c.b[at:])&3 == lclusterNonhead && d0&indexCBlkCnt != 0 {
					c.put16(at+4, indexCBlkCnt|0x7ff)
				}
			}
		}, vfs.DefaultLimits, vfs.ErrCorrupt},
		{"algorithm the superblock does not list", base, func(c *crafted) {
			c.b[(text.dataPos+7)&^7+6] = algZstd
		}, vfs.DefaultLimits, vfs.ErrCorrupt},
		{"unknown algorithm", base, func(c *crafted) {
			c.b[(text.dataPos+7)&^7+6] = 9
		}, vfs.DefaultLimits, vfs.ErrUnsupported},
		{"extent records", base, func(c *crafted) {
			c.b[(text.dataPos+7)&^7+4] |= adviseExtents
		}, vfs.DefaultLimits, vfs.ErrUnsupported},
		{"whole file a fragment, no packed inode", base, func(c *crafted) {
			c.b[(text.dataPos+7)&^7+7] |= 0x80
		}, vfs.DefaultLimits, vfs.ErrCorrupt},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := &crafted{t: t, b: bytes.Clone(c.from.b), e: c.from.e}
			c.patch(cc)
			_, tree, _, err := cc.open(c.limits)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fs.ReadFile(tree, "usr/share/text")
			if c.kind == nil {
				want, _ := os.ReadFile(filepath.Join(src, "usr/share/text"))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("read %d bytes, %v; want the %d of the source", len(got), err, len(want))
				}
				return
			}
			wantKind(t, c.name, err, c.kind)
		})
	}
}

// TestHead2 turns every HEAD1 lcluster of a file into a HEAD2 one with the
// same algorithm: mkfs.erofs never writes HEAD2, the format allows it.
func TestHead2(t *testing.T) {
	src := hostileSource(t)
	c := craft(t, src, "-zlz4hc", "-Elegacy-compress")
	text := c.ino("usr/share/text")
	c.b[(text.dataPos+7)&^7+6] = algLZ4<<4 | algLZ4
	heads := 0
	for lcn := uint64(0); lcn < (text.size+4095)/4096; lcn++ {
		at := fullIndex(text, lcn)
		if advise := binary.LittleEndian.Uint16(c.b[at:]); advise&3 == lclusterHead1 {
			c.put16(at, advise|lclusterHead2)
			heads++
		}
	}
	e, tree, _, err := c.open(vfs.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(tree, "usr/share/text")
	want, _ := os.ReadFile(filepath.Join(src, "usr/share/text"))
	if err != nil || !bytes.Equal(got, want) || heads == 0 {
		t.Fatalf("%d HEAD2 lclusters: read %d bytes, %v; want %d", heads, len(got), err, len(want))
	}
	if seen := census(t, e); seen["head2"] == 0 || seen["lz4"] == 0 {
		t.Errorf("census %s", describe(seen))
	}
}

// TestReadAtFarOffsets reads a compressed file claiming 2^40 bytes at
// offsets whose indexes lie beyond the image.
func TestReadAtFarOffsets(t *testing.T) {
	c := craft(t, hostileSource(t), "-zlz4hc")
	c.setSize(c.ino("usr/share/text"), 1<<40)
	e, _, _, err := c.open(vfs.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	n := c.ino("usr/share/text")
	ino, err := e.inode(n.nid)
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Open(ino)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{1 << 39, 1<<40 - 1, 1 << 32} {
		_, err := r.ReadAt(make([]byte, 16), off)
		wantKind(t, "read far in", err, vfs.ErrCorrupt)
	}
	if _, err := r.ReadAt(make([]byte, 1), 1<<40); err != io.EOF {
		t.Errorf("read at the end: %v, want EOF", err)
	}
}

// TestHostileCompressionConfig changes the configuration records after the
// superblock of 1.8's lzma, deflate and zstd images.
func TestHostileCompressionConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds four images in the trixie tree")
	}
	src := hostileSource(t)
	tb := fstest.NewTrixie(t, src)
	for _, c := range []struct {
		alg   string
		patch func(rec []byte) // the record: 2-byte length, then the body
		kind  error
		say   string
	}{
		{"lzma", func(rec []byte) { binary.LittleEndian.PutUint16(rec[2+4:], 1) }, vfs.ErrUnsupported, "lzma stream format 1"},
		{"deflate", func(rec []byte) { rec[2] = 16 }, vfs.ErrUnsupported, "deflate window"},
		{"zstd", func(rec []byte) { rec[2] = 2 }, vfs.ErrUnsupported, "zstd stream format 2"},
		{"lzma", func(rec []byte) { binary.LittleEndian.PutUint16(rec, 0) }, vfs.ErrCorrupt, "config of 0 bytes"},
	} {
		t.Run(c.alg+" "+c.say, func(t *testing.T) {
			cc := craftFrom(t, tb.Erofs(t, c.alg+itoa(len(c.say)), "-z"+c.alg))
			// One algorithm: its record starts right after the 128-byte
			// superblock (no extension slots), length first.
			if cc.e.sb.Algorithms&^(1<<algLZ4) == 0 || cc.b[superblockOffset+13] != 0 {
				t.Fatalf("algorithms %#x, %d extension slots", cc.e.sb.Algorithms, cc.b[superblockOffset+13])
			}
			at := superblockOffset + superblockSize
			if cc.e.sb.Algorithms&(1<<algLZ4) != 0 {
				at += 2 + int(binary.LittleEndian.Uint16(cc.b[at:]))
				at = (at + 3) &^ 3
			}
			c.patch(cc.b[at:])
			_, _, _, err := cc.open(vfs.DefaultLimits)
			wantKind(t, c.alg, err, c.kind)
			if err != nil && !strings.Contains(err.Error(), c.say) {
				t.Errorf("%v does not say %q", err, c.say)
			}
		})
	}
}
