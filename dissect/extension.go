package dissect

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/portable-generator/portable-generator/internal/boolean"
)

// ExtensionClass is what an extension image extends: the OS tree's /usr
// and /opt (a system extension) or its /etc (a configuration extension).
type ExtensionClass string

const (
	Sysext  ExtensionClass = "sysext"
	Confext ExtensionClass = "confext"
)

// releaseDir is where an extension class keeps its release files, inside
// the image.
func (c ExtensionClass) releaseDir() string {
	if c == Confext {
		return "etc/extension-release.d"
	}
	return "usr/lib/extension-release.d"
}

// How an extension's release file was found (ExtensionRelease.Match).
const (
	MatchExact     = "name"         // extension-release.NAME
	MatchImageName = "image-name"   // extension-release.IMAGE, NAME without its version
	MatchRelaxed   = "strict-xattr" // user.extension-release.strict=false on the file
)

// StrictXattr is the attribute with which an image author allows the
// release file to carry another name than the image's.
const StrictXattr = "user.extension-release.strict"

// Features of the extension rules that came with a systemd version.
const (
	versionConfext       = 255 // confexts; .sysext.raw and .confext.raw suffixes
	versionImageNameFile = 256 // extension-release.IMAGE accepted for IMAGE_VERSION
	versionZstSuffix     = 258 // .zst stripped from names
	versionIDLike        = 258 // an extension's ID may match the base's ID_LIKE
)

// Errors of the extension lookup; errors.Is tells them apart.
var (
	// ErrNoExtensionRelease: no release file fits the extension's name.
	// The error returned also matches fs.ErrNotExist.
	ErrNoExtensionRelease = errors.New("no extension-release file")
	// ErrAmbiguousExtensionRelease: more than one file would do, and
	// systemd refuses to pick one.
	ErrAmbiguousExtensionRelease = errors.New("more than one extension-release file fits")
	// ErrExtensionOSRelease: a raw extension ships /usr/lib/os-release,
	// which would replace the base's; systemd refuses to mount it.
	ErrExtensionOSRelease = errors.New("a raw extension image must not contain /usr/lib/os-release")
)

// noReleaseError says which name and directories were looked at.
type noReleaseError struct {
	name      string
	dirs      []string
	imageRule bool
}

func (e *noReleaseError) Error() string {
	how := "by that name"
	if e.imageRule {
		how = "by that name, by the name without its version"
	}
	return fmt.Sprintf("no extension-release file for %q in /%s (looked %s, or for one flagged %s=false)",
		e.name, strings.Join(e.dirs, " or /"), how, StrictXattr)
}

func (e *noReleaseError) Is(target error) bool {
	return target == ErrNoExtensionRelease || target == fs.ErrNotExist
}

// ExtensionRelease is an extension image's release file.
type ExtensionRelease struct {
	Class  ExtensionClass
	Path   string // in the image, e.g. "/usr/lib/extension-release.d/extension-release.app0"
	Match  string // MatchExact, MatchImageName or MatchRelaxed
	Fields map[string]string
	Keys   []string // the fields' keys in file order
}

// ExtensionName is the name systemd looks an extension's release file up
// by: the image file's name without the suffixes the given systemd version
// strips (".raw" and compression suffixes, repeatedly), a directory's name
// as it is. systemdVersion 0 means the newest.
func ExtensionName(imagePath string, kind Kind, systemdVersion int) string {
	name := path.Base(strings.TrimRight(imagePath, "/"))
	if kind == KindDirectory {
		return name
	}
	suffixes := []string{".xz", ".gz", ".bz2", ".raw", ".qcow2", ".img", ".bin"}
	if atLeast(systemdVersion, versionConfext) {
		suffixes = append(suffixes, ".sysext.raw", ".confext.raw")
	}
	if atLeast(systemdVersion, versionZstSuffix) {
		suffixes = append(suffixes, ".zst")
	}
	for changed := true; changed; {
		changed = false
		// The longer suffix first: ".sysext.raw" before ".raw".
		for _, s := range []int{1, 0} {
			for _, sfx := range suffixes {
				if (strings.Count(sfx, ".") > 1) == (s == 1) && strings.HasSuffix(name, sfx) && len(name) > len(sfx) {
					name, changed = strings.TrimSuffix(name, sfx), true
				}
			}
		}
	}
	return name
}

// ImageNameOf cuts an extension name at its version or counter: the name
// before the first '_' or '+' ("app0_1.0" is image "app0").
func ImageNameOf(name string) string {
	if i := strings.IndexAny(name, "_+"); i >= 0 {
		return name[:i]
	}
	return name
}

func atLeast(systemdVersion, feature int) bool {
	return systemdVersion == 0 || systemdVersion >= feature
}

// ExtensionRelease finds and reads the release file of an extension named
// name (see ExtensionName), as the given systemd version finds it
// (0: the newest): for each class it supports, system extension first,
// the file extension-release.NAME; failing that, the one regular file in
// the class's directory named after the image name without its version
// (systemd 256 and later) or carrying user.extension-release.strict=false.
// A raw image shipping /usr/lib/os-release is refused first, as systemd
// refuses to mount it as an extension.
func (img *Image) ExtensionRelease(name string, systemdVersion int) (*ExtensionRelease, error) {
	none := &noReleaseError{name: name, imageRule: atLeast(systemdVersion, versionImageNameFile)}
	if !validImageName(name) {
		return nil, fmt.Errorf("extension name %q is not a valid image name: %w", name, none)
	}
	if img.Kind == KindRaw {
		switch _, err := fs.Stat(img.FS(), "usr/lib/os-release"); {
		case err == nil:
			return nil, ErrExtensionOSRelease
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
	}
	classes := []ExtensionClass{Sysext}
	if atLeast(systemdVersion, versionConfext) {
		classes = append(classes, Confext)
	}
	for _, c := range classes {
		none.dirs = append(none.dirs, c.releaseDir())
		r, err := img.findRelease(c, name, systemdVersion)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return r, err
	}
	return nil, none
}

// findRelease looks for the release file of one class.
func (img *Image) findRelease(c ExtensionClass, name string, systemdVersion int) (*ExtensionRelease, error) {
	exact := c.releaseDir() + "/extension-release." + name
	if r, err := img.readRelease(c, exact, MatchExact); !errors.Is(err, fs.ErrNotExist) {
		return r, err
	}
	ents, err := fs.ReadDir(img.FS(), c.releaseDir())
	if err != nil {
		if errors.Is(err, fs.ErrInvalid) { // not a directory
			err = fmt.Errorf("%s: %w", c.releaseDir(), fs.ErrNotExist)
		}
		return nil, err
	}
	// The directory is resolved once: its entries are then looked up
	// below where it ends, without following them.
	dir, err := img.Resolve(c.releaseDir())
	if err != nil {
		return nil, err
	}
	dir = strings.TrimPrefix(dir, "/")
	image := ImageNameOf(name)
	var found *ExtensionRelease
	for _, e := range ents {
		suffix, ok := strings.CutPrefix(e.Name(), "extension-release.")
		if !ok || !validImageName(suffix) || !e.Type().IsRegular() {
			continue
		}
		p := path.Join(dir, e.Name())
		match := ""
		switch {
		case suffix == image && atLeast(systemdVersion, versionImageNameFile):
			match = MatchImageName
		case img.relaxed(p):
			match = MatchRelaxed
		default:
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%w: /%s and /%s", ErrAmbiguousExtensionRelease, strings.TrimPrefix(found.Path, "/"), p)
		}
		if found, err = img.readRelease(c, p, match); err != nil {
			return nil, err
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%s: %w", c.releaseDir(), fs.ErrNotExist)
	}
	return found, nil
}

// relaxed says whether the file at p carries
// user.extension-release.strict=false. Like systemd, an attribute that is
// absent, unreadable or not a boolean keeps the check strict.
func (img *Image) relaxed(p string) bool {
	v, err := img.tree.Xattr(p, StrictXattr)
	if err != nil {
		return false
	}
	b, ok := boolean.Parse(string(v))
	return ok && !b
}

// readRelease reads and parses one release file.
func (img *Image) readRelease(c ExtensionClass, p, match string) (*ExtensionRelease, error) {
	b, err := fs.ReadFile(img.FS(), p)
	if err != nil {
		return nil, err
	}
	fields, keys, err := img.envSyntax().parse(b)
	if err != nil {
		return nil, fmt.Errorf("/%s: %w", p, err)
	}
	resolved, err := img.Resolve(p)
	if err != nil {
		resolved = "/" + p
	}
	return &ExtensionRelease{Class: c, Path: resolved, Match: match, Fields: fields, Keys: keys}, nil
}

// validImageName is systemd's image_name_is_valid: a file name (not "."
// or "..", no "/", at most 255 bytes) of valid UTF-8 without control
// characters, not a temporary ".#" file.
func validImageName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 || strings.ContainsRune(s, '/') || strings.HasPrefix(s, ".#") {
		return false
	}
	for _, c := range []byte(s) {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}
