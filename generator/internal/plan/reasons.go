package plan

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// Reasons an image is skipped that are decided here (others come from
// host, dissect and policy as errors of their own).
var (
	ErrNoOSRelease        = errors.New("no os-release in the image (looked for /etc/os-release and /usr/lib/os-release)")
	ErrNoOSReleaseID      = errors.New("os-release has no ID= field")
	ErrUserScope          = errors.New("os-release says PORTABLE_SCOPE=user: the image is for user services, not system services")
	ErrArchitecture       = errors.New("the image is built for another architecture")
	ErrPrefixNotPermitted = errors.New("prefix not among the image's PORTABLE_PREFIXES")
	ErrNoUnits            = errors.New("no matching unit files in the image")
	ErrBadProfile         = errors.New("profile cannot be parsed")
	ErrUnwritablePath     = errors.New("cannot be written into a unit")
	// ErrExtensionOnly is an extension image (an extension-release, no
	// os-release) that is not attached on its own; MarkLayerRoles lists it as the
	// base's extension, or as unused.
	ErrExtensionOnly = errors.New("an extension image: attached only over a base (Base= in its .portable file, or Extensions= in another's)")
)

// imageCheck is what the checks of one image see.
type imageCheck struct {
	img      *host.Image
	inv      *host.Inventory
	profiles ProfileParses
	profile  *unitfile.File // set by the profile-parse check
}

// imageChecks are the reasons to skip an image before its units are read,
// in precedence order: when an image has several problems, the first
// failing check is the reason the admin sees. An image that could not be
// read says so before anything read from it is judged; settings before the
// profile they name; the os-release before what it declares.
var imageChecks = []struct {
	name string
	run  func(*imageCheck) error
}{
	{"entry and image readable", func(c *imageCheck) error { return c.img.Err }},
	{"settings valid", func(c *imageCheck) error { return c.img.Settings.Err }},
	{"layers put together", func(c *imageCheck) error {
		if c.img.Layers != nil {
			return c.img.Layers.Err
		}
		return nil
	}},
	{"profile exists", func(c *imageCheck) error { return c.img.ProfileErr }},
	{"path writable into a unit", func(c *imageCheck) error {
		if err := writablePath(c.img.Path); err != nil {
			return fmt.Errorf("%w: %v", ErrUnwritablePath, err)
		}
		return nil
	}},
	{"layer paths writable into a unit", func(c *imageCheck) error {
		l := c.img.Layers
		if l == nil {
			return nil
		}
		if err := writablePath(l.Root.Path); err != nil {
			return fmt.Errorf("%w: base %s: %v", ErrUnwritablePath, l.Root.Name, err)
		}
		for _, e := range l.Extensions {
			if err := writablePath(e.Path); err != nil {
				return fmt.Errorf("%w: extension %s: %v", ErrUnwritablePath, e.Name, err)
			}
			// ExtensionImages= splits its list at white space and quotes,
			// and an image's options at ':'.
			if strings.ContainsAny(e.Path, " \t\"'\\:") {
				return fmt.Errorf("%w: extension %s: path %q would be split by ExtensionImages= (a space, quote, backslash or ':')", ErrUnwritablePath, e.Name, e.Path)
			}
		}
		return nil
	}},
	{"os-release present", func(c *imageCheck) error {
		if c.img.OSRelease == nil && c.img.Release != nil {
			return ErrExtensionOnly
		}
		if c.img.OSRelease == nil && c.img.ReleaseErr != nil {
			return fmt.Errorf("%w; an extension image, but not one systemd %d can use: %w", ErrNoOSRelease, c.inv.SystemdVersion, c.img.ReleaseErr)
		}
		if c.img.OSRelease == nil {
			return ErrNoOSRelease
		}
		return nil
	}},
	{"os-release has ID", func(c *imageCheck) error {
		if c.img.OSRelease["ID"] == "" {
			return ErrNoOSReleaseID
		}
		return nil
	}},
	{"portable scope", func(c *imageCheck) error {
		switch scope := c.img.OSRelease["PORTABLE_SCOPE"]; scope {
		case "", "system", "any":
			return nil
		case "user":
			return ErrUserScope
		default:
			return fmt.Errorf("os-release has an invalid PORTABLE_SCOPE=%s", scope)
		}
	}},
	{"architecture", func(c *imageCheck) error {
		if len(c.img.Architectures) > 0 && !runsOn(c.img.Architectures, c.inv.Architecture) {
			return &reasonError{ErrArchitecture, fmt.Sprintf("the image is built for %s, this machine is %s", strings.Join(c.img.Architectures, ", "), c.inv.Architecture)}
		}
		return nil
	}},
	{"prefixes permitted", func(c *imageCheck) error {
		allowed := permittedPrefixes(c.img)
		if len(allowed) == 0 {
			return nil
		}
		whose := "image's"
		if c.img.Layers != nil && len(c.img.Layers.Extensions) > 0 {
			whose = "layers'"
		}
		for _, m := range c.img.Prefixes() {
			if !slices.Contains(allowed, m) {
				return &reasonError{ErrPrefixNotPermitted, fmt.Sprintf("prefix %q is not among the %s PORTABLE_PREFIXES=%s (set Match= in %s.portable)", m, whose, strings.Join(allowed, " "), c.img.Name)}
			}
		}
		return nil
	}},
	{"units found", func(c *imageCheck) error {
		if len(c.img.Units) == 0 {
			return &reasonError{ErrNoUnits, fmt.Sprintf("no unit files matching %s in the image (looked for %s units in the image's unit directories)",
				strings.Join(quoteAll(c.img.Prefixes()), " "), strings.Join(names.UnitTypes, " "))}
		}
		return nil
	}},
	{"profile parses", func(c *imageCheck) (err error) {
		c.profile, err = c.profiles.parse(c.img.Profile)
		if err != nil {
			return &reasonError{ErrBadProfile, fmt.Sprintf("profile %s cannot be parsed: %v", c.img.ProfileName(), err)}
		}
		return nil
	}},
}

// reasonError is a sentinel with the specific text of one case.
type reasonError struct {
	kind error
	text string
}

func (e *reasonError) Error() string { return e.text }
func (e *reasonError) Unwrap() error { return e.kind }

// UnitError is a unit of the image that cannot be parsed, as a whole or
// (with Enable=yes) its [Install] section.
type UnitError struct {
	Unit    string
	Install bool
	Err     error
}

func (e *UnitError) Error() string {
	if e.Install {
		return fmt.Sprintf("unit %s: bad [Install] section: %v", e.Unit, e.Err)
	}
	return fmt.Sprintf("unit %s cannot be parsed: %v", e.Unit, e.Err)
}

func (e *UnitError) Unwrap() error { return e.Err }

// ConflictError is a unit name another image provides with precedence.
type ConflictError struct {
	Unit, Winner, WinnerPath string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("unit %s is also provided by image %s (%s), which takes precedence", e.Unit, e.Winner, e.WinnerPath)
}

// Describe turns why an image is skipped into the reason an admin reads:
// the one place errors become text. Reader errors say which kind they are
// (corrupt, unsupported, too much work) before their detail.
func Describe(err error) string {
	var osr *host.OSReleaseError
	if errors.As(err, &osr) {
		return "cannot read os-release: " + Describe(osr.Err)
	}
	switch {
	case errors.Is(err, dissect.ErrUnsupported):
		return "unsupported image: " + err.Error()
	case errors.Is(err, dissect.ErrBudget):
		return "image needs more work than allowed, refusing (hostile or broken?): " + err.Error()
	case errors.Is(err, dissect.ErrCorrupt), errors.Is(err, dissect.ErrLoop):
		return "corrupt image: " + err.Error()
	}
	return err.Error()
}
