package dissect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// makeTree builds a directory image with merged /usr, an os-release symlink,
// and links that try to leave the image.
func makeTree(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(d, "usr/lib/systemd/system"), 0o755))
	must(os.MkdirAll(filepath.Join(d, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(d, "usr/lib/os-release"), []byte("ID=test\n"), 0o644))
	must(os.WriteFile(filepath.Join(d, "usr/lib/systemd/system/foo.service"), []byte("[Service]\nExecStart=/bin/true\n"), 0o644))
	must(os.Symlink("../usr/lib/os-release", filepath.Join(d, "etc/os-release")))
	must(os.Symlink("usr/lib", filepath.Join(d, "lib")))
	must(os.Symlink("/usr/lib/systemd/system/foo.service", filepath.Join(d, "usr/lib/systemd/system/foo-alias.service")))
	must(os.Symlink("../../../../../../../../etc/passwd", filepath.Join(d, "etc/escape-rel")))
	must(os.Symlink("/etc/passwd", filepath.Join(d, "etc/escape-abs")))
	must(os.Symlink("loop2", filepath.Join(d, "etc/loop1")))
	must(os.Symlink("loop1", filepath.Join(d, "etc/loop2")))
	return d
}

func TestDirectoryImage(t *testing.T) {
	img, err := Open(makeTree(t))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	fsys := img.FS()
	for _, tc := range []struct {
		name, want string
	}{
		{"etc/os-release", "ID=test\n"},                   // relative link
		{"lib/systemd/system/foo.service", "[Service]\n"}, // intermediate dir link
		{"usr/lib/systemd/system/foo-alias.service", "[Service]\n"},
	} {
		b, err := fs.ReadFile(fsys, tc.name)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if string(b[:len(tc.want)]) != tc.want {
			t.Errorf("%s: got %q", tc.name, b)
		}
	}
	// Links that point outside resolve inside the image, where there is no
	// /etc/passwd: the host's file must never be read.
	for _, name := range []string{"etc/escape-rel", "etc/escape-abs"} {
		if _, err := fs.ReadFile(fsys, name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: got %v, want not-exist", name, err)
		}
	}
	if _, err := fs.ReadFile(fsys, "etc/loop1"); !errors.Is(err, ErrLoop) {
		t.Errorf("loop: got %v, want ErrLoop", err)
	}
	if got, err := img.Resolve("lib/systemd/system/foo-alias.service"); err != nil || got != "/usr/lib/systemd/system/foo.service" {
		t.Errorf("Resolve = %q, %v", got, err)
	}
	// TestFS opens every entry, so keep the dangling links out of it.
	usr, err := fs.Sub(fsys, "usr")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(usr, "lib/os-release", "lib/systemd/system/foo.service"); err != nil {
		t.Error(err)
	}
}

// TestDirectoryImageKeepsFewDescriptors: the directories walked through
// are kept open for speed, but no more than maxOpenDirs of them, and
// Close releases every one.
func TestDirectoryImageKeepsFewDescriptors(t *testing.T) {
	d := t.TempDir()
	var names []string
	for i := 0; i < 3*maxOpenDirs; i++ {
		p := filepath.Join(d, "usr/share", fmt.Sprintf("d%03d", i), "sub")
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "f"), []byte(fmt.Sprint(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, fmt.Sprintf("usr/share/d%03d/sub/f", i))
	}
	openFDs := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			testenv.Unavailable(t, "no /proc/self/fd")
		}
		return len(ents)
	}
	before := openFDs()
	img, err := Open(d)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		b, err := fs.ReadFile(img.FS(), n)
		if err != nil || string(b) != fmt.Sprint(i) {
			t.Fatalf("%s: %q, %v", n, b, err)
		}
	}
	if during := openFDs(); during > before+maxOpenDirs+2 {
		t.Errorf("%d descriptors open while reading, %d before", during, before)
	}
	img.Close()
	if after := openFDs(); after != before {
		t.Errorf("%d descriptors open after Close, %d before", after, before)
	}
}
