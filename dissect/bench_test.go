package dissect

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/internal/loopdev"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// The benchmarks do what the generator does with each image (open it, read
// its os-release, list its unit directories and read the five units of
// the service) per image kind, and do the same job the way systemd does
// it in the same run: a loop device, a read-only mount, the reads, the
// unmount (BenchmarkLoopMount, root only), and systemd-dissect
// --json=short (BenchmarkSystemdDissect). `just bench-dissect` runs them.

// benchDir holds the benchmark images; TestMain removes it.
var benchDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchImages are built once per run: name -> path.
var benchImages = sync.OnceValues(func() (map[string]string, error) {
	dir, err := os.MkdirTemp("", "pg-dissect-bench-")
	if err != nil {
		return nil, err
	}
	benchDir = dir
	tree := filepath.Join(dir, "tree")
	if err := writeBenchTree(tree); err != nil {
		return nil, err
	}
	images := map[string]string{"directory": tree}
	sh := func(name, script string) {
		p := filepath.Join(dir, name+".raw")
		if exec.Command("sh", "-ec", strings.NewReplacer("TREE", tree, "IMG", p, "DIR", dir).Replace(script)).Run() == nil {
			images[name] = p
		}
	}
	for _, comp := range []string{"gzip", "xz", "zstd", "lz4", "lzo"} {
		sh("squashfs-"+comp, "mksquashfs TREE IMG -quiet -noappend -all-root -comp "+comp)
	}
	sh("erofs", "mkfs.erofs --all-root IMG TREE >/dev/null")
	sh("erofs-lz4hc", "mkfs.erofs --all-root -zlz4hc IMG TREE >/dev/null")
	// As systemd-repart formats ext4.
	sh("ext4", "mkfs.ext4 -q -F -b 4096 -I 256 -m 0 -T default -d TREE IMG 32M")
	sh("gpt-verity", `mkdir -p DIR/defs
printf '[Partition]\nType=root\nFormat=squashfs\nCopyFiles=TREE:/\nVerity=data\nVerityMatchKey=root\n' >DIR/defs/10-root.conf
printf '[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\n' >DIR/defs/20-verity.conf
systemd-repart --empty=create --size=auto --definitions=DIR/defs --dry-run=no IMG >/dev/null 2>&1`)
	return images, nil
})

// writeBenchTree writes a realistic small service tree: a 3 MiB binary,
// an os-release, the service's five units among sixty others, and a few
// hundred other files.
func writeBenchTree(root string) error {
	rng := rand.New(rand.NewPCG(7, 7))
	files := map[string][]byte{
		"usr/lib/os-release": []byte("ID=bench\nVERSION_ID=1\nPRETTY_NAME=\"Benchmark image\"\n"),
		"etc/resolv.conf":    nil,
		"etc/machine-id":     nil,
	}
	bin := make([]byte, 3<<20)
	for i := range bin {
		bin[i] = byte(rng.Uint32() >> (rng.Uint32() % 8)) // half compressible, like code
	}
	files["usr/bin/bench"] = bin
	for _, u := range []string{"bench.service", "bench.socket", "bench-helper.service", "bench-helper.timer", "bench@.service"} {
		files["usr/lib/systemd/system/"+u] = []byte("[Unit]\nDescription=" + u + "\n\n[Service]\nExecStart=/usr/bin/bench\nStateDirectory=bench\n")
	}
	for i := 0; i < 60; i++ {
		files[fmt.Sprintf("usr/lib/systemd/system/other-%02d.service", i)] = []byte("[Service]\nExecStart=/bin/true\n")
	}
	for i := 0; i < 400; i++ {
		files[fmt.Sprintf("usr/share/doc/bench/file-%03d.txt", i)] = bytes.Repeat([]byte("documentation\n"), 1+i%50)
	}
	for p, b := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			return err
		}
	}
	for _, d := range []string{"proc", "sys", "dev", "run", "tmp", "var/tmp", "var/lib/bench"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	return os.Symlink("../usr/lib/os-release", filepath.Join(root, "etc/os-release"))
}

// readService is the generator's read of one image: os-release, the unit
// directories, the service's units. It returns the bytes of unit files read.
func readService(fsys fs.FS) (int, error) {
	if _, err := readFirst(fsys, OSReleasePaths); err != nil {
		return 0, err
	}
	n := 0
	for _, dir := range UnitDirectories {
		ents, err := fs.ReadDir(fsys, dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), "bench") {
				continue
			}
			b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
			if err != nil {
				return 0, err
			}
			n += len(b)
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("no unit found")
	}
	return n, nil
}

func readFirst(fsys fs.FS, names []string) ([]byte, error) {
	for _, n := range names {
		if b, err := fs.ReadFile(fsys, n); err == nil {
			return b, nil
		}
	}
	return nil, fs.ErrNotExist
}

func forEachImage(b *testing.B, f func(b *testing.B, kind, path string)) {
	images, err := benchImages()
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range []string{"directory", "squashfs-gzip", "squashfs-xz", "squashfs-zstd", "squashfs-lz4", "squashfs-lzo",
		"erofs", "erofs-lz4hc", "ext4", "gpt-verity"} {
		p, ok := images[kind]
		if !ok {
			continue // its tool is not installed
		}
		b.Run(kind, func(b *testing.B) { f(b, kind, p) })
	}
}

func BenchmarkDissect(b *testing.B) {
	forEachImage(b, func(b *testing.B, kind, p string) {
		b.ReportAllocs()
		var read int64
		for b.Loop() {
			img, err := Open(p)
			if err != nil {
				b.Skipf("%s: %v", kind, err)
			}
			if _, err := readService(img.FS()); err != nil {
				b.Fatal(err)
			}
			read = img.Stats().BytesRead
			img.Close()
		}
		b.ReportMetric(float64(read), "bytes-read/op")
		if kind != "directory" {
			b.ReportMetric(float64(rereadBytes(b, p)), "bytes-reread/op")
		}
	})
}

// rereadBytes is how many bytes of the image one read of the service
// reads more than once (issue 17: none).
func rereadBytes(b *testing.B, p string) int64 {
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	m := &fstest.ReadMeter{R: f}
	img, err := New(m, fi.Size())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := readService(img.FS()); err != nil {
		b.Fatal(err)
	}
	return m.Stats().Reread
}

// BenchmarkLoopMount is the kernel's way, as portabled and PID 1 take it:
// a read-only loop device (with partition scanning for a disk), mount,
// read, unmount, detach. It calls the kernel directly, so no process is
// forked inside the loop.
func BenchmarkLoopMount(b *testing.B) {
	testenv.NeedRoot(b)
	mnt, err := os.MkdirTemp("", "pg-bench-mnt-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(mnt)
	forEachImage(b, func(b *testing.B, kind, p string) {
		if kind == "directory" {
			b.Skip("nothing to mount")
		}
		img, err := Open(p)
		if err != nil {
			b.Skipf("%s: %v", kind, err)
		}
		root := img.Partitions[0]
		if img.PartitionTable == "" {
			root.Offset, root.Size = 0, 0
		}
		img.Close()
		for b.Loop() {
			if err := loopMountRead(p, root, mnt); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// loopMountRead mounts the file system of root (at its offset within the
// image for a disk: this kernel has no GPT partition scanning, and systemd
// adds partition devices itself; one offset loop device is the same cost).
func loopMountRead(image string, root Partition, mnt string) error {
	backing, err := os.Open(image)
	if err != nil {
		return err
	}
	defer backing.Close()
	loop, dev, err := loopdev.Attach(backing, uint64(root.Offset), uint64(root.Size))
	if err != nil {
		return err
	}
	defer loop.Close() // auto-clear detaches the device
	if err := unix.Mount(dev, mnt, root.FSType, unix.MS_RDONLY|unix.MS_NODEV|unix.MS_NOSUID, ""); err != nil {
		return fmt.Errorf("mount %s (%s): %w", dev, root.FSType, err)
	}
	_, rerr := readService(os.DirFS(mnt))
	if err := unix.Unmount(mnt, 0); err != nil {
		return err
	}
	return rerr
}

func BenchmarkSystemdDissect(b *testing.B) {
	testenv.NeedTool(b, "systemd-dissect")
	forEachImage(b, func(b *testing.B, kind, p string) {
		if kind == "directory" {
			b.Skip("252's systemd-dissect cannot open directories")
		}
		for b.Loop() {
			if out, err := exec.Command("systemd-dissect", "--json=short", p).CombinedOutput(); err != nil {
				b.Skipf("systemd-dissect: %v: %s", err, out)
			}
		}
	})
}
