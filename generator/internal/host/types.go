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
	// Layer is where the unit came from in a layered attachment: 0 the
	// root, i the i-th of Layers.Extensions.
	Layer int
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
	// Release is the extension-release of an image without an
	// os-release, found by its own name: the image is an extension.
	Release *dissect.ExtensionRelease
	// ReleaseErr is why an image that a newer systemd would take as an
	// extension is none for the running one (a confext on 252).
	ReleaseErr error
	// Layers, for an attachment over a base (Base=) or with extensions
	// (Extensions=), are what its tree is made of; nil for an image
	// attached on its own. OSRelease, Architectures, Verity and Units are
	// then the layered tree's.
	Layers *Layers
	// Err is why reading the image failed; it is skipped with it.
	Err error
}

// Layers are the images an attachment's tree is made of.
type Layers struct {
	// Root is the base image: the image itself, or the one Base= names.
	Root Layer
	// Extensions are the layers over the root, in order: with Base=, the
	// image itself first, then those Extensions= names.
	Extensions []Layer
	// Err is why the layers cannot be put together (a name that resolves
	// to no image, an extension refused); the attachment is skipped with
	// it.
	Err error
}

// Layer is one image of a layered attachment.
type Layer struct {
	Name string // the image NAME; for an absolute reference, its file name
	Path string // as seen inside the root
	Kind dissect.Kind
	// Self is set for the layer that is the attachment's own image.
	Self bool
	// OSRelease is the root's os-release; Release an extension's
	// release file.
	OSRelease map[string]string
	Release   *dissect.ExtensionRelease
	// Verity is what PID 1 finds for the layer (for an extension, from the
	// sidecars beside it, which PID 1 reads itself).
	Verity *dissect.Verity
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
