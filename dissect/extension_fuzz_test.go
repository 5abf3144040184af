package dissect

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// extensionSeeds are small squashfs extensions as TEST-29-PORTABLE ships
// them: one whose release file has the image's name, one whose file has
// another name and the strict=false attribute, one confext.
func extensionSeeds(f testing.TB) [][]byte {
	if !testenv.HaveTool(f, "mksquashfs") {
		return nil
	}
	var seeds [][]byte
	for _, files := range []map[string]string{
		{sysextDir + "extension-release.app1": "ID=debian\nVERSION_ID=12\nSYSEXT_IMAGE_ID=app\n"},
		{sysextDir + "extension-release.app2": "ID=_any\nSYSEXT_SCOPE=portable\nPORTABLE_PREFIXES=app1\n"},
		{confextDir + "extension-release.app1": "ID=_any\nCONFEXT_IMAGE_ID=conf\n"},
	} {
		tree := f.TempDir()
		for p, content := range files {
			os.MkdirAll(filepath.Join(tree, filepath.Dir(p)), 0o755)
			os.WriteFile(filepath.Join(tree, p), []byte(content), 0o644)
			unix.Setxattr(filepath.Join(tree, p), StrictXattr, []byte("false"), 0)
		}
		os.MkdirAll(filepath.Join(tree, "usr/lib/systemd/system"), 0o755)
		os.WriteFile(filepath.Join(tree, "usr/lib/systemd/system/app1.service"), []byte("[Service]\nExecStart=/opt/app1\n"), 0o644)
		img := filepath.Join(f.TempDir(), "app1.raw")
		if exec.Command("mksquashfs", tree, img, "-quiet", "-noappend", "-all-root", "-b", "4096", "-noI", "-noD", "-noF").Run() != nil {
			return nil
		}
		b, _ := os.ReadFile(img)
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzExtension opens mutated extension images and does with them what
// attaching does: find the release file by name, image name and
// attribute, judge it against a base, and collect units over the layers,
// all within the work budget.
func FuzzExtension(f *testing.F) {
	for _, s := range extensionSeeds(f) {
		f.Add(s)
	}
	limits := Limits{BytesRead: 8 << 20, Decompressed: 32 << 20, Entries: 20_000, Hops: 40}
	base := map[string]string{"ID": "debian", "VERSION_ID": "12", "PORTABLE_PREFIXES": "app1"}
	f.Fuzz(func(t *testing.T, data []byte) {
		b := vfs.NewBudget(limits)
		img, err := newRaw(bytes.NewReader(data), int64(len(data)), "", nil, Options{Architecture: "x86-64"}, b)
		if err != nil {
			return
		}
		for _, v := range []int{252, 0} {
			r, err := img.ExtensionRelease("app1_2", v)
			if err != nil {
				continue
			}
			var inc *IncompatibleError
			if err := CheckExtension(base, r.Fields, "x86-64", v); err != nil && !errors.As(err, &inc) {
				t.Fatalf("a refusal that names no key: %v", err)
			}
			exts := []Extension{{Image: img, Name: "app1_2", Release: r}}
			LayeredUnits(img, exts, func(string) bool { return true })
			PortablePrefixes(base, r)
			NameAndVersion(r.Fields, r.Class)
		}
		if st := b.Stats(); st.BytesRead > 2*limits.BytesRead || st.Decompressed > 2*limits.Decompressed {
			t.Fatalf("budget overrun: %+v", st)
		}
	})
}

// FuzzCheckExtension judges mutated release files against mutated
// os-releases: every refusal is an *IncompatibleError naming its key.
func FuzzCheckExtension(f *testing.F) {
	f.Add([]byte("ID=debian\nVERSION_ID=12\n"), []byte("ID=debian\nVERSION_ID=12\nSYSEXT_SCOPE=portable\n"))
	f.Add([]byte("ID=ubuntu\nID_LIKE='debian'\nSYSEXT_LEVEL=1\n"), []byte("ID=debian\nSYSEXT_LEVEL=2\nARCHITECTURE=arm64\n"))
	f.Fuzz(func(t *testing.T, baseText, extText []byte) {
		base, err1 := ParseOSRelease(baseText)
		ext, err2 := ParseOSRelease(extText)
		if err1 != nil || err2 != nil {
			return
		}
		for _, v := range []int{252, 257, 258} {
			err := CheckExtension(base, ext, "x86-64", v)
			var inc *IncompatibleError
			if err != nil && (!errors.As(err, &inc) || inc.Error() == "") {
				t.Fatalf("refusal %v", err)
			}
		}
	})
}

// The seeds are worth fuzzing only if they hold what they should.
func TestExtensionSeeds(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs")
	seeds := extensionSeeds(t)
	for i, want := range []string{MatchImageName, MatchRelaxed, MatchImageName} {
		img, err := New(bytes.NewReader(seeds[i]), int64(len(seeds[i])))
		if err != nil {
			t.Fatal(err)
		}
		if r, err := img.ExtensionRelease("app1_2", 0); err != nil || r.Match != want {
			t.Errorf("seed %d: %+v, %v; want a file found by %s", i, r, err, want)
		}
	}
}
