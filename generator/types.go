package generator

import (
	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/plan"
)

// The generator's results, defined by the packages that make them.
type (
	File   = plan.File
	Report = plan.Report
	Output = plan.Output
	State  = plan.State
	// Inventory is what the run read of the host.
	Inventory = host.Inventory
)

// Image states, as `list` shows them.
const (
	StateAttached   = plan.StateAttached
	StateShadowed   = plan.StateShadowed
	StateSuperseded = plan.StateSuperseded
	StateMasked     = plan.StateMasked
	StateSkipped    = plan.StateSkipped
)

// SearchDirs are the portable image search directories, highest first.
var SearchDirs = host.SearchDirs

// LateUnit is the unit added when a search directory is not mounted yet.
const LateUnit = plan.LateUnit
