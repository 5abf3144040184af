package generator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/plan"
)

// DefaultDeadline bounds a whole run. PID 1 gives all generators together
// one budget, DEFAULT_TIMEOUT_SEC (90 s unless systemd was built
// otherwise), and kills them when it runs out; ending our own run at a
// third of it leaves the other generators and a slow disk their share, and
// whatever we planned by then is written. The work budgets of package
// dissect make a hostile image cost milliseconds; the deadline is the
// backstop for what budgets cannot see (a disk that stalls, a machine
// starved of CPU).
const DefaultDeadline = 30 * time.Second

// ErrDeadline is an image not read before the run's deadline.
var ErrDeadline = errors.New("not read before the run's deadline")

// deadlineError says which deadline passed.
type deadlineError struct{ after time.Duration }

func (e *deadlineError) Error() string {
	return fmt.Sprintf("not read: the run reached its deadline (%s) first, so this image is not attached in this run (the next reload tries again)", e.after)
}
func (e *deadlineError) Is(target error) bool { return target == ErrDeadline }

// sink receives each planned image, from one goroutine, in the order they
// finish, and then finish once. replan reads and plans the image again,
// for a sink that lets go of an image's files before it knows whether to
// write them (streamSink, contested images).
type sink interface {
	add(p *plan.Planned, replan func() *plan.Planned)
	// keepsGrants reports whether an image added so far needs KeepUnit.
	keepsGrants() bool
	// finish ends the run. Work it does stops once overdue returns an
	// error: the run's deadline passed.
	finish(overdue func() error, extra []File) (planned []*plan.Planned, warnings []string)
}

// prefetchAhead is how many images ahead of the workers the pipeline asks
// the kernel to read an image's superblock and tables (dissect.Prefetch):
// at boot the page cache is cold and each worker waits on one dependent
// read after another; the hints keep more reads in flight than workers.
const prefetchAhead = 16

// prefetchers is how many hints are given at once. Each waits for the
// image's first 4.5 KiB, which says where its tables are: given one after
// another, the hints fell behind the workers on a cold disk (1,000 images
// cold: 1,166 ms with one, 1,095 with eight, median of 7).
const prefetchers = 8

// defaultWorkers is how many images are read at once, whatever the number
// of CPUs: at boot the cache is cold, and each worker spends most of an
// image waiting on one dependent read after another (superblock, tables,
// the fragment that holds the units), so more reads in flight than CPUs
// keep the disk busy (20 images cold on 2 CPUs: 75 ms with 4 workers, 69
// with 8, median of 9; warm runs the same). At most 8, so that the images
// in flight (each bounded by dissect's per-image memory budget) bound the
// run's memory.
const defaultWorkers = 8

// imagesAhead is how many images may be read or planned but not yet handed
// to the sink, for workers workers. The sink writes one image at a time:
// when writing is slower than reading (a slow output disk, large units),
// the images waiting for it would otherwise pile up, every one with its
// unit files, and memory would grow with the number of images.
func imagesAhead(workers int) int { return 2 * workers }

// run is the generator's pipeline: read the host, select the entries,
// then load and plan each image on workers, handing each planned image to
// the sink as soon as it is ready, so that memory holds the images in
// flight, not all of them. Images not planned when ctx ends are skipped
// with ErrDeadline, and the sink finishes with what was planned.
func run(ctx context.Context, cfg Config, out sink) (Output, *Inventory, error) {
	start := time.Now() // the deadline counts reading the host too
	root, err := host.OpenRoot(cfg.Root)
	if err != nil {
		return Output{}, nil, err
	}
	defer root.Close()
	version, arch := cfg.SystemdVersion, cfg.Architecture
	if version == 0 {
		version = root.SystemdVersion()
	}
	if arch == "" {
		arch = dissect.NativeArchitecture()
	}
	// The host inventory is needed to plan, not to read images: it is
	// read while the workers read the first images, so that at boot, with
	// a cold cache, the two wait on the disk together.
	var inv *host.Inventory
	invRead := make(chan struct{})
	go func() {
		defer close(invRead)
		inv = root.ReadInventory(version, arch)
	}()
	defer func() { <-invRead }() // before the root closes
	entries, dirProblems, unread := root.Scan(arch)
	chosen, lost := plan.Select(entries)
	global := root.GlobalSettings()
	profiles := host.NewProfiles(root, version)
	workers := cfg.Parallelism
	if workers <= 0 {
		workers = defaultWorkers
	}
	load := cfg.load
	if load == nil {
		load = func(e host.Entry) host.Image { return root.Load(e, global, profiles) }
	}
	ahead := newOpenedAhead(len(chosen))
	defer ahead.closeAll()
	// loadOpened loads the first (newest) candidate of image i from the
	// file its hint opened, if it did.
	loadOpened := func(i int) func(host.Entry) host.Image {
		f := ahead.take(i)
		if cfg.load != nil || f == nil {
			if f != nil {
				f.Close()
			}
			return load
		}
		return func(e host.Entry) host.Image {
			g := f
			f = nil
			return root.LoadFile(e, g, global, profiles)
		}
	}

	type result struct {
		i    int
		p    *plan.Planned
		more []plan.Report
	}
	// Buffered for every image: a worker finishing after the deadline
	// never blocks, and is simply not waited for.
	results := make(chan result, len(chosen))
	jobs := make(chan int)
	// A slot per image read but not yet taken by the sink: taken before a
	// job is handed out, given back once the sink has the image.
	slots := make(chan struct{}, imagesAhead(workers))
	layers := layerLoader(root, load, chosen, profiles, version, arch)
	planImage := func(i int, parses plan.ProfileParses) (*plan.Planned, []plan.Report) {
		img, more := loadNewestReadable(loadOpened(i), chosen[i])
		layers(&img)
		<-invRead
		return plan.Image(&img, inv, parses), more
	}
	for w := 0; w < workers; w++ {
		go func() {
			parses := plan.ProfileParses{}
			for i := range jobs {
				p, more := planImage(i, parses)
				results <- result{i, p, more}
			}
		}()
	}
	type hintOf struct {
		i    int
		path string
	}
	hints := make(chan hintOf, prefetchAhead)
	for range prefetchers {
		go func() {
			for h := range hints {
				if f, _ := dissect.PrefetchFile(h.path); f != nil {
					ahead.put(h.i, f)
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		defer close(hints)
		hint := func(i int) {
			if i >= len(chosen) || chosen[i][0].Kind != dissect.KindRaw {
				return
			}
			if p, err := root.HostPath(chosen[i][0].Path, true); err == nil {
				select {
				case hints <- hintOf{i, p}:
				default: // the hints are behind: this one comes too late to help
				}
			}
		}
		for i := range min(prefetchAhead, len(chosen)) {
			hint(i)
		}
		for i := range chosen {
			hint(i + prefetchAhead)
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	done := make([]bool, len(chosen))
	take := func(r result) {
		done[r.i] = true
		lost = append(lost, r.more...)
		out.add(r.p, func() *plan.Planned {
			p, _ := planImage(r.i, plan.ProfileParses{})
			return p
		})
		<-slots
	}
collect:
	for n := 0; n < len(chosen); n++ {
		select {
		case r := <-results:
			take(r)
		case <-ctx.Done():
			// What finished by now is used, whichever case select saw first.
			for {
				select {
				case r := <-results:
					take(r)
				default:
					break collect
				}
			}
		}
	}
	overdue := func() error {
		if ctx.Err() == nil {
			return nil
		}
		return &deadlineError{after: time.Since(start).Round(time.Millisecond)}
	}
	for i, d := range done {
		if !d {
			e := chosen[i][0]
			err := &deadlineError{after: time.Since(start).Round(time.Millisecond)}
			lost = append(lost, plan.Report{Name: e.Name, State: plan.StateSkipped, Path: e.Path, Err: err, Reason: plan.Describe(err)})
		}
	}
	var extra []File
	if late := root.LateSearchDirs(); len(late) > 0 {
		extra = append(extra, plan.LateFiles(late)...)
	}
	if out.keepsGrants() {
		extra = append(extra, plan.KeepFiles()...)
	}
	planned, warnings := out.finish(overdue, extra)
	plan.MarkLayerRoles(planned)
	output := plan.Assemble(planned, lost)
	output.Files = append(output.Files, extra...)
	output.Warnings = append(append(dirProblems, output.Warnings...), warnings...)
	output.Unread = unread
	<-invRead
	return output, inv, nil
}

// loadNewestReadable loads the newest candidate of a NAME; while it cannot
// be read (damaged, half copied, unreadable), the next newest is tried, so a
// broken upgrade never costs the version that runs. The reports say what
// became of the others: skipped for the unreadable, superseded for the older.
//
// At most maxVersionsTried versions are read: empty files cost nothing to
// make, and a NAME.v holding thousands of them kept a reader busy well past
// the run's deadline (one per reader cost every other image its
// attachment). The versions past it are reported as not tried.
func loadNewestReadable(load func(host.Entry) host.Image, cands plan.Candidates) (host.Image, []plan.Report) {
	var reports []plan.Report
	for i, e := range cands {
		img := load(e)
		switch {
		case !plan.Unreadable(&img) || i == len(cands)-1:
			if len(reports) > 0 {
				img.Settings.Warnings = append(img.Settings.Warnings, plan.FallbackNotice(reports))
			}
			return img, append(reports, plan.Superseded(cands[i+1:], e.Path)...)
		case i == maxVersionsTried-1:
			return img, append(reports, plan.NotTried(cands[i+1:], maxVersionsTried)...)
		}
		reports = append(reports, plan.Unattached(&img))
	}
	panic("loadNewestReadable: no candidates")
}

// maxVersionsTried bounds the versions of one NAME read in a run: an
// honest image falls back a version or two.
const maxVersionsTried = 8

// layerLoader returns what puts together an image layered over a base or
// with extensions (host.LoadLayers). Each worker reads the layers it needs
// itself, the chosen version of a NAME as that NAME's own worker picks it,
// so no image waits for another: a base is a few KB read again per app.
func layerLoader(root host.Root, load func(host.Entry) host.Image, chosen []plan.Candidates, profiles *host.Profiles, systemdVersion int, arch string) func(*host.Image) {
	byName := make(map[string]plan.Candidates, len(chosen))
	for _, c := range chosen {
		byName[c[0].Name] = c
	}
	resolve := func(name string) (*host.Image, bool) {
		c, ok := byName[name]
		if !ok {
			return nil, false
		}
		img, _ := loadNewestReadable(load, c)
		return &img, true
	}
	return func(img *host.Image) {
		if s := img.Settings; (s.Base != "" || len(s.Extensions) > 0) && img.Err == nil && s.Err == nil {
			root.LoadLayers(img, resolve, profiles, systemdVersion, arch)
		}
	}
}

// memorySink keeps every planned image for an answer in memory (list,
// inspect, --dry-run): conflicts are settled over all of them at the end.
type memorySink struct{ all []*plan.Planned }

func (m *memorySink) add(p *plan.Planned, _ func() *plan.Planned) { m.all = append(m.all, p) }

func (m *memorySink) keepsGrants() bool {
	for _, p := range m.all {
		if p.KeepsGrants() {
			return true
		}
	}
	return false
}

func (m *memorySink) finish(func() error, []File) ([]*plan.Planned, []string) {
	plan.SettleConflicts(m.all)
	return m.all, nil
}
