// Package fstest builds source trees for the file-system readers' tests and
// checks that a reader serves exactly what the tool put into the image; it
// also makes the sample data of the block decoders' tests (Sample).
package fstest

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// Run runs a command and fails the test with its output if it fails.
func Run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// Source writes a tree that exercises a reader: an os-release, unit files,
// an extension-release file with an extended attribute, relative and
// absolute symlinks (fast and, with a 300-byte target, slow), files of 0 bytes, one block, several blocks and odd lengths,
// random (incompressible) and repetitive data, a sparse file, a
// many-entry directory and deep nesting.
func Source(t testing.TB, entries int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, name string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	write("usr/lib/os-release", []byte("ID=fstest\nVERSION_ID=1\nPORTABLE_PREFIXES=app\n"))
	link("../usr/lib/os-release", "etc/os-release")
	write("usr/lib/systemd/system/app.service", []byte("[Service]\nExecStart=/usr/bin/app\n"))
	// An extension's release file under another name, flagged as systemd
	// allows, so every reader's seed images carry an attribute (best
	// effort: where the temporary directory keeps none, there is none).
	write("usr/lib/extension-release.d/extension-release.app2", []byte("ID=_any\n"))
	unix.Setxattr(filepath.Join(dir, "usr/lib/extension-release.d/extension-release.app2"), "user.extension-release.strict", []byte("false"), 0)
	write("usr/lib/systemd/system/app.socket", []byte("[Socket]\nListenStream=80\n"))
	link("/usr/lib/systemd/system/app.service", "usr/lib/systemd/system/app-alias.service")
	link(strings.Repeat("x/", 150), "usr/lib/slow-symlink")
	write("usr/share/empty", nil)
	write("usr/share/one-block", random(4096))
	write("usr/share/random", random(300_001))
	write("usr/share/text", bytes.Repeat([]byte("portable services, done as a generator\n"), 20_000))
	write("usr/share/"+strings.Repeat("n", 255), []byte("a name of 255 bytes\n"))
	write(strings.Repeat("deep/", 30)+"file", []byte("deep\n"))
	sparse := filepath.Join(dir, "usr/share/sparse")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("start"), 0)
	f.WriteAt([]byte("middle"), 3<<20)
	f.WriteAt([]byte("end"), 8<<20-3)
	f.Close()
	for i := 0; i < entries; i++ {
		write(fmt.Sprintf("usr/share/many/entry-%06d", i), []byte(fmt.Sprint(i)))
	}
	return dir
}

// Compare walks src on the host and checks that fsys holds the same
// names, types, symlink targets and file contents, and nothing else but
// the extra names in its root that the file system's own tool adds (ext4's
// lost+found).
func Compare(t testing.TB, src string, fsys fs.FS, extraInRoot ...string) {
	t.Helper()
	seen := 0
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		name := filepath.ToSlash(rel)
		seen++
		fi, err := fs.Lstat(fsys, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return nil
		}
		if fi.Mode().Type() != d.Type() {
			t.Errorf("%s: type %v, want %v", name, fi.Mode().Type(), d.Type())
			return nil
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			want, _ := os.Readlink(p)
			got, err := fs.ReadLink(fsys, name)
			if err != nil || got != want {
				t.Errorf("%s: link %q, %v; want %q", name, got, err, want)
			}
		case d.IsDir():
			want, _ := os.ReadDir(p)
			got, err := fs.ReadDir(fsys, name)
			if name == "." {
				for _, x := range extraInRoot {
					if _, err := fs.Stat(fsys, x); err != nil {
						t.Errorf("%s: %v", x, err)
					}
				}
				got = slices.DeleteFunc(got, func(e fs.DirEntry) bool { return slices.Contains(extraInRoot, e.Name()) })
			}
			if err != nil || len(got) != len(want) {
				t.Errorf("%s: %d entries, %v; want %d", name, len(got), err, len(want))
			}
		default:
			want, _ := os.ReadFile(p)
			got, err := fs.ReadFile(fsys, name)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %d bytes, %v; want %d bytes", name, len(got), err, len(want))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 10 {
		t.Fatalf("walked only %d names", seen)
	}
}

// WholeTree returns the limits for a test that reads every file of a
// source tree (Compare), which is not the generator's job: files up to
// vfs.MaxReadFile instead of the few KiB of a unit, a sparse file and text
// that compresses a thousandfold (no decompression ratio), and more bytes.
func WholeTree() vfs.Limits {
	l := vfs.DefaultLimits
	l.FileSize = vfs.MaxReadFile
	l.FileBytes = 0
	l.DecompressRatio = 0
	l.Decompressed = 512 << 20
	l.BytesRead = 256 << 20
	l.Memory = 64 << 20
	return l
}

// OpenImage opens the image file img with a reader's Open, counting its
// work against limits, and returns the reader's tree, the reader, and the
// budget. The file closes when the test ends.
func OpenImage[T vfs.FS](t testing.TB, img string, limits vfs.Limits, open func(io.ReaderAt, int64, *vfs.Budget) (T, error)) (*vfs.Tree, T, *vfs.Budget) {
	t.Helper()
	tree, r, b, _ := OpenMetered(t, img, limits, open)
	return tree, r, b
}

// OpenMetered is OpenImage with a ReadMeter on the image file, which tells
// the bytes read more than once.
func OpenMetered[T vfs.FS](t testing.TB, img string, limits vfs.Limits, open func(io.ReaderAt, int64, *vfs.Budget) (T, error)) (*vfs.Tree, T, *vfs.Budget, *ReadMeter) {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := vfs.NewBudget(limits)
	m := &ReadMeter{R: f}
	r, err := open(vfs.CountingReaderAt{R: m, B: b}, fi.Size(), b)
	if err != nil {
		t.Fatal(err)
	}
	return vfs.NewTree(r, nil, b), r, b, m
}

// Image makes an image file with a file system's own tool, or ends the
// test when the tool is missing (testenv.NeedTool); args gives the tool's
// arguments for the image's path.
func Image(t testing.TB, tool string, args func(img string) []string) string {
	t.Helper()
	testenv.NeedTool(t, tool)
	img := filepath.Join(t.TempDir(), "image.raw")
	Run(t, tool, args(img)...)
	return img
}

// ReadUnits reads what the generator reads of the trees Source writes:
// os-release (through a symlink), then the unit files of
// usr/lib/systemd/system, aliases too unless regularOnly.
func ReadUnits(t testing.TB, tree fs.FS, regularOnly bool) {
	t.Helper()
	if _, err := fs.ReadFile(tree, "etc/os-release"); err != nil {
		t.Fatal(err)
	}
	ents, err := fs.ReadDir(tree, "usr/lib/systemd/system")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if regularOnly && !e.Type().IsRegular() {
			continue
		}
		if _, err := fs.ReadFile(tree, "usr/lib/systemd/system/"+e.Name()); err != nil {
			t.Fatal(err)
		}
	}
}
