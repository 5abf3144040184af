package plan

import (
	"slices"

	"github.com/portable-generator/portable-generator/dissect"
)

// runsOn reports whether a machine of architecture native runs the
// binaries of one of archs: its own, or its secondary (x86 on x86-64).
func runsOn(archs []string, native string) bool {
	second := dissect.SecondaryArchitecture(native)
	return slices.Contains(archs, native) || second != "" && slices.Contains(archs, second)
}
