package imagebuild

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// TestLayers packs every layered image as squashfs and as a directory and
// reads it back with dissect: each extension's release file is found the
// way its shape says, and fits the base or not as TEST-29 expects.
func TestLayers(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs")
	bin := filepath.Join(t.TempDir(), "minimal")
	os.WriteFile(bin, []byte("binary"), 0o755)
	built := map[string]map[Kind]*dissect.Image{}
	for _, name := range Layers {
		tree := filepath.Join(t.TempDir(), name)
		if err := Layer(name, bin, tree); err != nil {
			if strings.Contains(err.Error(), "user attributes") {
				testenv.Unavailable(t, "%v", err)
			}
			t.Fatal(err)
		}
		built[name] = map[Kind]*dissect.Image{}
		for _, kind := range []Kind{Directory, Squashfs} {
			dst := filepath.Join(t.TempDir(), name+".raw")
			if kind == Directory {
				dst = filepath.Join(t.TempDir(), name)
			}
			if _, err := Pack(tree, kind, dst); err != nil {
				t.Fatal(err)
			}
			img, err := dissect.Open(dst)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { img.Close() })
			built[name][kind] = img
		}
	}
	for _, kind := range []Kind{Directory, Squashfs} {
		base, _, _, err := built["minimal_0"][kind].OSRelease()
		if err != nil || base["MARKER"] != "1" {
			t.Fatalf("%s minimal_0: %v, %v", kind, base, err)
		}
		for _, c := range []struct {
			name    string
			version int
			match   string // "" when no release file is found
			key     string // the key that refuses it over the base, "" when it fits
		}{
			{"app0", 252, dissect.MatchExact, ""},
			{"app0_2", 252, "", ""}, // 252 knows no image-name file
			{"app0_2", 257, dissect.MatchImageName, ""},
			{"app1", 252, dissect.MatchRelaxed, ""},
			{"app3", 257, dissect.MatchExact, "VERSION_ID"},
			{"conf0", 252, "", ""},
			{"conf0", 257, dissect.MatchExact, ""},
			{"app-data-only", 257, dissect.MatchExact, ""},
		} {
			img := built[c.name][kind]
			r, err := img.ExtensionRelease(dissect.ExtensionName(img.Path, img.Kind, c.version), c.version)
			if c.match == "" {
				if !errors.Is(err, dissect.ErrNoExtensionRelease) {
					t.Errorf("%s %s on %d: %+v, %v; want no release file", kind, c.name, c.version, r, err)
				}
				continue
			}
			if err != nil || r.Match != c.match {
				t.Errorf("%s %s on %d: %+v, %v; want one found by %s", kind, c.name, c.version, r, err, c.match)
				continue
			}
			err = dissect.CheckExtension(base, r.Fields, "x86-64", c.version)
			var inc *dissect.IncompatibleError
			if (c.key == "" && err != nil) || (c.key != "" && (!errors.As(err, &inc) || inc.Key != c.key)) {
				t.Errorf("%s %s on %d: %v, want refusal by %q", kind, c.name, c.version, err, c.key)
			}
		}
	}
}
