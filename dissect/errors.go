package dissect

import "github.com/portable-generator/portable-generator/dissect/internal/vfs"

// Error kinds; see the package documentation.
var (
	ErrCorrupt     = vfs.ErrCorrupt
	ErrUnsupported = vfs.ErrUnsupported
	ErrBudget      = vfs.ErrBudget
	ErrLoop        = vfs.ErrLoop
)

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
