package main

import (
	"os"
	"runtime/debug"
)

// tuneGC trades memory a run can afford for collector work. A run
// allocates several times what it keeps (each image's metadata is read
// and dropped in turn), and at Go's default of collecting whenever the
// heap doubles, a thousand images spend a fifth of their CPU time in the
// collector. Collecting at five times the live heap, with a soft limit of
// 48 MiB, keeps such a run near 40 MiB of RSS. GOGC and GOMEMLIMIT in the
// environment still win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(48 << 20)
	}
}
