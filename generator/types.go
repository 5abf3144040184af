package generator

import "github.com/portable-generator/portable-generator/dissect"

// SearchDirs are the portable image search directories, highest first.
var SearchDirs = []string{
	"/etc/portables",
	"/run/portables",
	"/var/lib/portables",
	"/usr/local/lib/portables",
	"/usr/lib/portables",
}

// Image states, as `list` shows them.
const (
	StateAttached   = "attached"
	StateShadowed   = "shadowed"
	StateSuperseded = "superseded"
	StateMasked     = "masked"
	StateSkipped    = "skipped"
)

// Entry is one thing found in a search directory that stands for an image.
type Entry struct {
	Name    string // image NAME: the file name without version and suffix
	Version string // "" when unversioned
	Rank    int    // index into SearchDirs
	Dir     string // the search directory, as seen inside the root
	// Path is the image as seen inside the root, symlinks resolved; for a
	// mask it is the mask's own path.
	Path string
	Kind dissect.Kind
	// Mask is set for a symlink to /dev/null. A mask without Version masks
	// NAME; with Version only that version.
	Mask bool
	// Problem, when set, is why the entry cannot be used (untrusted
	// ownership, unreadable); the image is skipped with it.
	Problem string
}

// Unit is a unit file found in an image.
type Unit struct {
	Name    string
	Content []byte
}

// Settings are what the admin configured for one image.
type Settings struct {
	Profile         string   // profile name; "" means "default"
	Enable          bool     // turn [Install] into enablement symlinks
	Match           []string // prefixes replacing the derived one
	AllowDirectives []string // directives the image's units may use although they widen the profile
	Source          string   // the per-image settings file, "" if none
	Problem         string   // a bad value: the image is skipped with it
	Warnings        []string // unknown keys and the like
}

// Image is a chosen entry with what was read from it.
type Image struct {
	Entry
	Settings Settings
	// Profile is the content of the profile's service.conf, nil with
	// ProfileProblem set when the profile does not exist.
	Profile        []byte
	ProfileProblem string
	OSRelease      map[string]string
	// Units are the image's unit files whose names match its prefixes, in
	// lookup order, the first of each name only.
	Units []Unit
	// Architectures of the image's root and usr partitions (raw images).
	Architectures []string
	Verity        *dissect.Verity
	// Problem is why reading the image failed; it is skipped with it.
	Problem string
}

// Host is what the generator knows of the machine it runs for.
type Host struct {
	// VendorUnits maps unit names found in vendor and portablectl unit
	// directories to the directory: an image unit of that name conflicts.
	VendorUnits map[string]string
	// AdminUnits maps unit names the admin placed in /etc/systemd/system or
	// /run/systemd/system (files or masks) to their path: they override ours.
	AdminUnits map[string]string
	// SystemdVersion decides version-dependent lines; 0 means the newest.
	SystemdVersion int
	// Architecture is the native architecture in systemd's naming.
	Architecture string
}

// File is one file or symlink of the output, relative to the output
// directory.
type File struct {
	Image string // the image NAME the file belongs to, "" for the generator's own
	Path  string
	Data  []byte // content of a regular file
	Link  string // target of a symlink (Data is then nil)
}

// Report says what became of one image NAME.
type Report struct {
	Name    string   `json:"name"`
	State   string   `json:"state"`
	Path    string   `json:"path"`
	Profile string   `json:"profile"`
	Units   []string `json:"units"`
	Reason  string   `json:"reason"`
	// Notices are remarks that do not stop the image (an admin override,
	// an unknown settings key).
	Notices []string `json:"notices,omitempty"`
}

// Output is the generator's whole result.
type Output struct {
	// Files in the order they must be written: per image, drop-ins first,
	// then unit files, then symlinks.
	Files   []File
	Reports []Report
	// Warnings are problems that belong to no one image, such as a search
	// directory that cannot be read.
	Warnings []string
}
