package generator

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"os"
	"os/exec"
	"path/filepath"

	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// Hostile images through the whole generator: crafted at test time with the
// real tools and byte patches, dropped beside good images, then one run.
// Each hostile image must cost one image and nothing else: no crash (a
// recovered panic counts as one), a clear reason, no file written for it,
// work within its budget; every good image attaches, and every path and
// name written is escaped.

// hostileTree is an image tree whose unit is NAME.service, with what a
// read-only image needs at start; extra are further files (a value
// starting with "->" makes a symlink).
func hostileTree(t *testing.T, name string, extra map[string]string) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "tree")
	files := map[string]string{
		"usr/lib/os-release": "ID=hostile\nVERSION_ID=1\n",
		"etc/resolv.conf":    "",
		"etc/machine-id":     "",
		"usr/lib/systemd/system/" + name + ".service": "[Service]\nExecStart=/usr/bin/" + name + "\n",
	}
	for p, c := range extra {
		files[p] = c
	}
	for _, dir := range []string{"proc", "sys", "dev", "run", "tmp", "var/tmp", "usr/bin"} {
		os.MkdirAll(filepath.Join(d, dir), 0o755)
	}
	for p, c := range files {
		full := filepath.Join(d, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(c, "->"); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func tool(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// squashfsImage packs a tree with its metadata uncompressed, so a patch can
// find directory entries and inodes by their bytes.
func squashfsImage(t *testing.T, tree string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "img.sq")
	tool(t, "mksquashfs", tree, out, "-quiet", "-noappend", "-all-root", "-noI", "-noD", "-noF", "-noX")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func erofsImage(t *testing.T, tree string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "img.erofs")
	tool(t, "mkfs.erofs", "--all-root", out, tree)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ext4Image makes a small ext4 without metadata checksums or hashed
// directories, so patches need no checksum fix-ups.
func ext4Image(t *testing.T, tree string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "img.ext4")
	tool(t, "truncate", "-s", "4M", out)
	tool(t, "mkfs.ext4", "-q", "-F", "-O", "^metadata_csum,^dir_index,^has_journal", "-E", "root_owner=0:0", "-d", tree, out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gptImage puts a file system image into a GPT root partition for this
// architecture, made by sfdisk.
func gptImage(t *testing.T, fsImage []byte) []byte {
	t.Helper()
	img := filepath.Join(t.TempDir(), "img.gpt")
	sectors := (len(fsImage) + 511) / 512
	tool(t, "truncate", "-s", fmt.Sprint((2048+sectors+2048)*512), img)
	script := fmt.Sprintf("label: gpt\nstart=2048, size=%d, type=%s, name=root\n", sectors, rootTypeGUID())
	cmd := exec.Command("sfdisk", "-q", img)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	copy(b[2048*512:], fsImage)
	return b
}

func rootTypeGUID() string {
	switch dissect.NativeArchitecture() {
	case "arm64":
		return "b921b045-1df0-41c3-af44-4c6f280d3fae"
	}
	return "4f68bce3-e8cd-4db1-96e7-fbcaf984b709" // x86-64
}

// gptPatch edits both GPT headers, the primary (LBA 1) and the backup (the
// last LBA, which systemd reads when the primary is damaged), and their
// entries, then fixes the CRCs, so the reader sees a well-formed table that
// lies.
func gptPatch(b []byte, f func(hdr, entries []byte)) []byte {
	for _, at := range []int{512, len(b) - 512} {
		hdr := b[at : at+92]
		first := int(binary.LittleEndian.Uint64(hdr[72:])) * 512
		entries := b[first : first+128*128]
		f(hdr, entries)
		n, size := binary.LittleEndian.Uint32(hdr[80:]), binary.LittleEndian.Uint32(hdr[84:])
		if uint64(n)*uint64(size) <= uint64(len(entries)) {
			binary.LittleEndian.PutUint32(hdr[88:], crc32.ChecksumIEEE(entries[:n*size]))
		}
		binary.LittleEndian.PutUint32(hdr[16:], 0)
		binary.LittleEndian.PutUint32(hdr[16:], crc32.ChecksumIEEE(hdr))
	}
	return b
}

// nameAt finds the one place a name is stored in an image.
func nameAt(t *testing.T, b []byte, name string, ok func(at int) bool) int {
	t.Helper()
	at := -1
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(name))
		if j < 0 {
			break
		}
		if ok(i + j) {
			if at >= 0 {
				t.Fatalf("name %q stored twice", name)
			}
			at = i + j
		}
		i += j + 1
	}
	if at < 0 {
		t.Fatalf("name %q not found", name)
	}
	return at
}

// squashfs layout (uncompressed metadata): a directory entry is offset u16,
// inode_offset s16, type u16, name_size-1 u16, name; an inode's place in
// the (single, uncompressed) inode metadata block is the entry's offset.
type squashPatch struct {
	t *testing.T
	b []byte
}

func (s squashPatch) entry(name string, typ uint16) int {
	return nameAt(s.t, s.b, name, func(at int) bool {
		return at >= 8 && binary.LittleEndian.Uint16(s.b[at-2:]) == uint16(len(name)-1) && binary.LittleEndian.Uint16(s.b[at-4:]) == typ
	}) - 8
}

func (s squashPatch) inodeOf(name string, typ uint16) int {
	inodeTable := int(binary.LittleEndian.Uint64(s.b[64:]))
	if dirTable := int(binary.LittleEndian.Uint64(s.b[72:])); dirTable-inodeTable > 8194 {
		s.t.Fatal("inode table spans metadata blocks: make the test image smaller")
	}
	return inodeTable + 2 + int(binary.LittleEndian.Uint16(s.b[s.entry(name, typ):]))
}

// ext4 directory entry: inode u32, rec_len u16, name_len u8, file_type u8,
// name.
func ext4Entry(t *testing.T, b []byte, name string) int {
	return nameAt(t, b, name, func(at int) bool { return at >= 8 && int(b[at-2]) == len(name) }) - 8
}

// erofs: a directory's data (in a block, or inline after its inode) starts
// with 12-byte entries (nid u64, nameoff u16, type u8, reserved u8), the
// names follow, "." first. The data start is found backwards from the name.
func erofsEntry(t *testing.T, b []byte, name string) int {
	at := nameAt(t, b, name, func(at int) bool { return true })
	for p := at - 12; p >= 0 && p > at-4096; p-- {
		first := int(binary.LittleEndian.Uint16(b[p+8:]))
		if first == 0 || first%12 != 0 || p+first > at || b[p+first] != '.' {
			continue
		}
		for e := p; e < p+first; e += 12 {
			if int(binary.LittleEndian.Uint16(b[e+8:])) == at-p {
				return e
			}
		}
	}
	t.Fatalf("no erofs entry names %q", name)
	return 0
}

// erofsChecksum recomputes the superblock checksum (crc32c of the rest of
// the first block, seed ~0, no final inversion) when the image has one.
func erofsChecksum(b []byte) {
	const sb = 1024
	if binary.LittleEndian.Uint32(b[sb+8:])&1 == 0 {
		return // no EROFS_FEATURE_COMPAT_SB_CHKSUM
	}
	n := 1<<b[sb+12] - sb
	blk := bytes.Clone(b[sb : sb+n])
	clear(blk[4:8])
	binary.LittleEndian.PutUint32(b[sb+4:], ^crc32.Update(0, crc32.MakeTable(crc32.Castagnoli), blk))
}

// ext4Inode returns where inode ino is stored: its group's inode table
// (from the group descriptor) plus its index times the inode size.
func ext4Inode(b []byte, ino uint32) int {
	const sb = 1024
	le32 := func(at int) uint32 { return binary.LittleEndian.Uint32(b[at:]) }
	block := 1024 << le32(sb+24)
	perGroup := le32(sb + 40)
	descSize := 32
	if le32(sb+0x60)&0x80 != 0 { // INCOMPAT_64BIT
		descSize = int(binary.LittleEndian.Uint16(b[sb+0xfe:]))
	}
	group, index := (ino-1)/perGroup, (ino-1)%perGroup
	desc := (int(le32(sb+20))+1)*block + int(group)*descSize
	return int(le32(desc+8))*block + int(index)*int(binary.LittleEndian.Uint16(b[sb+88:]))
}

// erofsInode returns where the inode an entry names is stored.
func erofsInode(b []byte, entry int) int {
	const sb = 1024
	meta := int(binary.LittleEndian.Uint32(b[sb+40:])) << b[sb+12]
	return meta + int(binary.LittleEndian.Uint64(b[entry:]))*32
}

// hostileCase is one image in the run.
type hostileCase struct {
	name  string // entry name in /var/lib/portables
	image func(t *testing.T) []byte
	// want is the outcome: "attached", or the start of the skip reason
	// (alternatives separated by '|').
	want string
}

const (
	corrupt = "corrupt image"
	budget  = "image needs more work than allowed"
)

func hostileCases(t *testing.T) []hostileCase {
	sq := func(name string, extra map[string]string, patch func(s squashPatch)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			b := squashfsImage(t, hostileTree(t, name, extra))
			if patch != nil {
				patch(squashPatch{t, b})
			}
			return b
		}
	}
	gpt := func(name string, patch func(hdr, entries []byte)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			b := gptImage(t, squashfsImage(t, hostileTree(t, name, nil)))
			if patch != nil {
				gptPatch(b, patch)
			}
			return b
		}
	}
	put16 := func(b []byte, at int, v uint16) { binary.LittleEndian.PutUint16(b[at:], v) }
	put32 := func(b []byte, at int, v uint32) { binary.LittleEndian.PutUint32(b[at:], v) }
	put64 := func(b []byte, at int, v uint64) { binary.LittleEndian.PutUint64(b[at:], v) }
	// sqchain-0.service -> sqchain-1.service -> ... -> sqchain-60.service,
	// which is missing: every link is a unit name to read.
	chain := map[string]string{}
	for i := 0; i < 60; i++ {
		chain[fmt.Sprintf("usr/lib/systemd/system/sqchain-%d.service", i)] = fmt.Sprintf("->sqchain-%d.service", i+1)
	}
	many := map[string]string{}
	for i := 0; i < 3000; i++ {
		many[fmt.Sprintf("usr/lib/systemd/system/other-%04d.service", i)] = "[Service]\nExecStart=/x\n"
	}
	return []hostileCase{
		// Good images of every kind: they must attach beside the rest.
		{"good.raw", sq("good", nil, nil), "attached"},
		{"goodgpt.raw", gpt("goodgpt", nil), "attached"},
		{"goodero.raw", func(t *testing.T) []byte { return erofsImage(t, hostileTree(t, "goodero", nil)) }, "attached"},
		{"goodext.raw", func(t *testing.T) []byte { return ext4Image(t, hostileTree(t, "goodext", nil)) }, "attached"},
		{"manyentries.raw", sq("manyentries", many, nil), "attached"},

		// GPT: overlapping partitions, absurd entry counts and sizes, a
		// partition far past the end.
		{"gptoverlap.raw", gpt("gptoverlap", func(hdr, e []byte) {
			copy(e[128:256], e[0:128])
			e[128+16] ^= 0xff // another partition UUID, same blocks
		}), corrupt},
		{"gptentries.raw", gpt("gptentries", func(hdr, e []byte) { put32(hdr, 80, 0xffffffff) }), corrupt},
		{"gptentrysize.raw", gpt("gptentrysize", func(hdr, e []byte) { put32(hdr, 84, 1<<30) }), corrupt},
		{"gptbeyond.raw", gpt("gptbeyond", func(hdr, e []byte) { put64(e, 40, 1<<62) }), corrupt},

		// squashfs: giant sizes and counts, a directory that is its own
		// ancestor.
		{"sqbytesused.raw", sq("sqbytesused", nil, func(s squashPatch) { put64(s.b, 40, 1<<62) }), corrupt},
		{"sqdirsize.raw", sq("sqdirsize", nil, func(s squashPatch) { put16(s.b, s.inodeOf("system", 1)+24, 0xffff) }), corrupt},
		{"sqdircount.raw", sq("sqdircount", nil, func(s squashPatch) {
			// The listing header (count-1 u32, start u32, inode u32) just
			// before the unit's entry.
			put32(s.b, s.entry("sqdircount.service", 2)-12, 0x00ffffff)
		}), corrupt},
		{"sqfilesize.raw", sq("sqfilesize", nil, func(s squashPatch) {
			put32(s.b, s.inodeOf("sqfilesize.service", 2)+28, 0xfffffff0)
		}), budget},
		{"sqcycle.raw", sq("sqcycle", map[string]string{"usr/lib/systemd/system/sqcycle-loop": "x"}, func(s squashPatch) {
			// The entry becomes a directory that is the image's root.
			e := s.entry("sqcycle-loop", 2)
			put16(s.b, e, uint16(binary.LittleEndian.Uint64(s.b[32:])&0xffff))
			put16(s.b, e+4, 1)
		}), "attached"},
		// Symlink loops and chains: os-release unreadable, a unit reached
		// through 60 links.
		{"sqoslloop.raw", sq("sqoslloop", map[string]string{"usr/lib/os-release": "->../../etc/os-release", "etc/os-release": "->../usr/lib/os-release"}, nil), "cannot read os-release"},
		{"sqchain.raw", sq("sqchain", chain, nil), "attached"},

		// erofs: a name offset past its block, a directory that is the root.
		// (Small images keep directories in the superblock's block: the
		// checksum is fixed after the patch, so the patch reaches the
		// directory reader.)
		{"eronameoff.raw", func(t *testing.T) []byte {
			b := erofsImage(t, hostileTree(t, "eronameoff", nil))
			put16(b, erofsEntry(t, b, "eronameoff.service")+8, 0xfff0)
			erofsChecksum(b)
			return b
		}, corrupt},
		{"erofilesize.raw", func(t *testing.T) []byte {
			b := erofsImage(t, hostileTree(t, "erofilesize", nil))
			ino := erofsInode(b, erofsEntry(t, b, "erofilesize.service"))
			if binary.LittleEndian.Uint16(b[ino:])&1 == 0 { // compact: i_size u32
				put32(b, ino+8, 0xfffffff0)
			} else {
				put64(b, ino+8, 1<<60)
			}
			erofsChecksum(b)
			return b
		}, "image needs more work than allowed|corrupt image"},
		{"erocycle.raw", func(t *testing.T) []byte {
			b := erofsImage(t, hostileTree(t, "erocycle", map[string]string{"usr/lib/systemd/system/erocycle-loop": "x"}))
			e := erofsEntry(t, b, "erocycle-loop")
			put64(b, e, uint64(binary.LittleEndian.Uint16(b[1024+14:])))
			b[e+10] = 2 // directory
			erofsChecksum(b)
			return b
		}, "attached"},

		// ext4: zero inodes per group (a division), a huge block size (a
		// shift), a directory record of length zero (a loop), a
		// directory that is the root.
		{"extipg.raw", func(t *testing.T) []byte {
			b := ext4Image(t, hostileTree(t, "extipg", nil))
			put32(b, 1024+40, 0)
			return b
		}, corrupt},
		{"extblock.raw", func(t *testing.T) []byte {
			b := ext4Image(t, hostileTree(t, "extblock", nil))
			put32(b, 1024+24, 40)
			return b
		}, corrupt},
		{"extreclen.raw", func(t *testing.T) []byte {
			b := ext4Image(t, hostileTree(t, "extreclen", nil))
			put16(b, ext4Entry(t, b, "extreclen.service")+4, 0)
			return b
		}, corrupt},
		{"extfilesize.raw", func(t *testing.T) []byte {
			b := ext4Image(t, hostileTree(t, "extfilesize", nil))
			ino := ext4Inode(b, binary.LittleEndian.Uint32(b[ext4Entry(t, b, "extfilesize.service"):]))
			put32(b, ino+4, 0xfffffff0) // i_size_lo
			put32(b, ino+108, 0xffff)   // i_size_high: 2^48 bytes
			return b
		}, "image needs more work than allowed|corrupt image"},
		{"extcycle.raw", func(t *testing.T) []byte {
			b := ext4Image(t, hostileTree(t, "extcycle", map[string]string{"usr/lib/systemd/system/extcycle-loop": "x"}))
			e := ext4Entry(t, b, "extcycle-loop")
			put32(b, e, 2)
			b[e+7] = 2 // directory
			return b
		}, "attached"},

		// Names with control characters, newlines and '%': only the
		// valid unit name attaches.
		{"names.raw", sq("names", map[string]string{
			"usr/lib/systemd/system/names%n.service":       "[Service]\nExecStart=/x\n",
			"usr/lib/systemd/system/names\nx.service":      "[Service]\nExecStart=/x\n",
			"usr/lib/systemd/system/names\x1b[31m.service": "[Service]\nExecStart=/x\n",
			"usr/lib/systemd/system/names x.service":       "[Service]\nExecStart=/x\n",
			"usr/lib/systemd/system/names-\x7f.service":    "[Service]\nExecStart=/x\n",
			"usr/lib/systemd/\nsystem/names-nl.service":    "[Service]\nExecStart=/x\n",
		}, nil), "attached"},
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// loadWork repeats the reads Load makes of an image (open, os-release,
// unit directories) and returns what they cost: the generator does not
// expose an image's budget, this reads the same one.
func loadWork(path string, prefixes []string) (*dissect.Stats, error) {
	d, err := dissect.Open(path)
	if err != nil {
		return nil, err // refused before a budget could be read
	}
	defer d.Close()
	_, _, _, err1 := d.OSRelease()
	_, err2 := host.ImageUnits(d.FS(), prefixes)
	stats := d.Stats()
	return &stats, errors.Join(err1, err2)
}

func TestHostileImages(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs", "mkfs.erofs", "mkfs.ext4", "sfdisk", "truncate")
	base := t.TempDir()
	root := filepath.Join(base, "root")
	portables := filepath.Join(root, "var/lib/portables")
	if err := os.MkdirAll(portables, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := hostileCases(t)
	for _, c := range cases {
		if err := os.WriteFile(filepath.Join(portables, c.name), c.image(t), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Hostile entry names in the search directory, and image paths that
	// need escaping (reached through symlinks).
	good := squashfsImage(t, hostileTree(t, "pct", nil))
	for p, b := range map[string][]byte{
		"srv/50%off/pct_1.raw":            good,
		"srv/a b\"c'\\/spc_1.raw":         squashfsImage(t, hostileTree(t, "spc", nil)),
		"srv/ctl\x01/ctl_1.raw":           squashfsImage(t, hostileTree(t, "ctl", nil)),
		"var/lib/portables/bad%name.raw":  good,
		"var/lib/portables/bad\nname.raw": good,
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
		if err := os.WriteFile(filepath.Join(root, p), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"pct.raw": "/srv/50%off/pct_1.raw", "spc.raw": "/srv/a b\"c'\\/spc_1.raw", "ctl.raw": "/srv/ctl\x01/ctl_1.raw"} {
		if err := os.Symlink(target, filepath.Join(portables, link)); err != nil {
			t.Fatal(err)
		}
	}

	out, _, err := Generate(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	reports := map[string]Report{}
	for _, r := range out.Reports {
		reports[r.Name] = r
		if strings.Contains(r.Reason, "crashed") {
			t.Errorf("%s: a reader panicked: %s", r.Name, r.Reason)
		}
	}
	filesOf := map[string][]File{}
	for _, f := range out.Files {
		filesOf[f.Image] = append(filesOf[f.Image], f)
	}
	var table []string
	for _, c := range cases {
		name := strings.TrimSuffix(c.name, ".raw")
		r, ok := reports[name]
		switch {
		case !ok:
			t.Errorf("%s: no report", name)
		case c.want == "attached" && r.State != StateAttached:
			t.Errorf("%s: %s (%s), want attached", name, r.State, r.Reason)
		case c.want != "attached" && (r.State != StateSkipped || !hasAnyPrefix(r.Reason, strings.Split(c.want, "|"))):
			t.Errorf("%s: %s (%s), want skipped: %s…", name, r.State, r.Reason, c.want)
		}
		if r.State != StateAttached && len(filesOf[name]) > 0 {
			t.Errorf("%s: skipped, yet files were written for it", name)
		}
		// Work stays within the image's budget (a charge may overshoot
		// by the one read that crossed it).
		// Hops are per path resolution, the counter totals them.
		stats, lerr := loadWork(filepath.Join(portables, c.name), []string{name})
		l := dissect.DefaultLimits
		work := "refused at open"
		if stats != nil {
			if stats.BytesRead > l.BytesRead+1<<20 || stats.Decompressed > l.Decompressed+1<<20 || stats.Entries > l.Entries+1 || stats.Hops > (l.Hops+1)*(stats.Entries+1) {
				t.Errorf("%s: work %+v beyond the budget %+v", name, *stats, l)
			}
			work = fmt.Sprintf("read=%d decompressed=%d entries=%d hops=%d", stats.BytesRead, stats.Decompressed, stats.Entries, stats.Hops)
		}
		if errors.Is(lerr, dissect.ErrBudget) && !strings.HasPrefix(r.Reason, budget) {
			t.Errorf("%s: the budget ran out but the reason does not say so: %s", name, r.Reason)
		}
		table = append(table, fmt.Sprintf("%-12s %-8s %-50s %s", name, r.State, work, r.Reason))
	}
	t.Logf("hostile images:\n%s", strings.Join(table, "\n"))

	// Only valid unit names come out of an image.
	if got := reports["names"].Units; len(got) != 1 || got[0] != "names.service" {
		t.Errorf("names: units %q, want only names.service", got)
	}
	// Links that end nowhere (past the hop limit, or at the missing end)
	// are no units; the image's own NAME.service still is.
	if got := reports["sqchain"].Units; len(got) != 1 || got[0] != "sqchain.service" {
		t.Errorf("sqchain: units %q", got)
	}
	// Entry names that cannot be image names are skipped, and said so
	// with the name quoted.
	for _, n := range []string{"bad%name", "bad\nname"} {
		if r := reports[n]; r.State != StateSkipped || !strings.Contains(r.Reason, "not a valid image name") || strings.ContainsAny(r.Reason, "\n\r") {
			t.Errorf("entry %q: %s: %q", n, r.State, r.Reason)
		}
		if len(filesOf[n]) > 0 {
			t.Errorf("entry %q: files written", n)
		}
	}
	// What is logged keeps one record per line and no terminal controls.
	var logged bytes.Buffer
	LogReports(&Logger{Level: LevelDebug, Stderr: &logged}, out.Reports)
	for _, line := range strings.Split(strings.TrimSuffix(logged.String(), "\n"), "\n") {
		if !strings.HasPrefix(line, "bad") && !strings.Contains(line, ": ") {
			t.Errorf("a log record was split: %q", line)
		}
		for _, c := range []byte(line) {
			if c < 0x20 || c == 0x7f {
				t.Errorf("log line holds control character %q: %q", c, line)
			}
		}
	}
	// A control character in the image's path: skipped, as it cannot be
	// written into a unit.
	if r := reports["ctl"]; r.State != StateSkipped || !strings.Contains(r.Reason, "control characters") {
		t.Errorf("ctl: %s: %s", r.State, r.Reason)
	}
	for _, n := range []string{"pct", "spc"} {
		if reports[n].State != StateAttached {
			t.Errorf("%s: %s: %s", n, reports[n].State, reports[n].Reason)
		}
	}
	checkEscaped(t, out.Files, map[string]string{"pct": "/srv/50%off/pct_1.raw", "spc": "/srv/a b\"c'\\/spc_1.raw"})
}

// checkEscaped: no file we write holds a control character but '\n';
// every drop-in parses, and the image path in it reads back exactly once
// specifiers are unescaped (and, in Environment=/LogExtraFields=, quotes).
func checkEscaped(t *testing.T, files []File, paths map[string]string) {
	t.Helper()
	for _, f := range files {
		for _, c := range []byte(f.Path) {
			if c < 0x20 || c == 0x7f || c == '/' && strings.Contains(f.Path, "..") {
				t.Errorf("%q: a file name we write holds %q", f.Path, c)
			}
		}
		if !strings.Contains(f.Path, ".d/") {
			continue // the image's own unit, copied byte for byte
		}
		for _, c := range f.Data {
			if c < 0x20 && c != '\n' || c == 0x7f {
				t.Errorf("%s: control character %q in a drop-in", f.Path, c)
			}
		}
		parsed, err := unitfile.Parse(f.Data)
		if err != nil {
			t.Errorf("%s: %v", f.Path, err)
			continue
		}
		want, ok := paths[f.Image]
		if !ok || !strings.HasSuffix(f.Path, "20-portable.conf") {
			continue
		}
		for _, a := range parsed.Assignments {
			switch a.Key {
			case "SourcePath", "RootImage", "RootDirectory":
				if got := unescapeSpecifiers(t, a.Value); got != want {
					t.Errorf("%s: %s= reads back as %q, want %q", f.Path, a.Key, got, want)
				}
			case "Environment":
				words, err := unitfile.SplitWords(a.Value)
				if err != nil || len(words) != 1 || unescapeSpecifiers(t, words[0]) != "PORTABLE="+filepath.Base(want) {
					t.Errorf("%s: Environment=%s splits into %q (%v)", f.Path, a.Value, words, err)
				}
			}
		}
	}
}

// unescapeSpecifiers undoes "%%"; any other '%' would be expanded by
// systemd, which is the bug this looks for.
func unescapeSpecifiers(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+1 < len(s) && s[i+1] == '%' {
				b.WriteByte('%')
				i++
				continue
			}
			t.Errorf("unescaped specifier in %q", s)
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
