package dissect

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// imageTree writes the tree every raw-image test packs: merged /usr, an
// os-release reached through a relative link, a unit alias through an
// absolute link, and links that try to leave the image.
func imageTree(t *testing.T) string {
	t.Helper()
	return imageTreeWith(t, "ID=raw\nVERSION_ID=7\n")
}

// imageTreeWith is imageTree with the given os-release.
func imageTreeWith(t *testing.T, osRelease string) string {
	t.Helper()
	d := t.TempDir()
	files := map[string]string{
		"usr/lib/os-release":                   osRelease,
		"usr/lib/systemd/system/raw.service":   "[Service]\nExecStart=/usr/bin/raw\n",
		"usr/lib/systemd/system/raw-2.service": "[Service]\nExecStart=/usr/bin/raw2\n",
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Join(d, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(d, "etc"), 0o755)
	for link, target := range map[string]string{
		"etc/os-release": "../usr/lib/os-release",
		"lib":            "usr/lib",
		"usr/lib/systemd/system/raw-alias.service": "/lib/systemd/system/raw.service",
		"etc/escape": "/../../../etc/passwd",
	} {
		if err := os.Symlink(target, filepath.Join(d, link)); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func checkTree(t *testing.T, img *Image) {
	t.Helper()
	fsys := img.FS()
	for name, want := range map[string]string{
		"etc/os-release":                       "ID=raw\nVERSION_ID=7\n",
		"lib/systemd/system/raw-alias.service": "[Service]\nExecStart=/usr/bin/raw\n",
		"usr/lib/systemd/system/raw-2.service": "[Service]\nExecStart=/usr/bin/raw2\n",
	} {
		got, err := fs.ReadFile(fsys, name)
		if err != nil || string(got) != want {
			t.Errorf("%s: got %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := fs.ReadFile(fsys, "etc/escape"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("etc/escape: %v, want not-exist (never the host's file)", err)
	}
	osr, _, _, err := img.OSRelease()
	if err != nil || osr["ID"] != "raw" {
		t.Errorf("OSRelease = %v, %v", osr, err)
	}
}

func TestSquashfsImages(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs")
	tree := imageTree(t)
	for _, comp := range []string{"gzip", "xz", "zstd", "lzo", "lz4"} {
		t.Run(comp, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "raw.raw")
			run(t, "mksquashfs", tree, f, "-quiet", "-noappend", "-all-root", "-comp", comp)
			img, err := Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if len(img.Partitions) != 1 || img.Partitions[0].FSType != "squashfs" || img.Partitions[0].Designator != "root" || !img.Partitions[0].ReadOnly {
				t.Errorf("partitions = %+v", img.Partitions)
			}
			checkTree(t, img)
			if st := img.Stats(); st.BytesRead == 0 || st.BytesRead > 256<<10 {
				t.Errorf("read %d bytes, want (0, 256 KiB]", st.BytesRead)
			}
		})
	}
}

func TestErofsImage(t *testing.T) {
	testenv.NeedTool(t, "mkfs.erofs")
	f := filepath.Join(t.TempDir(), "raw.raw")
	run(t, "mkfs.erofs", f, imageTree(t))
	img, err := Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	checkTree(t, img)
}

// ext4 as systemd-repart and mkosi make it: mkfs.ext4 -d with 4 KiB
// blocks, which leaves holes in files.
func TestExt4Image(t *testing.T) {
	testenv.NeedTool(t, "mkfs.ext4")
	f := filepath.Join(t.TempDir(), "raw.raw")
	run(t, "mkfs.ext4", "-q", "-F", "-b", "4096", "-I", "256", "-m", "0", "-T", "default", "-d", imageTree(t), f, "16M")
	img, err := Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if len(img.Partitions) != 1 || img.Partitions[0].FSType != "ext4" || img.Partitions[0].ReadOnly {
		t.Errorf("partitions = %+v", img.Partitions)
	}
	checkTree(t, img)
}

func TestCompressedErofsImage(t *testing.T) {
	testenv.NeedTool(t, "mkfs.erofs")
	f := filepath.Join(t.TempDir(), "raw.raw")
	run(t, "mkfs.erofs", "-zlz4hc", f, imageTree(t))
	img, err := Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	checkTree(t, img)
}

// File systems we recognise but do not read are reported as unsupported,
// naming the file system, never as corrupt.
func TestUnsupportedFileSystems(t *testing.T) {
	for _, tc := range []struct{ tool, fstype string }{
		{"mkfs.btrfs", "btrfs"}, {"mkfs.xfs", "xfs"}, {"mkfs.f2fs", "f2fs"}, {"mkfs.vfat", "vfat"},
	} {
		t.Run(tc.fstype, func(t *testing.T) {
			testenv.NeedTool(t, tc.tool)
			f := filepath.Join(t.TempDir(), "x.raw")
			if err := os.WriteFile(f, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(f, 300<<20); err != nil {
				t.Fatal(err)
			}
			run(t, tc.tool, f)
			_, err := Open(f)
			var ue *UnsupportedError
			if !errors.As(err, &ue) || errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want UnsupportedError", err)
			}
			if want := tc.fstype + " file system"; ue.Feature != want {
				t.Errorf("feature %q, want %q", ue.Feature, want)
			}
		})
	}
}

func TestLUKSIsUnsupported(t *testing.T) {
	testenv.NeedTool(t, "cryptsetup")
	f := filepath.Join(t.TempDir(), "secret.raw")
	os.WriteFile(f, nil, 0o644)
	os.Truncate(f, 32<<20)
	key := filepath.Join(t.TempDir(), "key")
	os.WriteFile(key, []byte("secret"), 0o600)
	run(t, "cryptsetup", "luksFormat", "--batch-mode", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", f, key)
	_, err := Open(f)
	var ue *UnsupportedError
	if !errors.As(err, &ue) || errors.Is(err, ErrCorrupt) || !strings.Contains(ue.Feature, "LUKS") {
		t.Fatalf("err = %v, want an UnsupportedError naming LUKS", err)
	}
}

func TestGarbageIsCorrupt(t *testing.T) {
	f := filepath.Join(t.TempDir(), "junk.raw")
	if err := os.WriteFile(f, make([]byte, 8192), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(f); !errors.Is(err, ErrCorrupt) {
		t.Errorf("zeros: %v, want ErrCorrupt", err)
	}
}
