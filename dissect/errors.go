package dissect

import (
	"fmt"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// Error kinds; see the package documentation.
var (
	ErrCorrupt     = vfs.ErrCorrupt
	ErrUnsupported = vfs.ErrUnsupported
	ErrBudget      = vfs.ErrBudget
	ErrLoop        = vfs.ErrLoop
	// ErrFileTooLarge marks a file larger than an image's Limits.FileSize
	// (MaxFileSize by default): an os-release or unit file no honest
	// image ships, refused before it is read. It is also an ErrBudget.
	ErrFileTooLarge = vfs.ErrFileTooLarge
	// ErrTooManyUnits marks an image with more unit files for its
	// prefixes than MaxUnits. It is also an ErrBudget.
	ErrTooManyUnits = fmt.Errorf("%w: more unit files than an image may attach", vfs.ErrBudget)
)

// MaxUnits bounds the unit files one image (with its extensions) may
// attach. A real portable service has a handful (Debian's postgresql,
// eight); each unit is parsed, judged against the profile and checked
// against the image's other units, so an image of tens of thousands of
// tiny units, cheap to make and within every byte budget, would cost the
// boot seconds and hundreds of MB.
const MaxUnits = 1024

// MaxFileSize is the default Limits.FileSize, systemd's longest unit
// file line (see vfs.MaxFileSize).
const MaxFileSize = vfs.MaxFileSize

// FormatError reports corrupt input with the byte offset of the bad
// structure. errors.Is(err, ErrCorrupt) is true for it.
type FormatError = vfs.FormatError

// UnsupportedError names a feature we recognise but do not read.
// errors.Is(err, ErrUnsupported) is true for it.
type UnsupportedError = vfs.UnsupportedError

// Limits bound the work spent on one image; Stats report it.
type (
	Limits = vfs.Limits
	Stats  = vfs.Stats
)

// DefaultLimits are the limits Open uses.
var DefaultLimits = vfs.DefaultLimits
