package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
)

// TestUnitDigestsKeepTheirFormat: the digests kept in the state file are
// of fmt's "image %q\n" and, per file, "%q %q %d\n" and its data; built
// without fmt, they must stay the same bytes, or every unit would read as
// changed after an upgrade. Names with quotes, escapes and non-ASCII
// bytes included.
func TestUnitDigestsKeepTheirFormat(t *testing.T) {
	identity := "/var/lib/portables/app\"1\x01é\xff_1.raw dev=2049 ino=12 size=4096 mtime=1700000000000000000"
	files := []File{
		{Path: "app.service.d/10-profile.conf", Data: []byte("[Service]\nProtectSystem=strict\n")},
		{Path: "app.service.d/20-portable.conf", Data: []byte("[Service]\nRootImage=/x\n")},
		{Path: "app.service", Data: []byte("[Service]\nExecStart=/bin/true\n")},
		{Path: "app-alias\t\".service", Link: "app.service"},
		{Path: "multi-user.target.wants/app.service", Link: "../app.service"},
		{Path: "app@.service", Data: nil},
	}
	units := []string{"app.service", "app@.service", "none.service"}
	got := unitDigests(units, files, identity)
	want := func(u string, idx ...int) string {
		h := sha256.New()
		fmt.Fprintf(h, "image %q\n", identity)
		for _, i := range idx {
			f := files[i]
			fmt.Fprintf(h, "%q %q %d\n", f.Path, f.Link, len(f.Data))
			h.Write(f.Data)
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	for i, w := range []string{
		want("app.service", 0, 1, 2, 3, 4),
		want("app@.service", 5),
		want("none.service"),
	} {
		if got[i] != w {
			t.Errorf("%s: digest %s, want %s", units[i], got[i], w)
		}
	}
}
