package generator

import (
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/portable-generator/portable-generator/dissect"
)

// Config is how one run is set up.
type Config struct {
	// Root is the tree everything is read from, as if it were "/".
	Root string
	// SystemdVersion overrides the version read from the root; 0 reads it.
	SystemdVersion int
	// Architecture overrides the native architecture; "" for this machine's.
	Architecture string
	// Parallelism bounds how many images are read at once; 0 means one per CPU.
	Parallelism int
}

// Generate reads the root and plans the output: the whole generator but for
// writing. Its error is only about the root itself being unreadable.
func Generate(cfg Config) (Output, Host, error) {
	if cfg.Root == "" {
		cfg.Root = "/"
	}
	t, err := newTrust(cfg.Root)
	if err != nil {
		return Output{}, Host{}, err
	}
	host := Host{
		VendorUnits:    t.hostUnits(vendorUnitDirs),
		AdminUnits:     t.hostUnits(adminUnitDirs),
		SystemdVersion: cfg.SystemdVersion,
		Architecture:   cfg.Architecture,
	}
	if host.SystemdVersion == 0 {
		host.SystemdVersion = t.systemdVersion()
	}
	if host.Architecture == "" {
		host.Architecture = dissect.NativeArchitecture()
	}
	entries, dirProblems := t.Scan(host.Architecture)
	winners, lost := Select(entries)
	global := t.globalSettings()
	profiles := newProfileCache(t, host.SystemdVersion)
	images := make([]Image, len(winners))
	workers := cfg.Parallelism
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				images[i] = t.Load(winners[i], global, host, profiles)
			}
		}()
	}
	for i := range winners {
		next <- i
	}
	close(next)
	wg.Wait()
	out := Plan(images, lost, host)
	out.Warnings = append(dirProblems, out.Warnings...)
	if late := t.lateSearchDirs(); len(late) > 0 {
		out.Files = append(out.Files, lateFiles(late)...)
	}
	return out, host, nil
}

// Disabled reports why the generator must do nothing on this boot, "" if
// it should run: in the initrd, or turned off on the kernel command line.
func Disabled(root string, inInitrd bool) string {
	if inInitrd {
		return "running in the initrd: portable images are attached on the host"
	}
	t := trust{root: root}
	if t.kernelDisabled() {
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

// LogReports writes one line per attached or skipped image, notices, and
// the other states at debug level.
func LogReports(l *Logger, reports []Report) {
	for _, r := range reports {
		switch r.State {
		case StateAttached:
			l.Logf(LevelInfo, "%s: %s: attached %s with profile %s", r.Name, r.Path, strings.Join(r.Units, " "), r.Profile)
		case StateSkipped:
			l.Logf(LevelWarning, "%s: %s: skipped: %s", r.Name, r.Path, r.Reason)
		default:
			l.Logf(LevelDebug, "%s: %s: %s: %s", r.Name, r.Path, r.State, r.Reason)
		}
		for _, n := range r.Notices {
			l.Logf(LevelNotice, "%s: %s: %s", r.Name, r.Path, n)
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
	sort.SliceStable(out, func(i, j int) bool { return stateOrder(out[i].State) < stateOrder(out[j].State) })
	return out
}
