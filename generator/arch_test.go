package generator

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// GPT images carry their architecture in the partition types: one built
// only for another machine is refused with the reason, and one for the
// secondary architecture (x86 on x86-64) is attached, as such a machine
// runs it.
func TestImageArchitecture(t *testing.T) {
	testenv.NeedTool(t, "systemd-repart")
	base := t.TempDir()
	root := filepath.Join(base, "root")
	portables := filepath.Join(root, "var/lib/portables")
	os.MkdirAll(portables, 0o755)
	for _, c := range []struct{ name, partType string }{{"foreign", "root-arm64"}, {"compat", "root-x86"}, {"native", "root-x86-64"}} {
		tree := filepath.Join(base, c.name)
		os.MkdirAll(filepath.Join(tree, "usr/lib/systemd/system"), 0o755)
		os.WriteFile(filepath.Join(tree, "usr/lib/os-release"), []byte("ID=arch\n"), 0o644)
		os.WriteFile(filepath.Join(tree, "usr/lib/systemd/system", c.name+".service"), []byte("[Service]\nExecStart=/usr/bin/x\n"), 0o644)
		defs := filepath.Join(base, c.name+".defs")
		os.Mkdir(defs, 0o755)
		os.WriteFile(filepath.Join(defs, "10-root.conf"), []byte("[Partition]\nType="+c.partType+"\nFormat=squashfs\nCopyFiles="+tree+":/\n"), 0o644)
		if out, err := exec.Command("systemd-repart", "--empty=create", "--size=auto", "--definitions="+defs,
			"--dry-run=no", filepath.Join(portables, c.name+"_1.raw")).CombinedOutput(); err != nil {
			testenv.Unavailable(t, "systemd-repart cannot build images here: %v\n%s", err, out)
		}
	}
	res, _, err := Generate(Config{Root: root, Architecture: "x86-64"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Report{}
	for _, r := range res.Reports {
		got[r.Name] = r
	}
	if r := got["foreign"]; r.State != StateSkipped || r.Reason != "the image is built for arm64, this machine is x86-64" {
		t.Errorf("foreign: %s %q", r.State, r.Reason)
	}
	for _, name := range []string{"compat", "native"} {
		if r := got[name]; r.State != StateAttached {
			t.Errorf("%s: %s %q", name, r.State, r.Reason)
		}
	}
	for _, f := range res.Files {
		if strings.HasPrefix(f.Path, "foreign") {
			t.Errorf("a refused image wrote %s", f.Path)
		}
	}
}
