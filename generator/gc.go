package generator

import (
	"os"
	"runtime/debug"
)

// TuneCollector trades memory a run can afford for collector work. A run
// allocates several times what it keeps (each image's metadata is read
// and dropped in turn), and at Go's default of collecting whenever the
// heap doubles, a thousand images spend a fifth of their CPU time in the
// collector. Collecting at five times the live heap, with a soft limit of
// 52 MiB, keeps a run of 1,000 images near 45 MiB of RSS and one of
// 10,000 (whose reports stay to the end) near 55 MiB; with 48 MiB, the
// latter collected a third more often and took 7% longer. GOGC and
// GOMEMLIMIT in the environment still win. The program calls it first;
// so does the run that writes the profile it is built with (just pgo).
func TuneCollector() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(52 << 20)
	}
}
