//go:build integration

package integration

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// benchResult is everything one `just bench` measured; it is also the JSON.
type benchResult struct {
	Machine   machineInfo `json:"machine"`
	Mix       []benchKind `json:"mix"`
	Packages  []string    `json:"packages"`
	Images    imageSizes  `json:"images"`
	NsenterMS float64     `json:"nsenter_ms"`
	Rows      []benchRow  `json:"rows"`
	Reload    []reloadRow `json:"daemon_reload"`
	Targets   []target    `json:"targets"`
}

// target is one of issue 17's goals, judged in this run.
type target struct {
	What string `json:"what"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
}

type machineInfo struct {
	CPUs       int     `json:"cpus"`
	Kernel     string  `json:"kernel"`
	Systemd    string  `json:"systemd"`
	LoadBefore float64 `json:"load_before"` // one-minute load average
	LoadAfter  float64 `json:"load_after"`
}

type imageSizes struct {
	Count         int   `json:"count"`
	ApparentBytes int64 `json:"apparent_bytes"`
	Units         int   `json:"units"`
}

type benchRow struct {
	N        int                `json:"n"`
	Raw      int                `json:"raw_images"`
	Kinds    map[string]int     `json:"kinds"`
	Units    int                `json:"units"`
	Attached int                `json:"attached"`
	Skipped  map[string]int     `json:"skipped"`
	Inodes   int                `json:"output_inodes"`
	OursWarm runStats           `json:"ours_warm"`
	OursCold runStats           `json:"ours_cold"`
	PerKind  map[string]kindRow `json:"per_kind_warm"`
	// The floors: writing the same output alone, and replaying the same
	// reads alone with as many threads as CPUs (and 16, cold).
	WriteFloorMS    float64 `json:"write_floor_ms"`
	WriteFloorCPUMS float64 `json:"write_floor_cpu_ms"`
	ReplayWarmMS    float64 `json:"replay_warm_ms"`
	ReplayColdMS    float64 `json:"replay_cold_ms"`
	ReplayCold16MS  float64 `json:"replay_cold_16_threads_ms"`
	ReadOps         int64   `json:"read_calls"`
	ReadBytes       int64   `json:"read_bytes"`
	RereadBytes     int64   `json:"reread_bytes"` // of positional reads, covered by an earlier read of the same image
	// The kernel's way: each image loop-mounted, read and unmounted in turn.
	LoopWarmMS  float64    `json:"loop_warm_ms"`
	LoopColdMS  float64    `json:"loop_cold_ms"`
	DissectWarm *toolStats `json:"systemd_dissect_warm,omitempty"`
	DissectCold *toolStats `json:"systemd_dissect_cold,omitempty"`
	AttachWarm  *toolStats `json:"portablectl_attach_warm,omitempty"`
	DetachWarm  *toolStats `json:"portablectl_detach_warm,omitempty"`
}

// kindRow is the time per image of one kind, one image at a time: our
// readers against a loop mount, doing the same reads; and what our
// readers decompressed per image, by their own count.
type kindRow struct {
	Images          int     `json:"images"`
	OursUS          float64 `json:"ours_us"`
	LoopUS          float64 `json:"loop_us"`
	DecompressedKiB float64 `json:"decompressed_kib"`
}

// runStats is one generator run (the median of the repeated runs).
type runStats struct {
	WallMS          float64 `json:"wall_ms"`
	CPUMS           float64 `json:"cpu_ms"`
	MaxRSSMiB       float64 `json:"max_rss_mib"`
	ReadKiBPerImage float64 `json:"read_kib_per_image"` // through read(2): rchar
	DiskKiBPerImage float64 `json:"disk_kib_per_image"` // from storage: read_bytes
}

func runStatsOf(u usage, n int) runStats {
	return runStats{WallMS: ms(u.Wall), CPUMS: ms(u.CPU), MaxRSSMiB: float64(u.MaxRSS) / (1 << 20),
		ReadKiBPerImage: float64(u.RChar) / 1024 / float64(n), DiskKiBPerImage: float64(u.ReadBytes) / 1024 / float64(n)}
}

// toolStats is one pass of a reference tool over a set, one process per image.
type toolStats struct {
	Images          int     `json:"images"`
	WallMS          float64 `json:"wall_ms"`
	PerImageMS      float64 `json:"per_image_ms"`
	CPUMS           float64 `json:"cpu_ms"`
	ServiceCPUMS    float64 `json:"service_cpu_ms,omitempty"` // portabled's, for portablectl
	NsenterMS       float64 `json:"nsenter_ms,omitempty"`     // included per image, for portablectl, measured after the pass
	MaxRSSMiB       float64 `json:"max_rss_mib"`
	ReadKiBPerImage float64 `json:"read_kib_per_image"`
}

func toolStatsOf(u usage, n int) *toolStats {
	return &toolStats{Images: n, WallMS: ms(u.Wall), PerImageMS: ms(u.Wall) / float64(n), CPUMS: ms(u.CPU),
		MaxRSSMiB: float64(u.MaxRSS) / (1 << 20), ReadKiBPerImage: float64(u.RChar) / 1024 / float64(n)}
}

type reloadRow struct {
	Images      int     `json:"images"`
	TotalMS     float64 `json:"total_ms"`
	GeneratorMS float64 `json:"generator_ms"` // the generator alone on the same tree
	ManagerMS   float64 `json:"manager_ms"`   // the rest
}

func (r *benchResult) row(n int) *benchRow {
	for i := range r.Rows {
		if r.Rows[i].N == n {
			return &r.Rows[i]
		}
	}
	return nil
}

// dissectPerImageMS is systemd-dissect's time per image, from the largest
// set it ran on (its cost per image does not depend on N).
func (r *benchResult) dissectPerImageMS() (wall, cpu float64) {
	for _, row := range r.Rows {
		if row.DissectWarm != nil {
			wall, cpu = row.DissectWarm.PerImageMS, row.DissectWarm.CPUMS/float64(row.DissectWarm.Images)
		}
	}
	return wall, cpu
}

// judge checks issue 17's targets.
func (r *benchResult) judge() {
	add := func(what, want, got string, met bool) {
		r.Targets = append(r.Targets, target{What: what, Want: want, Got: got, Met: met})
	}
	if k := r.row(1000); k != nil {
		add("1000 images, warm", "<= 350 ms", fmt.Sprintf("%.0f ms", k.OursWarm.WallMS), k.OursWarm.WallMS <= 350)
		if d, c := r.dissectPerImageMS(); d > 0 {
			ratio := d / (k.OursWarm.WallMS / 1000)
			add("per image, systemd-dissect / ours (N=1000)", ">= 200x", fmt.Sprintf("%.0fx", ratio), ratio >= 200)
			ratio = c / (k.OursWarm.CPUMS / 1000)
			add("the same in CPU time", ">= 200x", fmt.Sprintf("%.0fx", ratio), ratio >= 200)
		}
		ratio := k.OursCold.WallMS / k.ReplayColdMS
		add("1000 images, cold / replay of its reads", "<= 1.3x", fmt.Sprintf("%.2fx", ratio), ratio <= 1.3)
		for kind, kr := range k.PerKind {
			if kr.LoopUS > 0 && kind != "directory" { // a directory is not mounted: its "loop" pass is plain reads
				add("per image, "+kind+": ours < loop mount", "< 1x", fmt.Sprintf("%.2fx", kr.OursUS/kr.LoopUS), kr.OursUS < kr.LoopUS)
			}
		}
	}
	if k := r.row(20); k != nil {
		add("20 images, cold: ours < loop mounts", "< 1x", fmt.Sprintf("%.2fx", k.OursCold.WallMS/k.LoopColdMS), k.OursCold.WallMS < k.LoopColdMS)
	}
	for _, row := range r.Rows {
		add(fmt.Sprintf("N=%d: every image attached", row.N), fmt.Sprint(row.N), fmt.Sprint(row.Attached), row.Attached == row.N)
	}
	if k, l := r.row(1000), r.row(10000); k != nil && l != nil {
		ratio := l.OursWarm.WallMS / k.OursWarm.WallMS
		add("10000 images / 1000, warm", "<= 11x", fmt.Sprintf("%.1fx", ratio), ratio <= 11)
		add("10000 images, max RSS", "<= 64 MiB", fmt.Sprintf("%.0f MiB", l.OursWarm.MaxRSSMiB), l.OursWarm.MaxRSSMiB <= 64)
	}
}

func (r *benchResult) print(w io.Writer) {
	fmt.Fprintf(w, "\nportable-generator bench: %d CPUs, Linux %s, %s; load average %.1f before, %.1f after\n",
		r.Machine.CPUs, r.Machine.Kernel, r.Machine.Systemd, r.Machine.LoadBefore, r.Machine.LoadAfter)
	var mix []string
	for _, k := range r.Mix {
		mix = append(mix, fmt.Sprintf("%s %d%%", k.Name, k.Percent))
	}
	fmt.Fprintf(w, "corpus: %d images, %d units, %.1f GiB as files; kinds: %s\n", r.Images.Count, r.Images.Units,
		float64(r.Images.ApparentBytes)/(1<<30), strings.Join(mix, ", "))
	fmt.Fprintf(w, "trees: %s\n", strings.Join(r.Packages, ", "))
	fmt.Fprintf(w, "ours: the generator as PID 1 runs it, output on tmpfs; floors and references measured in the same rounds; medians.\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "\t"
	for _, row := range r.Rows {
		header += fmt.Sprintf("N=%d\t", row.N)
	}
	fmt.Fprintln(tw, header)
	zeroShown := map[string]bool{"  re-read, % of bytes": true} // a measured 0, not a missing value
	line := func(label, format string, f func(benchRow) float64) {
		s := label + "\t"
		for _, row := range r.Rows {
			if v := f(row); v != 0 || zeroShown[label] {
				s += fmt.Sprintf(format+"\t", v)
			} else {
				s += "-\t"
			}
		}
		fmt.Fprintln(tw, s)
	}
	ref := func(f func(benchRow) *toolStats, g func(*toolStats) float64) func(benchRow) float64 {
		return func(row benchRow) float64 {
			if s := f(row); s != nil {
				return g(s)
			}
			return 0
		}
	}
	line("images attached", "%.0f", func(x benchRow) float64 { return float64(x.Attached) })
	line("units in them", "%.0f", func(x benchRow) float64 { return float64(x.Units) })
	line("output inodes", "%.0f", func(x benchRow) float64 { return float64(x.Inodes) })
	line("ours warm: wall ms", "%.1f", func(x benchRow) float64 { return x.OursWarm.WallMS })
	line("  CPU ms", "%.1f", func(x benchRow) float64 { return x.OursWarm.CPUMS })
	line("  max RSS MiB", "%.1f", func(x benchRow) float64 { return x.OursWarm.MaxRSSMiB })
	line("  read KiB/image", "%.1f", func(x benchRow) float64 { return x.OursWarm.ReadKiBPerImage })
	line("  read calls/image", "%.1f", func(x benchRow) float64 { return float64(x.ReadOps) / float64(x.N) })
	line("  re-read, % of bytes", "%.1f", func(x benchRow) float64 { return 100 * float64(x.RereadBytes) / float64(max(x.ReadBytes, 1)) })
	line("floor: writing the output, ms", "%.1f", func(x benchRow) float64 { return x.WriteFloorMS })
	line("floor: replaying our reads, ms", "%.1f", func(x benchRow) float64 { return x.ReplayWarmMS })
	line("loop mount each image, ms", "%.0f", func(x benchRow) float64 { return x.LoopWarmMS })
	line("ours cold: wall ms", "%.1f", func(x benchRow) float64 { return x.OursCold.WallMS })
	line("  from disk KiB/image", "%.1f", func(x benchRow) float64 { return x.OursCold.DiskKiBPerImage })
	line("replay cold, CPUs threads, ms", "%.1f", func(x benchRow) float64 { return x.ReplayColdMS })
	line("replay cold, 16 threads, ms", "%.1f", func(x benchRow) float64 { return x.ReplayCold16MS })
	line("cold / replay", "%.2fx", func(x benchRow) float64 { return x.OursCold.WallMS / x.ReplayColdMS })
	line("loop mount each image cold, ms", "%.0f", func(x benchRow) float64 { return x.LoopColdMS })
	line("systemd-dissect warm, ms/image", "%.1f", ref(func(x benchRow) *toolStats { return x.DissectWarm }, func(t *toolStats) float64 { return t.PerImageMS }))
	line("systemd-dissect cold, ms/image", "%.1f", ref(func(x benchRow) *toolStats { return x.DissectCold }, func(t *toolStats) float64 { return t.PerImageMS }))
	line("portablectl attach, ms/image", "%.1f", ref(func(x benchRow) *toolStats { return x.AttachWarm }, func(t *toolStats) float64 { return t.PerImageMS }))
	if d, c := r.dissectPerImageMS(); d > 0 {
		line("per image: dissect / ours, wall", "%.0fx", func(x benchRow) float64 { return d / (x.OursWarm.WallMS / float64(x.N)) })
		line("per image: dissect / ours, CPU", "%.0fx", func(x benchRow) float64 { return c / (x.OursWarm.CPUMS / float64(x.N)) })
	}
	tw.Flush()
	if big := r.Rows[len(r.Rows)-1]; len(big.PerKind) > 0 {
		fmt.Fprintf(w, "\nper image kind, one image at a time, warm (N=%d): our readers against a loop mount doing the same reads\n", big.N)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "kind\timages\tours µs\tloop µs\tloop / ours\tdecompressed KiB\t")
		for _, kind := range sortedKeys(big.PerKind) {
			k := big.PerKind[kind]
			fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.1fx\t%.0f\t\n", kind, k.Images, k.OursUS, k.LoopUS, k.LoopUS/k.OursUS, k.DecompressedKiB)
		}
		tw.Flush()
	}
	if len(r.Reload) > 0 {
		fmt.Fprintf(w, "\nsystemctl daemon-reload in the container (median of 3):\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "images\ttotal ms\tgenerator ms\tmanager ms\tgenerator's share\t")
		for _, x := range r.Reload {
			fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.0f\t%.0f%%\t\n", x.Images, x.TotalMS, x.GeneratorMS, x.ManagerMS, 100*x.GeneratorMS/x.TotalMS)
		}
		tw.Flush()
	}
	if len(r.Targets) > 0 {
		fmt.Fprintf(w, "\ntargets (issue 17):\n")
		for _, t := range r.Targets {
			mark := "MET"
			if !t.Met {
				mark = "not met"
			}
			fmt.Fprintf(w, "  %-48s want %-10s got %-8s %s\n", t.What, t.Want, t.Got, mark)
		}
	}
}
