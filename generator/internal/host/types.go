package host

import "github.com/portable-generator/portable-generator/dissect"

// SearchDirs are the portable image search directories, highest first.
var SearchDirs = []string{
	"/etc/portables",
	"/run/portables",
	"/var/lib/portables",
	"/usr/local/lib/portables",
	"/usr/lib/portables",
}

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
	// Identity tells this file apart from another at the same path (its
	// device, inode, size and modification time), set when it is loaded.
	Identity string
	// Err, when set, is why the entry cannot be used (untrusted
	// ownership, an unresolvable symlink); the image is skipped with it.
	Err error
}

// Unit is a unit file found in an image.
type Unit struct {
	Name    string
	Content []byte
}

// Image is a chosen entry with what was read from it and for it.
type Image struct {
	Entry
	Settings Settings
	// Profile is the content of the profile's service.conf; ProfileErr is
	// set instead when the profile cannot be had.
	Profile    []byte
	ProfileErr error
	// OSRelease is nil when the image has none.
	OSRelease map[string]string
	// Units are the image's unit files whose names match its prefixes, in
	// lookup order, the first of each name only.
	Units []Unit
	// Architectures of the image's root and usr partitions (raw images).
	Architectures []string
	Verity        *dissect.Verity
	// Err is why reading the image failed; it is skipped with it.
	Err error
}

// Prefixes returns the unit-name prefixes an image is matched with: the
// admin's Match=, else its NAME (portablectl's derived prefix).
func (img *Image) Prefixes() []string {
	if len(img.Settings.Match) > 0 {
		return img.Settings.Match
	}
	return []string{img.Name}
}

// ProfileName is the profile the image runs under.
func (img *Image) ProfileName() string {
	if img.Settings.Profile == "" {
		return "default"
	}
	return img.Settings.Profile
}
