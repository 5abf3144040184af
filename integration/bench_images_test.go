//go:build integration

package integration

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// benchPackage is one real package tree (integration/bench-trees.sh) and
// the unit prefix its package uses.
type benchPackage struct{ Tree, Prefix string }

var benchPackages = []benchPackage{
	{"nginx", "nginx"}, {"redis-server", "redis-server"}, {"postgresql", "postgresql"}, {"squid", "squid"},
	{"memcached", "memcached"}, {"haproxy", "haproxy"}, {"bind9", "named"}, {"apache2", "apache2"},
	{"dovecot-core", "dovecot"}, {"openssh-server", "ssh"},
}

// benchKind is an image kind and its share of the corpus, in percent.
type benchKind struct {
	Name    string `json:"name"`
	Percent int    `json:"percent"`
}

// benchKinds are the kinds in the proportions issue 17 measured with.
var benchKinds = []benchKind{
	{"squashfs-zstd", 40}, {"squashfs-gzip", 15}, {"squashfs-lz4", 10}, {"squashfs-xz", 4},
	{"erofs", 10}, {"erofs-lz4hc", 4}, {"ext4", 5}, {"gpt", 2}, {"directory", 10},
}

// kindSequence deals the kinds over 100 places so that every prefix of
// the corpus has nearly the proportions: each place goes to the kind
// furthest behind its share.
func kindSequence() []string {
	seq := make([]string, 100)
	dealt := make([]int, len(benchKinds))
	for j := range seq {
		best, bestLag := 0, -1.0
		for k, kind := range benchKinds {
			lag := float64(kind.Percent*(j+1))/100 - float64(dealt[k])
			if lag > bestLag {
				best, bestLag = k, lag
			}
		}
		dealt[best]++
		seq[j] = benchKinds[best].Name
	}
	return seq
}

// benchImage is one image of the benchmark, as its entry in a set.
type benchImage struct {
	Name  string // the image NAME (its units' prefix)
	Kind  string
	Pkg   benchPackage
	Entry string // file or directory name in the search directory
}

func (b benchImage) raw() bool { return b.Kind != "directory" }

// imageNumberWidth is fixed, so that one image's name can be patched over
// another's in a file system that stores names uncompressed.
const imageNumberWidth = 5

// benchImages names the first n images of the corpus: kinds dealt in the
// sequence above, packages shifted by one every hundred, so that every
// kind meets every package.
func benchImages(n int) []benchImage {
	seq := kindSequence()
	out := make([]benchImage, n)
	for i := range out {
		p := benchPackages[(i+i/100)%len(benchPackages)]
		name := fmt.Sprintf("%s-%0*d", p.Prefix, imageNumberWidth, i)
		kind := seq[i%len(seq)]
		entry := name + "_1.raw"
		if kind == "directory" {
			entry = name + "_1"
		}
		out[i] = benchImage{Name: name, Kind: kind, Pkg: p, Entry: entry}
	}
	return out
}

// placeholderName is the name the shared base images carry where each
// image has its own: of the same length, and in a character no file name
// or binary of the trees holds ("ssh-XXXXXX" is in every ssh binary).
func placeholderName(p benchPackage) string {
	return p.Prefix + "-" + strings.Repeat("~", imageNumberWidth)
}

// benchUnit is one of a package's units as an image carries it: the
// package's bytes under a name of the image's.
type benchUnit struct {
	orig string // the package's name
	data []byte
}

// rename gives a package unit the image's name: the package prefix becomes
// the image name; a unit outside it (squid's logrotate.timer) is put under
// the image name whole.
func (u benchUnit) rename(p benchPackage, image string) string {
	if rest, ok := strings.CutPrefix(u.orig, p.Prefix); ok && rest != "" && strings.ContainsRune("-.@", rune(rest[0])) {
		return image + rest
	}
	return image + "-" + u.orig
}

// withoutAccounts drops a unit's User= and Group= lines, as one ports a
// package's unit to a portable image: the profile's DynamicUser= gives the
// service its own account, and the host already holds www-data, proxy and
// postgres, which no image may claim.
func withoutAccounts(unit []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(unit, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("User=")) && !bytes.HasPrefix(line, []byte("Group=")) {
			out = append(out, line...)
		}
	}
	return out
}

// packageUnits are the unit files the package ships (regular files of the
// kinds portablectl attaches), those under the package's prefix first, at
// most eight.
func packageUnits(tree string, p benchPackage) ([]benchUnit, error) {
	var own, other []benchUnit
	for _, dir := range []string{"usr/lib/systemd/system", "lib/systemd/system"} {
		ents, _ := os.ReadDir(filepath.Join(tree, dir))
		for _, e := range ents {
			ext := filepath.Ext(e.Name())
			if !e.Type().IsRegular() || !strings.Contains(".service.socket.target.timer.path", ext) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(tree, dir, e.Name()))
			if err != nil {
				return nil, err
			}
			u := benchUnit{orig: e.Name(), data: withoutAccounts(data)}
			if strings.HasPrefix(u.rename(p, "x"), "x-"+p.Prefix) {
				other = append(other, u)
			} else {
				own = append(own, u)
			}
		}
	}
	units := append(own, other...)
	if len(units) == 0 {
		return nil, fmt.Errorf("%s ships no units", p.Tree)
	}
	return units[:min(len(units), 8)], nil
}

// benchBuilder makes the corpus from the package trees. Images share what
// they can with a base image per package and kind on a file system with
// reflinks (XFS): a squashfs image is its base (the tree without /etc)
// with its own /etc appended, an ext4 image its base with its units
// written in by debugfs, an erofs image its base with the placeholder
// names in its directory blocks overwritten by its own (byte for byte what
// mkfs.erofs makes of the renamed tree: same lengths, same order). So a
// thousand images of 30 to 330 MB each take little more disk than their
// bases.
type benchBuilder struct {
	trees  string // bench-trees.sh's trees, copied onto the corpus's file system
	corpus string // on the reflink file system
	units  map[string][]benchUnit
	mu     sync.Mutex
	bases  map[string]*sync.Once
	errs   map[string]error
}

func newBenchBuilder(trees, corpus string) (*benchBuilder, error) {
	// The trees are copied onto the corpus's file system once: the images
	// made of them are hard-linked copies (directories) or staged from
	// hard-linked copies.
	b := &benchBuilder{trees: filepath.Join(corpus, "trees"), corpus: corpus, units: map[string][]benchUnit{}, bases: map[string]*sync.Once{}, errs: map[string]error{}}
	for _, p := range benchPackages {
		dst := filepath.Join(b.trees, p.Tree)
		if _, err := os.Stat(dst); err != nil {
			os.RemoveAll(dst + ".tmp")
			if err := os.MkdirAll(b.trees, 0o755); err != nil {
				return nil, err
			}
			if err := runTool("cp", "-a", filepath.Join(trees, p.Tree), dst+".tmp"); err != nil {
				return nil, err
			}
			if err := os.Rename(dst+".tmp", dst); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range benchPackages {
		u, err := packageUnits(filepath.Join(trees, p.Tree), p)
		if err != nil {
			return nil, err
		}
		b.units[p.Tree] = u
	}
	for _, d := range []string{"bases", "images", "scratch"} {
		if err := os.MkdirAll(filepath.Join(corpus, d), 0o755); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func runTool(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// writeUnits puts the image's units into dir.
func (b *benchBuilder) writeUnits(p benchPackage, image, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, u := range b.units[p.Tree] {
		if err := os.WriteFile(filepath.Join(dir, u.rename(p, image)), u.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// stageTree is a hard-linked copy of the package tree with the image's
// units in /etc/systemd/system (the tree's own directories are new, so
// adding to them leaves the cached tree alone).
func (b *benchBuilder) stageTree(p benchPackage, image, dst string) error {
	if err := runTool("cp", "-al", filepath.Join(b.trees, p.Tree), dst); err != nil {
		return err
	}
	return b.writeUnits(p, image, filepath.Join(dst, "etc/systemd/system"))
}

// base builds (once per run, cached on disk) the shared base of a package
// and kind.
func (b *benchBuilder) base(p benchPackage, kind string) (string, error) {
	key := p.Tree + "." + kind
	b.mu.Lock()
	once := b.bases[key]
	if once == nil {
		once = &sync.Once{}
		b.bases[key] = once
	}
	b.mu.Unlock()
	dst := filepath.Join(b.corpus, "bases", key)
	once.Do(func() {
		if _, err := os.Stat(dst); err == nil {
			return
		}
		err := b.buildBase(p, kind, dst+".tmp")
		if err == nil {
			err = os.Rename(dst+".tmp", dst)
		}
		b.mu.Lock()
		b.errs[key] = err
		b.mu.Unlock()
	})
	b.mu.Lock()
	defer b.mu.Unlock()
	return dst, b.errs[key]
}

func (b *benchBuilder) buildBase(p benchPackage, kind, dst string) error {
	tree := filepath.Join(b.trees, p.Tree)
	scratch, err := os.MkdirTemp(filepath.Join(b.corpus, "scratch"), "base-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	os.Remove(dst)
	switch {
	case strings.HasPrefix(kind, "squashfs-"):
		return runTool("mksquashfs", tree, dst, "-comp", strings.TrimPrefix(kind, "squashfs-"), "-noappend", "-all-root", "-quiet", "-no-progress", "-e", "etc")
	case strings.HasPrefix(kind, "erofs"):
		stage := filepath.Join(scratch, "tree")
		if err := b.stageTree(p, placeholderName(p), stage); err != nil {
			return err
		}
		args := []string{"--all-root", "-T0", "-U", "6c3e3b1e-0b2f-4a57-9c1e-2d7f1b0c0a01"}
		if kind == "erofs-lz4hc" {
			args = append(args, "-zlz4hc")
		}
		if err := runTool("mkfs.erofs", append(args, dst, stage)...); err != nil {
			return err
		}
		// Where the placeholder names lie: one directory entry per unit.
		offsets, err := findAll(dst, []byte(placeholderName(p)))
		if err != nil {
			return err
		}
		if len(offsets) != len(b.units[p.Tree]) {
			return fmt.Errorf("%s: the placeholder %s is found %d times, not once per unit (%d)", dst, placeholderName(p), len(offsets), len(b.units[p.Tree]))
		}
		var s strings.Builder
		for _, o := range offsets {
			fmt.Fprintln(&s, o)
		}
		return os.WriteFile(strings.TrimSuffix(dst, ".tmp")+".offsets", []byte(s.String()), 0o644)
	case kind == "ext4":
		stage := filepath.Join(scratch, "tree")
		if err := runTool("cp", "-al", tree, stage); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(stage, "etc/systemd/system"), 0o755); err != nil {
			return err
		}
		bytes, inodes := treeSize(stage)
		size := (bytes + bytes/4 + 16<<20) &^ 4095 // whole pages: the kernel reads a loop device in pages
		if err := runTool("truncate", "-s", strconv.FormatInt(size, 10), dst); err != nil {
			return err
		}
		return runTool("mkfs.ext4", "-q", "-L", "root", "-b", "4096", "-I", "256", "-m", "0", "-T", "default", "-N", strconv.Itoa(inodes+inodes/4+256), "-d", stage, dst)
	}
	return fmt.Errorf("no base for kind %s", kind)
}

// treeSize is the bytes (in 4 KiB blocks) and inodes of a tree.
func treeSize(dir string) (bytes int64, inodes int) {
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			inodes++
			bytes += (fi.Size() + 4095) &^ 4095
		}
		return nil
	})
	return bytes, inodes
}

// findAll returns every offset of pattern in the file.
func findAll(file string, pattern []byte) ([]int64, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var offs []int64
	for at := 0; ; {
		i := bytes.Index(data[at:], pattern)
		if i < 0 {
			return offs, nil
		}
		offs = append(offs, int64(at+i))
		at += i + 1
	}
}

// resumErofs sets the erofs superblock's checksum again: a small tree's
// unit directory can lie in the superblock's block, which it covers
// (CRC-32C from the superblock to the end of the block, the checksum
// field zeroed, seeded with ~0 and not inverted).
func resumErofs(f *os.File) error {
	const sbOffset, checksumAt = 1024, 1024 + 4
	head := make([]byte, 4096)
	if _, err := f.ReadAt(head, 0); err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(head[sbOffset+8:])&1 == 0 { // no EROFS_FEATURE_COMPAT_SB_CHKSUM
		return nil
	}
	block := 1 << head[sbOffset+12]
	sb := make([]byte, block-sbOffset)
	if _, err := f.ReadAt(sb, sbOffset); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(sb[4:], 0)
	sum := ^crc32.Update(0, crc32.MakeTable(crc32.Castagnoli), sb)
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], sum)
	_, err := f.WriteAt(b[:], checksumAt)
	return err
}

func padTo4K(file string) error {
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	return os.Truncate(file, (fi.Size()+4095)&^4095)
}

func reflink(src, dst string) error {
	return runTool("cp", "--reflink=always", src, dst)
}

// build makes one image at dst.
func (b *benchBuilder) build(img benchImage, dst string) error {
	scratch, err := os.MkdirTemp(filepath.Join(b.corpus, "scratch"), img.Name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	p := img.Pkg
	squashfs := func(kind, out string) error {
		base, err := b.base(p, kind)
		if err != nil {
			return err
		}
		if err := reflink(base, out); err != nil {
			return err
		}
		// mksquashfs appends the contents of a single source directory
		// at the root: /etc, with the image's units.
		own := filepath.Join(scratch, "own")
		if err := os.MkdirAll(own, 0o755); err != nil {
			return err
		}
		if err := runTool("cp", "-al", filepath.Join(b.trees, p.Tree, "etc"), own); err != nil {
			return err
		}
		if err := b.writeUnits(p, img.Name, filepath.Join(own, "etc/systemd/system")); err != nil {
			return err
		}
		if err := runTool("mksquashfs", own, out, "-all-root", "-quiet", "-no-progress", "-no-recovery"); err != nil {
			return err
		}
		// Padded to 4 KiB as mksquashfs pads a new image (appending does
		// not): the kernel reads a loop device in whole pages.
		return padTo4K(out)
	}
	switch {
	case strings.HasPrefix(img.Kind, "squashfs-"):
		return squashfs(img.Kind, dst)
	case strings.HasPrefix(img.Kind, "erofs"):
		base, err := b.base(p, img.Kind)
		if err != nil {
			return err
		}
		offs, err := os.ReadFile(base + ".offsets")
		if err != nil {
			return err
		}
		if err := reflink(base, dst); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		for _, line := range strings.Fields(string(offs)) {
			off, _ := strconv.ParseInt(line, 10, 64)
			if _, err := f.WriteAt([]byte(img.Name), off); err != nil {
				return err
			}
		}
		if err := resumErofs(f); err != nil {
			return err
		}
		return f.Close()
	case img.Kind == "ext4":
		base, err := b.base(p, img.Kind)
		if err != nil {
			return err
		}
		if err := reflink(base, dst); err != nil {
			return err
		}
		units := filepath.Join(scratch, "units")
		if err := b.writeUnits(p, img.Name, units); err != nil {
			return err
		}
		cmds := "cd /etc/systemd/system\n"
		for _, u := range b.units[p.Tree] {
			n := u.rename(p, img.Name)
			cmds += fmt.Sprintf("write %s %s\n", filepath.Join(units, n), n)
		}
		if err := os.WriteFile(filepath.Join(scratch, "cmds"), []byte(cmds), 0o644); err != nil {
			return err
		}
		return runTool("debugfs", "-w", "-f", filepath.Join(scratch, "cmds"), dst)
	case img.Kind == "gpt":
		sq := filepath.Join(scratch, "root.squashfs")
		if err := squashfs("squashfs-zstd", sq); err != nil {
			return err
		}
		defs := filepath.Join(scratch, "defs")
		if err := os.Mkdir(defs, 0o755); err != nil {
			return err
		}
		conf := map[string]string{
			"10-root.conf":   "[Partition]\nType=root\nCopyBlocks=" + sq + "\nVerity=data\nVerityMatchKey=root\n",
			"20-verity.conf": "[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\n",
		}
		for f, c := range conf {
			if err := os.WriteFile(filepath.Join(defs, f), []byte(c), 0o644); err != nil {
				return err
			}
		}
		return runTool("systemd-repart", "--empty=create", "--size=auto", "--definitions="+defs, "--dry-run=no", "--json=off", dst)
	case img.Kind == "directory":
		return b.stageTree(p, img.Name, dst)
	}
	return fmt.Errorf("unknown kind %s", img.Kind)
}

// buildAll makes the images missing from the corpus, two at a time (this
// machine has two cores, and mksquashfs uses both).
func (b *benchBuilder) buildAll(imgs []benchImage, progress func(done, total int)) error {
	var todo []benchImage
	for _, img := range imgs {
		if _, err := os.Lstat(filepath.Join(b.corpus, "images", img.Entry)); err != nil {
			todo = append(todo, img)
		}
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		done     int
		next     = make(chan benchImage)
	)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for img := range next {
				dst := filepath.Join(b.corpus, "images", img.Entry)
				tmp := filepath.Join(b.corpus, "images", ".tmp-"+img.Entry)
				os.RemoveAll(tmp)
				err := b.build(img, tmp)
				if err == nil {
					err = os.Rename(tmp, dst)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("%s (%s): %w", img.Entry, img.Kind, err)
				}
				done++
				if progress != nil && done%100 == 0 {
					progress(done, len(todo))
				}
				mu.Unlock()
			}
		}()
	}
	for _, img := range todo {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		next <- img
	}
	close(next)
	wg.Wait()
	return firstErr
}

// linkSet fills dir with hard links to the corpus's images: the same
// inodes in every set, so every set reads the same bytes.
func (b *benchBuilder) linkSet(dir string, imgs []benchImage) error {
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return nil
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, img := range imgs {
		src, dst := filepath.Join(b.corpus, "images", img.Entry), filepath.Join(dir, img.Entry)
		if img.raw() {
			if err := os.Link(src, dst); err != nil {
				return err
			}
		} else if err := runTool("cp", "-al", src, dst); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644)
}

// apparentBytes is the size of the images as files (shared extents counted
// in each).
func apparentBytes(dir string, imgs []benchImage) int64 {
	var n int64
	for _, img := range imgs {
		filepath.Walk(filepath.Join(dir, img.Entry), func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				n += fi.Size()
			}
			return nil
		})
	}
	return n
}

// kindCounts counts the images of each kind.
func kindCounts(imgs []benchImage) map[string]int {
	m := map[string]int{}
	for _, img := range imgs {
		m[img.Kind]++
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
