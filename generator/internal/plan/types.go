package plan

import (
	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/policy"
)

// State is what became of an image entry, as `list` shows it.
type State string

// Image states.
const (
	StateAttached   State = "attached"
	StateShadowed   State = "shadowed"
	StateSuperseded State = "superseded"
	StateMasked     State = "masked"
	StateSkipped    State = "skipped"
)

// order ranks states for listing: the attached entry of a NAME first.
func (s State) order() int {
	switch s {
	case StateAttached:
		return 0
	case StateBase, StateExtension:
		return 1
	case StateSkipped:
		return 2
	case StateSuperseded:
		return 3
	case StateShadowed:
		return 4
	}
	return 5
}

// File is one file or symlink of the output, relative to the output
// directory.
type File struct {
	Image string // the image NAME the file belongs to, "" for the generator's own
	Path  string
	Data  []byte // content of a regular file
	Link  string // target of a symlink (Data is then nil)
}

// Report says what became of one image entry.
type Report struct {
	Name    string   `json:"name"`
	State   State    `json:"state"`
	Path    string   `json:"path"`
	Profile string   `json:"profile"`
	Units   []string `json:"units"`
	// Reason says why the entry is not attached, for people; Err is the
	// same as an error, for code (errors.Is).
	Reason string `json:"reason"`
	Err    error  `json:"-"`
	// Warnings are problems that do not stop the image but that the admin
	// must see on every run: an unknown settings key, a newer version
	// that could not be read.
	Warnings []string `json:"warnings,omitempty"`
	// Notices are remarks that do not stop the image (a masked unit, an
	// [Install] line left out).
	Notices []string `json:"notices,omitempty"`
	// Grants are the host paths the image's units claim (state file).
	Grants []string `json:"grants,omitempty"`
	// Digests are the digests of what was written for each unit of Units,
	// in its order, and the image it runs from (state file, reconcile). A
	// slice, not a map: a run keeps every image's to its end, and 10,000
	// maps cost the collector a quarter of its room.
	Digests []string `json:"-"`
	// Refusals are every line of the image's units the policy refused,
	// each with what lifts it (set when that is why it is skipped).
	Refusals []policy.Violation `json:"refusals,omitempty"`
	// Layers are the images a layered attachment's tree is made of, the
	// base first; empty for an image attached on its own.
	Layers []LayerReport `json:"layers,omitempty"`
}

// LayerReport is one layer of an attachment, as list and inspect show it.
type LayerReport struct {
	Role string `json:"role"` // "base" or "extension"
	Name string `json:"name"`
	Path string `json:"path"`
	// Release is an extension's release file: where it was found, how
	// (by "name", "image-name" or "strict-xattr") and its KEY=VALUE lines.
	ReleasePath  string   `json:"releasePath,omitempty"`
	ReleaseMatch string   `json:"releaseMatch,omitempty"`
	Release      []string `json:"release,omitempty"`
	// VerityRootHash is the root hash PID 1 will verify the layer with,
	// "" without verity.
	VerityRootHash string `json:"verityRootHash,omitempty"`
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
	// Unread are the search directories that exist but could not be read:
	// the run did not see every image.
	Unread []string
}

// Candidates are the usable entries of one image NAME, newest first: the
// first that reads cleanly is attached, the others are superseded by it.
type Candidates []host.Entry
