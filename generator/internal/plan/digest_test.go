package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/generator/internal/host"
)

// digestByDefinition is a unit's digest as the state file defines it: the
// image's identity, then every file written for the unit in the order it
// is written (the unit, its drop-ins under NAME.d/, the links to it),
// each as its path, link target and length, then its bytes. Reconcile
// compares digests across runs and versions: the definition may not move.
func digestByDefinition(u string, files []File, identity string) string {
	h := sha256.New()
	fmt.Fprintf(h, "image %q\n", identity)
	for _, f := range files {
		if f.Path == u || strings.HasPrefix(f.Path, u+".d/") || f.Link == u || f.Link == "../"+u {
			fmt.Fprintf(h, "%q %q %d\n", f.Path, f.Link, len(f.Data))
			h.Write(f.Data)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// An enabled image with a service (an alias, a wants link), a socket and
// a template enabled through DefaultInstance=: each unit's digest is its
// own files' and no other's.
func TestUnitDigestsCoverEachUnitsFiles(t *testing.T) {
	img := goodImage()
	img.Settings.Enable = true
	img.Identity = "/var/lib/portables/foo.raw 1 2 3 4"
	img.Units = []host.Unit{
		{Name: "foo.service", Content: []byte("[Service]\nExecStart=/bin/foo\n[Install]\nWantedBy=multi-user.target\nAlias=foo-alias.service\n")},
		{Name: "foo.socket", Content: []byte("[Socket]\nListenStream=/run/foo.sock\n[Install]\nWantedBy=sockets.target\n")},
		{Name: "foo-web@.service", Content: []byte("[Service]\nExecStart=/bin/foo-web %i\n[Install]\nDefaultInstance=a\nWantedBy=multi-user.target\n")},
	}
	inv := host.Inventory{Architecture: "x86-64"}
	p := Image(&img, &inv, ProfileParses{})
	if p.Skipped() {
		t.Fatalf("skipped: %s", p.Report.Reason)
	}
	if len(p.Report.Digests) != len(img.Units) {
		t.Fatalf("digests %v, want one per unit", p.Report.Digests)
	}
	linked := map[string]int{}
	for _, f := range p.Files {
		if f.Link != "" {
			linked[strings.TrimPrefix(f.Link, "../")]++
		}
	}
	for _, u := range img.Units {
		if got, want := p.Report.Digests[u.Name], digestByDefinition(u.Name, p.Files, img.Identity); got != want {
			t.Errorf("%s: digest %s, want %s", u.Name, got, want)
		}
		if linked[u.Name] == 0 {
			t.Errorf("%s: no link to it among %v: the case tests nothing", u.Name, p.Files)
		}
	}
	// A change to one unit's drop-in moves its digest alone.
	changed := append([]File(nil), p.Files...)
	for i, f := range changed {
		if f.Path == "foo.socket.d/20-portable.conf" {
			changed[i].Data = append(append([]byte(nil), f.Data...), '\n')
		}
	}
	again := unitDigests(p.Report.Units, changed, img.Identity)
	for _, u := range p.Report.Units {
		if moved := again[u] != p.Report.Digests[u]; moved != (u == "foo.socket") {
			t.Errorf("%s: digest moved %v after foo.socket's drop-in changed", u, moved)
		}
	}
}

// BenchmarkImageManyUnits plans one image of n small units: the cost of
// an image grows with its units, not with their square. dissect.MaxUnits
// (1,024) bounds a real run's images; the larger n show the slope.
func BenchmarkImageManyUnits(b *testing.B) {
	for _, n := range []int{1000, 4000, 16000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			img := goodImage()
			img.Units = nil
			for i := range n {
				img.Units = append(img.Units, host.Unit{Name: fmt.Sprintf("foo-%d.service", i), Content: []byte("[Service]\nExecStart=/bin/foo\n")})
			}
			inv := host.Inventory{Architecture: "x86-64"}
			for b.Loop() {
				if p := Image(&img, &inv, ProfileParses{}); p.Skipped() {
					b.Fatal(p.Report.Reason)
				}
			}
		})
	}
}
