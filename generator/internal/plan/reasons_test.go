package plan

import (
	"errors"
	"fmt"
	"testing"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/generator/internal/host"
)

// goodImage is an image every check accepts.
func goodImage() host.Image {
	return host.Image{
		Entry:     host.Entry{Name: "foo", Path: "/var/lib/portables/foo.raw", Kind: dissect.KindRaw},
		Profile:   []byte("[Service]\nDynamicUser=yes\n"),
		OSRelease: map[string]string{"ID": "debian"},
		Units:     []host.Unit{{Name: "foo.service", Content: []byte("[Service]\nExecStart=/bin/foo\n")}},
	}
}

// TestReasonPrecedence pins which reason an admin reads when an image has
// several problems: each case breaks the image in two ways, and the one
// whose check comes first in imageChecks must win.
func TestReasonPrecedence(t *testing.T) {
	breaks := []struct {
		name   string
		want   error
		break_ func(*host.Image)
	}{
		{"unreadable image", dissect.ErrCorrupt, func(i *host.Image) { i.Err = fmt.Errorf("squashfs: %w", dissect.ErrCorrupt) }},
		{"bad settings", host.ErrBadSettings, func(i *host.Image) {
			i.Settings.Err = host.ParseSettings(&i.Settings, "x.portable", []byte("[Portable]\nEnable=maybe\n"))
		}},
		{"unknown profile", host.ErrUnknownProfile, func(i *host.Image) { i.ProfileErr = host.ErrUnknownProfile }},
		{"unwritable path", ErrUnwritablePath, func(i *host.Image) { i.Path = "/var/lib/portables/a\nb.raw" }},
		{"no os-release", ErrNoOSRelease, func(i *host.Image) { i.OSRelease = nil }},
		{"no ID", ErrNoOSReleaseID, func(i *host.Image) { delete(i.OSRelease, "ID") }},
		{"user scope", ErrUserScope, func(i *host.Image) { i.OSRelease["PORTABLE_SCOPE"] = "user" }},
		{"foreign architecture", ErrArchitecture, func(i *host.Image) { i.Architectures = []string{"s390x"} }},
		{"prefix not permitted", ErrPrefixNotPermitted, func(i *host.Image) { i.OSRelease["PORTABLE_PREFIXES"] = "bar" }},
		{"no units", ErrNoUnits, func(i *host.Image) { i.Units = nil }},
		{"profile does not parse", ErrBadProfile, func(i *host.Image) { i.Profile = []byte("[Service\n") }},
	}
	inv := &host.Inventory{Architecture: "x86-64"}
	for i, first := range breaks {
		for _, second := range breaks[i+1:] {
			img := goodImage()
			second.break_(&img)
			first.break_(&img)
			p := Image(&img, inv, ProfileParses{})
			if !p.Skipped() || !errors.Is(p.Report.Err, first.want) {
				t.Errorf("%s and %s: got %v (%q), want the reason of %s", first.name, second.name, p.Report.Err, p.Report.Reason, first.name)
			}
		}
	}
	// Each break alone skips the image for its own reason.
	for _, b := range breaks {
		img := goodImage()
		b.break_(&img)
		if p := Image(&img, inv, ProfileParses{}); !errors.Is(p.Report.Err, b.want) {
			t.Errorf("%s alone: got %v", b.name, p.Report.Err)
		}
	}
	img := goodImage()
	if p := Image(&img, inv, ProfileParses{}); p.Skipped() {
		t.Fatalf("the good image is skipped: %s", p.Report.Reason)
	}
}

// TestDescribe: reader errors say their kind before their detail.
func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("squashfs: bad inode at 0x40: %w", dissect.ErrCorrupt), "corrupt image: squashfs: bad inode at 0x40: " + dissect.ErrCorrupt.Error()},
		{&host.OSReleaseError{Err: fmt.Errorf("x: %w", dissect.ErrBudget)}, "cannot read os-release: image needs more work than allowed, refusing (hostile or broken?): x: " + dissect.ErrBudget.Error()},
		{ErrNoOSReleaseID, "os-release has no ID= field"},
	} {
		if got := Describe(c.err); got != c.want {
			t.Errorf("Describe(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestOwnUnitsAreInOwnNamespace: the units the generator writes for itself
// are names no image may take.
func TestOwnUnitsAreInOwnNamespace(t *testing.T) {
	for _, u := range []string{KeepUnit, LateUnit, "portable-generator-log.service"} {
		img := goodImage()
		img.Name = "portable-generator"
		img.Units = []host.Unit{{Name: u, Content: []byte("[Service]\nExecStart=/bin/foo\n")}}
		p := Image(&img, &host.Inventory{Architecture: "x86-64"}, ProfileParses{})
		var own *OwnNameError
		if !errors.As(p.Report.Err, &own) {
			t.Errorf("an image's %s: %s %q, want the generator's own name refused", u, p.Report.State, p.Report.Reason)
		}
	}
}
