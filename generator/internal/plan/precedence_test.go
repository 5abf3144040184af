package plan

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/policy"
)

// TestReasonPrecedenceAfterTheImageChecks pins which reason wins once an
// image passes the checks of imageChecks (TestReasonPrecedence): a unit
// that cannot be parsed, then the policy's refusals (all of them), then
// what the host holds, read into a real host inventory: a unit name (the
// host's, or the generator's own), then the image's prefix, then a name a
// unit claims (here the DynamicUser= account). Each case breaks the image
// in two ways of different tiers; the higher tier's reason must win.
func TestReasonPrecedenceAfterTheImageChecks(t *testing.T) {
	type breakage struct {
		name string
		tier int
		is   func(error) bool
		// image breaks the image; hostFiles are what the host holds.
		image     func(*host.Image)
		hostFiles map[string]string
	}
	addUnit := func(name, content string) func(*host.Image) {
		return func(i *host.Image) { i.Units = append(i.Units, host.Unit{Name: name, Content: []byte(content)}) }
	}
	as := func(target any) func(error) bool {
		return func(err error) bool { return errors.As(err, target) }
	}
	var (
		unitErr   *UnitError
		refused   policy.Refusals
		ownName   *OwnNameError
		held      *HostHoldsError
		prefixErr *PrefixHeldError
	)
	breaks := []breakage{
		{name: "profile does not parse", tier: 0, is: func(err error) bool { return errors.Is(err, ErrBadProfile) },
			image: func(i *host.Image) { i.Profile = []byte("[Service\n") }},
		{name: "a unit does not parse", tier: 1, is: as(&unitErr), image: addUnit("foo-bad.service", "[Service\n")},
		{name: "a refused line", tier: 2, is: as(&refused), image: addUnit("foo-weak.service", "[Service]\nExecStart=+/bin/foo\n")},
		{name: "a unit in the generator's namespace", tier: 3, is: as(&ownName), image: func(i *host.Image) {
			i.Settings.Match = []string{"foo", "portable-generator-foo"}
			addUnit("portable-generator-foo.service", "[Service]\nExecStart=/bin/foo\n")(i)
		}},
		{name: "the host holds a unit name", tier: 3, is: func(err error) bool { return errors.As(err, &held) && held.Directive == "" },
			hostFiles: map[string]string{"etc/systemd/system/foo.service": "[Service]\nExecStart=/bin/host\n"}},
		{name: "the host holds the prefix", tier: 4, is: as(&prefixErr),
			hostFiles: map[string]string{"usr/lib/systemd/system/foo-host.service": "[Service]\nExecStart=/bin/host\n"}},
		{name: "the host holds the DynamicUser= account", tier: 5, is: func(err error) bool { return errors.As(err, &held) && held.Directive != "" },
			hostFiles: map[string]string{"etc/passwd": "foo:x:1000:1000::/home/foo:/bin/sh\n"}},
	}
	plan := func(t *testing.T, bs ...breakage) Report {
		t.Helper()
		root := t.TempDir()
		if err := os.Chmod(root, 0o755); err != nil {
			t.Fatal(err)
		}
		img := goodImage()
		for _, b := range bs {
			if b.image != nil {
				b.image(&img)
			}
			for p, content := range b.hostFiles {
				full := filepath.Join(root, p)
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		r, err := host.OpenRoot(root)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		return Image(&img, r.ReadInventory(257, "x86-64"), ProfileParses{}).Report
	}
	if r := plan(t); r.State != StateAttached {
		t.Fatalf("the good image on an empty host: %s %s", r.State, r.Reason)
	}
	for _, b := range breaks {
		if r := plan(t, b); r.State != StateSkipped || !b.is(r.Err) {
			t.Errorf("%s alone: %s %v", b.name, r.State, r.Err)
		}
	}
	for i, first := range breaks {
		for _, second := range breaks[i+1:] {
			if second.tier == first.tier {
				continue // one tier: whichever unit comes first
			}
			// Both orders of the image's units: the tier decides, not the order.
			for _, bs := range [][]breakage{{first, second}, {second, first}} {
				if r := plan(t, bs...); r.State != StateSkipped || !first.is(r.Err) {
					t.Errorf("%s and %s: got %v (%q), want the reason of %s", bs[0].name, bs[1].name, r.Err, r.Reason, first.name)
				}
			}
		}
	}
}
