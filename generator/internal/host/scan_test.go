package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
	"golang.org/x/sys/unix"
)

// TestScanOpensOnlyImageFiles: a raw image is a regular file or a block
// device, whatever its name and wherever it is found (a search directory,
// a NAME.v directory, a symlink's target). A FIFO would stall the reader
// until a writer comes, and a character device acts when opened
// (/dev/watchdog arms the machine's watchdog): neither becomes an entry, so
// nothing ever opens them. A symlink in a NAME.v directory is followed as
// one in a search directory is: inside the root, its target trusted.
func TestScanOpensOnlyImageFiles(t *testing.T) {
	testenv.NeedRoot(t) // mknod
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	images := filepath.Join(dir, "var/lib/portables")
	for _, d := range []string{images, filepath.Join(images, "ver.v"), filepath.Join(dir, "dev")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fifo := func(p string) {
		if err := unix.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A character device of /dev/null's numbers, but readable by root
	// alone: the trust checks pass, as they do for /dev/watchdog.
	char := func(p string) {
		if err := unix.Mknod(p, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
	}
	fifo(filepath.Join(images, "fifo.raw"))
	char(filepath.Join(images, "chr.raw"))
	char(filepath.Join(dir, "dev/watchdog"))
	os.Symlink("/dev/watchdog", filepath.Join(images, "watchdog.raw"))
	fifo(filepath.Join(images, "ver.v/ver_2.raw"))
	char(filepath.Join(images, "ver.v/ver_3.raw"))
	os.Symlink("/dev/watchdog", filepath.Join(images, "ver.v/ver_4.raw"))
	os.WriteFile(filepath.Join(images, "ver.v/ver_1.raw"), nil, 0o644)
	os.MkdirAll(filepath.Join(dir, "srv"), 0o755)
	os.WriteFile(filepath.Join(dir, "srv/theirs.raw"), nil, 0o644)
	os.Chown(filepath.Join(dir, "srv/theirs.raw"), 65534, 65534)
	os.Symlink("/srv/theirs.raw", filepath.Join(images, "ver.v/ver_5.raw"))
	os.WriteFile(filepath.Join(images, "good.raw"), nil, 0o644)

	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	entries, problems, _ := r.Scan("x86-64")
	var got []string
	for _, e := range entries {
		if e.Err != nil {
			got = append(got, e.Name+"_"+e.Version+" refused")
			if !errors.Is(e.Err, ErrUntrusted) || e.Path != "/srv/theirs.raw" {
				t.Errorf("%s: %v, want the untrusted target /srv/theirs.raw", e.Path, e.Err)
			}
			continue
		}
		got = append(got, e.Name+"_"+e.Version)
	}
	slices.Sort(got)
	if want := []string{"good_", "ver_1", "ver_5 refused"}; !slices.Equal(got, want) || len(problems) > 0 {
		t.Errorf("Scan found %q (problems %q), want %q: only regular files and block devices are images, only trusted ones usable", got, problems, want)
	}
}

// TestScanVersionDirectoryTrusted: a NAME.v directory is one of the
// image's directories up to the search directory (DESIGN.md, Trust): when
// others may write to it, anyone can add a version (a symlink to any
// root-owned image) or rename one to the newest, so its entries are
// refused.
func TestScanVersionDirectoryTrusted(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	v := filepath.Join(dir, "var/lib/portables/open.v")
	if err := os.MkdirAll(v, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(v, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v, "open_1.raw"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	entries, _, _ := r.Scan("x86-64")
	if len(entries) != 1 || !errors.Is(entries[0].Err, ErrUntrusted) {
		t.Fatalf("Scan = %+v, want open_1 refused as untrusted", entries)
	}
}

// TestScanKeepsListingOrder: the entries of a search directory, looked at
// many at once, come back in the order of its listing, each with its own
// answer.
func TestScanKeepsListingOrder(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	images := filepath.Join(dir, "var/lib/portables")
	var want []string
	for i := range 300 {
		name := fmt.Sprintf("app%03d", i)
		if i%7 == 0 {
			name += "_" + strconv.Itoa(i) + ".raw" // a raw image
			if err := os.MkdirAll(images, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(images, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		} else if err := os.MkdirAll(filepath.Join(images, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if i%11 == 0 {
			os.Chmod(filepath.Join(images, name), 0o777) // untrusted: an entry with its reason
		}
		want = append(want, name)
	}
	os.WriteFile(filepath.Join(images, "README"), nil, 0o644) // not an image: no entry
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	entries, problems, _ := r.Scan("x86-64")
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	var got []string
	for _, e := range entries {
		got = append(got, filepath.Base(e.Path))
		i, _ := strconv.Atoi(e.Name[len("app"):])
		if untrusted := e.Err != nil; untrusted != (i%11 == 0) {
			t.Errorf("%s: err %v", e.Path, e.Err)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries out of the listing's order:\n got %v\nwant %v", got, want)
	}
}
