package generator

import (
	"runtime"
	"strings"
	"sync"

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
	// Parallelism bounds how many images are read at once; 0 means one per CPU.
	Parallelism int
}

// Generate reads the root and plans the output: the whole generator but for
// writing. Its error is only about the root itself being unreadable.
func Generate(cfg Config) (Output, *Inventory, error) {
	root, err := host.OpenRoot(cfg.Root)
	if err != nil {
		return Output{}, nil, err
	}
	inv := root.ReadInventory(cfg.SystemdVersion, cfg.Architecture)
	entries, dirProblems := root.Scan(inv.Architecture)
	chosen, lost := plan.Select(entries)
	global := root.GlobalSettings()
	profiles := host.NewProfiles(root, inv.SystemdVersion)
	images := make([]host.Image, len(chosen))
	workers := cfg.Parallelism
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				img, more := loadNewestReadable(root, chosen[i], global, profiles)
				images[i] = img
				mu.Lock()
				lost = append(lost, more...)
				mu.Unlock()
			}
		}()
	}
	for i := range chosen {
		next <- i
	}
	close(next)
	wg.Wait()
	out := plan.Plan(images, lost, inv)
	out.Warnings = append(dirProblems, out.Warnings...)
	if late := root.LateSearchDirs(); len(late) > 0 {
		out.Files = append(out.Files, plan.LateFiles(late)...)
	}
	return out, inv, nil
}

// loadNewestReadable loads the newest candidate of a NAME; while it cannot
// be read (damaged, half copied, unreadable), the next newest is tried, so a
// broken upgrade never costs the version that runs. The reports say what
// became of the others: skipped for the unreadable, superseded for the older.
func loadNewestReadable(root host.Root, cands plan.Candidates, global host.Settings, profiles *host.Profiles) (host.Image, []plan.Report) {
	var reports []plan.Report
	for i, e := range cands {
		img := root.Load(e, global, profiles)
		if !plan.Unreadable(&img) || i == len(cands)-1 {
			if len(reports) > 0 {
				img.Settings.Warnings = append(img.Settings.Warnings, plan.FallbackNotice(reports))
			}
			return img, append(reports, plan.Superseded(cands[i+1:], e.Path)...)
		}
		reports = append(reports, plan.Unattached(&img))
	}
	panic("loadNewestReadable: no candidates")
}

// Disabled reports why the generator must do nothing on this boot, "" if
// it should run: in the initrd, or turned off on the kernel command line.
func Disabled(rootDir string, inInitrd bool) string {
	if inInitrd {
		return "running in the initrd: portable images are attached on the host"
	}
	root, err := host.OpenRoot(rootDir)
	if err == nil && root.KernelDisabled() {
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
