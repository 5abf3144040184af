package generator

import (
	"context"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/plan"
)

// Config is how one run is set up.
type Config struct {
	// Root is the tree everything is read from, as if it were "/".
	Root string
	// SystemdVersion overrides the version read from the root; 0 reads it.
	SystemdVersion int
	// Architecture overrides the native architecture; "" for this machine's.
	Architecture string
	// Parallelism bounds how many images are read at once; 0 means
	// defaultWorkers.
	Parallelism int

	// load replaces reading an image, for tests of the pipeline.
	load func(host.Entry) host.Image
}

// Generate reads the root and plans the output, in memory: the whole
// generator but for writing (list, inspect, --dry-run, tests). Its error is
// only about the root itself being unreadable.
func Generate(cfg Config) (Output, *Inventory, error) {
	return run(context.Background(), cfg, &memorySink{})
}

// Disabled reports why the generator must do nothing on this boot, "" if
// it should run: in the initrd ($SYSTEMD_IN_INITRD=1), or turned off on
// the kernel command line. getenv reads the environment systemd gave us.
func Disabled(rootDir string, getenv func(string) string) string {
	if getenv("SYSTEMD_IN_INITRD") == "1" {
		return "running in the initrd: portable images are attached on the host"
	}
	root, err := host.OpenRoot(rootDir)
	if err == nil && root.KernelDisabled(getenv) {
		return "portable_generator.enable=0 on the kernel command line"
	}
	return ""
}

// LogOutput logs the run's warnings and one line per image.
func LogOutput(l *Logger, out Output) {
	for _, w := range out.Warnings {
		l.Logf(LevelWarning, "%s", w)
	}
	LogReports(l, out.Reports)
}

// LogReports logs the verdicts as DESIGN.md asks: quiet on success. A
// skipped image and an image's warnings are logged at warning priority, one
// line each ("NAME: PATH: reason"); attachments, notices and the other
// states at debug.
func LogReports(l *Logger, reports []Report) {
	for _, r := range reports {
		switch r.State {
		case StateAttached:
			l.Logf(LevelDebug, "%s: %s: attached %s with profile %s", r.Name, r.Path, strings.Join(r.Units, " "), r.Profile)
		case StateSkipped:
			l.Logf(LevelWarning, "%s: %s: skipped: %s", r.Name, r.Path, r.Reason)
		default:
			l.Logf(LevelDebug, "%s: %s: %s: %s", r.Name, r.Path, r.State, r.Reason)
		}
		for _, w := range r.Warnings {
			l.Logf(LevelWarning, "%s: %s: %s", r.Name, r.Path, w)
		}
		for _, n := range r.Notices {
			l.Logf(LevelDebug, "%s: %s: %s", r.Name, r.Path, n)
		}
	}
}

// FilesOf returns the files of the named images, for --dry-run NAME...
func FilesOf(files []File, names []string) []File {
	if len(names) == 0 {
		return files
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []File
	for _, f := range files {
		if want[f.Image] {
			out = append(out, f)
		}
	}
	return out
}

// ReportsOf returns the reports for one NAME, attached first.
func ReportsOf(reports []Report, name string) []Report {
	var out []Report
	for _, r := range reports {
		if r.Name == name {
			out = append(out, r)
		}
	}
	plan.SortReports(out)
	return out
}

// SystemdVersion is the version of the systemd installed in the tree at
// rootDir (0 when none is found), as the generator renders for it.
func SystemdVersion(rootDir string) int {
	root, err := host.OpenRoot(rootDir)
	if err != nil {
		return 0
	}
	return root.SystemdVersion()
}
