package dissect

import (
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// extTree writes an extension tree: files by path, "->" links, and
// attributes set on files after "@".
type extFile struct {
	content string // "->TARGET" makes a symlink
	strict  string // value of user.extension-release.strict, "" for none
}

func writeExtTree(t *testing.T, files map[string]extFile) string {
	t.Helper()
	d := t.TempDir()
	for p, f := range files {
		full := filepath.Join(d, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := cutLink(f.content); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(f.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if f.strict != "" {
			if err := unix.Setxattr(full, StrictXattr, []byte(f.strict), 0); err != nil {
				testenv.Unavailable(t, "no user attributes here: %v", err)
			}
		}
	}
	return d
}

func cutLink(s string) (string, bool) {
	if len(s) > 2 && s[:2] == "->" {
		return s[2:], true
	}
	return "", false
}

// squash packs a tree as squashfs, attributes included, as an extension
// image is shipped.
func squash(t *testing.T, dir, name string) string {
	t.Helper()
	testenv.NeedTool(t, "mksquashfs")
	img := filepath.Join(t.TempDir(), name)
	run(t, "mksquashfs", dir, img, "-noappend", "-quiet", "-no-progress")
	return img
}

const (
	sysextDir  = "usr/lib/extension-release.d/"
	confextDir = "etc/extension-release.d/"
)

func TestExtensionName(t *testing.T) {
	for _, c := range []struct {
		path    string
		kind    Kind
		version int
		want    string
	}{
		{"/var/lib/portables/app0.raw", KindRaw, 252, "app0"},
		{"/var/lib/portables/app0_1.0.raw", KindRaw, 257, "app0_1.0"}, // the version stays: the image-name rule reads it
		{"/x/app.raw.xz", KindRaw, 252, "app"},
		{"/x/app.sysext.raw", KindRaw, 252, "app.sysext"}, // 255 taught systemd this suffix
		{"/x/app.sysext.raw", KindRaw, 257, "app"},
		{"/x/conf.confext.raw", KindRaw, 0, "conf"},
		{"/x/app.raw.zst", KindRaw, 257, "app.raw.zst"},
		{"/x/app.raw.zst", KindRaw, 258, "app"},
		{"/x/app0.raw", KindDirectory, 257, "app0.raw"}, // a directory's name is taken whole
		{"/x/app0/", KindDirectory, 257, "app0"},
		{"/x/.raw", KindRaw, 257, ".raw"},
	} {
		if got := ExtensionName(c.path, c.kind, c.version); got != c.want {
			t.Errorf("ExtensionName(%q, %s, %d) = %q, want %q", c.path, c.kind, c.version, got, c.want)
		}
	}
}

func TestExtensionReleaseLookup(t *testing.T) {
	for _, c := range []struct {
		name    string
		files   map[string]extFile
		ext     string // the extension's name
		version int
		want    string // the release file found, "" for none
		match   string
		err     error
	}{
		{name: "exact name", ext: "app0", version: 252,
			files: map[string]extFile{sysextDir + "extension-release.app0": {content: "ID=debian\n"}},
			want:  "/" + sysextDir + "extension-release.app0", match: MatchExact},
		{name: "exact name through a link", ext: "app0", version: 257,
			files: map[string]extFile{
				sysextDir + "extension-release.app0": {content: "->/usr/lib/app0-release"},
				"usr/lib/app0-release":               {content: "ID=debian\n"},
			},
			want: "/usr/lib/app0-release", match: MatchExact},
		{name: "a versioned image finds its image name's file on 256+", ext: "app0_1.0", version: 257,
			files: map[string]extFile{sysextDir + "extension-release.app0": {content: "ID=debian\n"}},
			want:  "/" + sysextDir + "extension-release.app0", match: MatchImageName},
		{name: "but not on 252", ext: "app0_1.0", version: 252,
			files: map[string]extFile{sysextDir + "extension-release.app0": {content: "ID=debian\n"}},
			err:   ErrNoExtensionRelease},
		{name: "another name with strict=false", ext: "app1", version: 252,
			files: map[string]extFile{sysextDir + "extension-release.app2": {content: "ID=_any\n", strict: "false"}},
			want:  "/" + sysextDir + "extension-release.app2", match: MatchRelaxed},
		{name: "strict=0 is false too", ext: "app1", version: 257,
			files: map[string]extFile{sysextDir + "extension-release.app2": {content: "ID=_any\n", strict: "0"}},
			want:  "/" + sysextDir + "extension-release.app2", match: MatchRelaxed},
		{name: "another name with strict=true", ext: "app1", version: 257,
			files: map[string]extFile{sysextDir + "extension-release.app2": {content: "ID=_any\n", strict: "true"}},
			err:   ErrNoExtensionRelease},
		{name: "another name without the attribute", ext: "app1", version: 257,
			files: map[string]extFile{sysextDir + "extension-release.app2": {content: "ID=_any\n"}},
			err:   ErrNoExtensionRelease},
		{name: "a link is never a fallback candidate", ext: "app1", version: 257,
			files: map[string]extFile{
				sysextDir + "extension-release.app1x": {content: "->extension-release.app2"},
				sysextDir + "extension-release.app2":  {content: "ID=_any\n", strict: "yes"},
			},
			err: ErrNoExtensionRelease},
		{name: "two candidates", ext: "app1", version: 257,
			files: map[string]extFile{
				sysextDir + "extension-release.app2": {content: "ID=_any\n", strict: "false"},
				sysextDir + "extension-release.app3": {content: "ID=_any\n", strict: "no"},
			},
			err: ErrAmbiguousExtensionRelease},
		{name: "TEST-29's wrongext: a misnamed file without the attribute is no candidate", ext: "wrongext", version: 257,
			files: map[string]extFile{
				sysextDir + "extension-release.wrongext_somethingwrong.txt": {content: "ID=_any\n"},
				sysextDir + "extension-release.app0":                        {content: "ID=_any\n", strict: "false"},
			},
			want: "/" + sysextDir + "extension-release.app0", match: MatchRelaxed},
		{name: "a confext on 255+", ext: "conf0", version: 257,
			files: map[string]extFile{confextDir + "extension-release.conf0": {content: "ID=_any\n"}},
			want:  "/" + confextDir + "extension-release.conf0", match: MatchExact},
		{name: "no confexts on 252", ext: "conf0", version: 252,
			files: map[string]extFile{confextDir + "extension-release.conf0": {content: "ID=_any\n"}},
			err:   ErrNoExtensionRelease},
		{name: "the sysext file wins over the confext one", ext: "both", version: 257,
			files: map[string]extFile{
				confextDir + "extension-release.both": {content: "ID=_any\n"},
				sysextDir + "extension-release.both":  {content: "ID=_any\n"},
			},
			want: "/" + sysextDir + "extension-release.both", match: MatchExact},
		{name: "nothing at all", ext: "app0", version: 257,
			files: map[string]extFile{"usr/lib/os-release": {content: "ID=debian\n"}},
			err:   ErrNoExtensionRelease},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := Open(writeExtTree(t, c.files))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			r, err := img.ExtensionRelease(c.ext, c.version)
			switch {
			case c.err != nil:
				if !errors.Is(err, c.err) {
					t.Fatalf("got %+v, %v; want %v", r, err, c.err)
				}
			case err != nil:
				t.Fatal(err)
			case r.Path != c.want || r.Match != c.match || len(r.Fields) == 0:
				t.Fatalf("got %s by %s (%v), want %s by %s", r.Path, r.Match, r.Fields, c.want, c.match)
			}
		})
	}
}

// TestRawExtension reads an extension as it is shipped, a squashfs image
// whose release file has another name and carries the attribute (as
// TEST-29-PORTABLE's app1.raw), and refuses one that ships an os-release
// in /usr.
func TestRawExtension(t *testing.T) {
	tree := writeExtTree(t, map[string]extFile{
		sysextDir + "extension-release.app2":       {content: "ID=_any\nSYSEXT_SCOPE=portable\nSYSEXT_IMAGE_VERSION=1\nPORTABLE_PREFIXES=app1\n", strict: "false"},
		"usr/lib/systemd/system/app1.service":      {content: "[Service]\nExecStart=/opt/app1\n"},
		"etc/os-release":                           {content: "ID=fine-in-etc\n"},
		"usr/lib/systemd/system/app1-gone.service": {content: "->/dev/null"},
	})
	img, err := Open(squash(t, tree, "app1.raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	r, err := img.ExtensionRelease(ExtensionName(img.Path, img.Kind, 252), 252)
	if err != nil || r.Match != MatchRelaxed || r.Fields["PORTABLE_PREFIXES"] != "app1" || NameAndVersion(r.Fields, r.Class) != "1" {
		t.Fatalf("got %+v, %v", r, err)
	}
	if err := os.WriteFile(filepath.Join(tree, "usr/lib/os-release"), []byte("ID=debian\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad, err := Open(squash(t, tree, "app1.raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.ExtensionRelease("app1", 257); !errors.Is(err, ErrExtensionOSRelease) {
		t.Fatalf("raw extension with /usr/lib/os-release: %v", err)
	}
	// A directory extension is not checked for it, as portabled does not.
	dir, err := Open(tree)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	if _, err := dir.ExtensionRelease("app1", 257); err != nil {
		t.Fatal(err)
	}
}

func TestCheckExtension(t *testing.T) {
	debian12 := map[string]string{"ID": "debian", "VERSION_ID": "12"}
	for _, c := range []struct {
		name    string
		base    map[string]string
		ext     map[string]string
		version int
		key     string // the refusing key; "-" accepts
	}{
		{"same ID and VERSION_ID", debian12, map[string]string{"ID": "debian", "VERSION_ID": "12"}, 257, "-"},
		{"another VERSION_ID", debian12, map[string]string{"ID": "debian", "VERSION_ID": "13"}, 257, "VERSION_ID"},
		{"no VERSION_ID", debian12, map[string]string{"ID": "debian"}, 257, "VERSION_ID"},
		{"another ID", debian12, map[string]string{"ID": "fedora", "VERSION_ID": "12"}, 257, "ID"},
		{"no ID", debian12, map[string]string{"VERSION_ID": "12"}, 257, "ID"},
		{"any OS", debian12, map[string]string{"ID": "_any"}, 252, "-"},
		{"an empty file", debian12, map[string]string{}, 252, ""},
		{"ID_LIKE on 258", map[string]string{"ID": "ubuntu", "ID_LIKE": "debian"}, map[string]string{"ID": "debian"}, 258, "-"},
		{"not ID_LIKE on 257", map[string]string{"ID": "ubuntu", "ID_LIKE": "debian"}, map[string]string{"ID": "debian"}, 257, "ID"},
		{"a rolling base", map[string]string{"ID": "arch"}, map[string]string{"ID": "arch", "VERSION_ID": "1"}, 257, "-"},
		{"equal levels beat versions", map[string]string{"ID": "debian", "VERSION_ID": "12", "SYSEXT_LEVEL": "1"},
			map[string]string{"ID": "debian", "VERSION_ID": "13", "SYSEXT_LEVEL": "1"}, 257, "-"},
		{"other levels", map[string]string{"ID": "debian", "SYSEXT_LEVEL": "1"},
			map[string]string{"ID": "debian", "SYSEXT_LEVEL": "2"}, 257, "SYSEXT_LEVEL"},
		{"a level only on the base: any version", map[string]string{"ID": "debian", "SYSEXT_LEVEL": "1"},
			map[string]string{"ID": "debian"}, 257, "-"},
		{"a scope without portable", debian12, map[string]string{"ID": "_any", "SYSEXT_SCOPE": "system initrd"}, 257, "SYSEXT_SCOPE"},
		{"a scope with portable", debian12, map[string]string{"ID": "_any", "SYSEXT_SCOPE": "portable"}, 257, "-"},
		{"another architecture", debian12, map[string]string{"ID": "_any", "ARCHITECTURE": "arm64"}, 257, "ARCHITECTURE"},
		{"any architecture", debian12, map[string]string{"ID": "_any", "ARCHITECTURE": "_any"}, 257, "-"},
		{"this architecture", debian12, map[string]string{"ID": "_any", "ARCHITECTURE": "x86-64"}, 257, "-"},
		{"a confext is judged by SYSEXT_ keys", map[string]string{"ID": "debian", "SYSEXT_LEVEL": "1", "CONFEXT_LEVEL": "1"},
			map[string]string{"ID": "debian", "CONFEXT_LEVEL": "1", "VERSION_ID": "13"}, 257, "-"},
	} {
		err := CheckExtension(c.base, c.ext, "x86-64", c.version)
		var inc *IncompatibleError
		switch {
		case c.key == "-" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.key != "-" && (!errors.As(err, &inc) || inc.Key != c.key):
			t.Errorf("%s: got %v, want a refusal for %q", c.name, err, c.key)
		}
	}
}

func TestLayeredUnits(t *testing.T) {
	base := writeExtTree(t, map[string]extFile{
		"usr/lib/os-release":                   {content: "ID=debian\nPORTABLE_PREFIXES=app0 minimal\n"},
		"usr/lib/systemd/system/app0.service":  {content: "base\n"},
		"usr/lib/systemd/system/other.service": {content: "not matched\n"},
	})
	ext1 := writeExtTree(t, map[string]extFile{
		sysextDir + "extension-release.ext1":        {content: "ID=debian\nPORTABLE_PREFIXES=app1\n"},
		"usr/lib/systemd/system/app0.service":       {content: "ext1\n"},
		"usr/lib/systemd/system/app0-x.service":     {content: "ext1\n"},
		"etc/systemd/system/app0-etc.service":       {content: "ext1 etc\n"},
		"usr/lib/systemd/system/app0-empty.service": {content: ""},
	})
	ext2 := writeExtTree(t, map[string]extFile{
		sysextDir + "extension-release.ext2":      {content: "ID=debian\nPORTABLE_PREFIXES=app1 app2\n"},
		"usr/lib/systemd/system/app0-x.service":   {content: "ext2\n"},
		"usr/lib/systemd/system/app0-etc.service": {content: "ext2\n"},
		"usr/lib/systemd/system/app0-y.service":   {content: "ext2\n"},
	})
	open := func(p string) *Image {
		img, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { img.Close() })
		return img
	}
	b := open(base)
	var exts []Extension
	for i, p := range []string{ext1, ext2} {
		img := open(p)
		name := []string{"ext1", "ext2"}[i]
		r, err := img.ExtensionRelease(name, 257)
		if err != nil {
			t.Fatal(err)
		}
		exts = append(exts, Extension{Image: img, Name: name, Release: r})
	}
	units, err := LayeredUnits(b, exts, func(n string) bool { return len(n) > 4 && n[:4] == "app0" })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range units {
		got[u.Name] = string(u.Content)
		if want := map[string]int{"base\n": 0, "ext1\n": 1, "ext1 etc\n": 1, "ext2\n": 2}[string(u.Content)]; u.Layer != want {
			t.Errorf("%s: layer %d, want %d", u.Name, u.Layer, want)
		}
	}
	want := map[string]string{"app0.service": "base\n", "app0-x.service": "ext1\n", "app0-etc.service": "ext1 etc\n", "app0-y.service": "ext2\n"}
	if len(got) != len(want) {
		t.Errorf("units %v, want %v", got, want)
	}
	for n, c := range want {
		if got[n] != c {
			t.Errorf("%s: %q, want %q (the base wins, then the earlier extension)", n, got[n], c)
		}
	}
	osr, _, _, _ := b.OSRelease()
	if p := PortablePrefixes(osr, exts[0].Release, exts[1].Release); len(p) != 4 || p[0] != "app0" || p[1] != "app1" || p[2] != "app2" || p[3] != "minimal" {
		t.Errorf("PortablePrefixes = %v", p)
	}
	if _, err := fs.Stat(b.FS(), "usr/lib/os-release"); err != nil {
		t.Fatal(err)
	}
}

func TestNameAndVersion(t *testing.T) {
	for _, c := range []struct {
		fields map[string]string
		kind   ExtensionClass
		want   string
	}{
		{map[string]string{"ID": "debian", "VERSION_ID": "12"}, "", "debian_12"},
		{map[string]string{"IMAGE_ID": "minimal", "ID": "debian", "IMAGE_VERSION": "2", "VERSION_ID": "12"}, "", "minimal_2"},
		{map[string]string{"SYSEXT_IMAGE_ID": "app", "ID": "debian"}, Sysext, "app"},
		{map[string]string{"SYSEXT_IMAGE_ID": "app", "SYSEXT_IMAGE_VERSION": "1"}, Sysext, "app_1"},
		{map[string]string{"SYSEXT_IMAGE_VERSION": "1"}, Sysext, "1"},
		{map[string]string{"SYSEXT_IMAGE_ID": "app"}, Confext, ""},
		{map[string]string{"CONFEXT_ID": "conf", "CONFEXT_BUILD_ID": "7"}, Confext, "conf_7"},
	} {
		if got := NameAndVersion(c.fields, c.kind); got != c.want {
			t.Errorf("NameAndVersion(%v, %q) = %q, want %q", c.fields, c.kind, got, c.want)
		}
	}
}

// The oracle for the release-file rules and the attribute readers:
// systemd-dissect finds the same extension-release file in squashfs,
// erofs and ext4 extensions, by name and by the strict=false attribute,
// and none where the attribute is true or missing.
func TestExtensionReleaseAgreesWithSystemdDissect(t *testing.T) {
	testenv.NeedRoot(t) // systemd-dissect reads an image through a loop device
	testenv.NeedTool(t, "systemd-dissect")
	testenv.NeedTool(t, "mksquashfs")
	pack := map[string]func(tree, img string){
		"squashfs": func(tree, img string) { run(t, "mksquashfs", tree, img, "-quiet", "-noappend", "-all-root") },
	}
	if testenv.HaveTool(t, "mkfs.erofs") {
		pack["erofs"] = func(tree, img string) { run(t, "mkfs.erofs", "--quiet", img, tree) }
	}
	if testenv.HaveTool(t, "mkfs.ext4") {
		pack["ext4"] = func(tree, img string) { run(t, "mkfs.ext4", "-q", "-F", "-d", tree, img, "8M") }
	}
	for _, c := range []struct {
		name  string
		files map[string]extFile
		found bool
	}{
		{"exact", map[string]extFile{sysextDir + "extension-release.app1": {content: "ID=_any\nSYSEXT_IMAGE_ID=app\n"}}, true},
		{"relaxed", map[string]extFile{sysextDir + "extension-release.app2": {content: "ID=_any\nSYSEXT_SCOPE=portable\n", strict: "false"}}, true},
		{"strict", map[string]extFile{sysextDir + "extension-release.app2": {content: "ID=_any\n", strict: "true"}}, false},
		{"unflagged", map[string]extFile{sysextDir + "extension-release.app2": {content: "ID=_any\n"}}, false},
	} {
		for kind, mk := range pack {
			t.Run(c.name+"-"+kind, func(t *testing.T) {
				files := map[string]extFile{"usr/lib/systemd/system/app1.service": {content: "[Service]\n"}}
				maps.Copy(files, c.files)
				img := filepath.Join(t.TempDir(), "app1.raw")
				mk(writeExtTree(t, files), img)
				out, err := exec.Command("systemd-dissect", "--json=short", img).Output()
				if err != nil {
					t.Fatalf("systemd-dissect %s: %v", img, err)
				}
				var theirs Report
				if err := json.Unmarshal(out, &theirs); err != nil {
					t.Fatal(err)
				}
				d, err := Open(img)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				ours := d.Report(img)
				if diff := cmp.Diff(theirs.ExtensionRelease, ours.ExtensionRelease); diff != "" {
					t.Errorf("extension-release (-systemd-dissect +ours):\n%s", diff)
				}
				if (len(ours.ExtensionRelease) > 0) != c.found {
					t.Errorf("found %v, want %v", ours.ExtensionRelease, c.found)
				}
			})
		}
	}
}
