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
	Mix       []string    `json:"mix"`
	Images    imageSizes  `json:"images"`
	NsenterMS float64     `json:"nsenter_ms"`
	Rows      []benchRow  `json:"rows"`
	Reload    []reloadRow `json:"daemon_reload"`
	Slopes    slopes      `json:"slopes_ms_per_image"`
	Targets   []target    `json:"targets"`
}

// target is one of issue 6's goals, judged on the largest set measured.
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
	Count          int   `json:"count"`
	ApparentBytes  int64 `json:"apparent_bytes"`
	AllocatedBytes int64 `json:"allocated_bytes"`
}

func sizesOf(dir string, imgs []benchImage) imageSizes {
	a, b := diskUsage(dir, imgs)
	return imageSizes{Count: len(imgs), ApparentBytes: a, AllocatedBytes: b}
}

type benchRow struct {
	N           int            `json:"n"`
	Raw         int            `json:"raw_images"`
	Attached    int            `json:"attached"`
	Skipped     map[string]int `json:"skipped"`
	Inodes      int            `json:"output_inodes"`
	FloorMS     float64        `json:"output_floor_ms"` // writing the output tree alone
	FloorCPUMS  float64        `json:"output_floor_cpu_ms"`
	OursWarm    runStats       `json:"ours_warm"`
	OursCold    runStats       `json:"ours_cold"`
	DissectWarm *toolStats     `json:"systemd_dissect_warm,omitempty"`
	DissectCold *toolStats     `json:"systemd_dissect_cold,omitempty"`
	AttachWarm  *toolStats     `json:"portablectl_attach_warm,omitempty"`
	AttachCold  *toolStats     `json:"portablectl_attach_cold,omitempty"`
	DetachWarm  *toolStats     `json:"portablectl_detach_warm,omitempty"`
	DetachCold  *toolStats     `json:"portablectl_detach_cold,omitempty"`
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

// slopes are least-squares fits over N of each series: the cost of one
// more image.
type slopes struct {
	OursWarm       float64 `json:"ours_warm"`
	OursCold       float64 `json:"ours_cold"`
	OursCPU        float64 `json:"ours_cpu"`
	DissectWarm    float64 `json:"systemd_dissect_warm,omitempty"`
	DissectCold    float64 `json:"systemd_dissect_cold,omitempty"`
	AttachWarm     float64 `json:"portablectl_attach_warm,omitempty"`
	AttachCold     float64 `json:"portablectl_attach_cold,omitempty"`
	DissectRatio   float64 `json:"systemd_dissect_over_ours,omitempty"`
	AttachRatio    float64 `json:"portablectl_attach_over_ours,omitempty"`
	RSSKiBPerImage float64 `json:"ours_rss_kib_per_image"`
	// OursCPUFit is r² of the straight line through our CPU times: near 1
	// when the cost is linear in N.
	OursCPUFit float64 `json:"ours_cpu_r2"`
}

func (r *benchResult) fit() {
	var n, raw, warm, cold, cpu, rss, dw, dc, aw, ac []float64
	for _, row := range r.Rows {
		n = append(n, float64(row.N))
		raw = append(raw, float64(row.Raw))
		warm = append(warm, row.OursWarm.WallMS)
		cold = append(cold, row.OursCold.WallMS)
		cpu = append(cpu, row.OursWarm.CPUMS)
		rss = append(rss, row.OursWarm.MaxRSSMiB*1024)
		if row.DissectWarm != nil {
			dw = append(dw, row.DissectWarm.WallMS)
			dc = append(dc, row.DissectCold.WallMS)
			aw = append(aw, row.AttachWarm.WallMS)
			ac = append(ac, row.AttachCold.WallMS)
		}
	}
	s := &r.Slopes
	s.OursWarm, s.OursCold, s.OursCPU = leastSquares(n, warm), leastSquares(n, cold), leastSquares(n, cpu)
	s.RSSKiBPerImage = leastSquares(n, rss)
	s.OursCPUFit = rSquared(n, cpu)
	if len(dw) == len(n) {
		s.DissectWarm, s.DissectCold = leastSquares(raw, dw), leastSquares(raw, dc)
		s.AttachWarm, s.AttachCold = leastSquares(n, aw), leastSquares(n, ac)
		if s.OursWarm > 0 {
			s.DissectRatio, s.AttachRatio = s.DissectWarm/s.OursWarm, s.AttachWarm/s.OursWarm
		}
	}
}

// rSquared is the coefficient of determination of the least-squares line.
func rSquared(xs, ys []float64) float64 {
	if len(xs) < 3 {
		return 0
	}
	b := leastSquares(xs, ys)
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/float64(len(xs)), my/float64(len(xs))
	a := my - b*mx
	var res, tot float64
	for i := range xs {
		d := ys[i] - (a + b*xs[i])
		res += d * d
		tot += (ys[i] - my) * (ys[i] - my)
	}
	if tot == 0 {
		return 0
	}
	return 1 - res/tot
}

// judge checks issue 6's targets on the largest set.
func (r *benchResult) judge() {
	if len(r.Rows) == 0 {
		return
	}
	big := r.Rows[len(r.Rows)-1]
	at := fmt.Sprintf(" (N=%d, load %.1f)", big.N, r.Machine.LoadBefore)
	add := func(what, want, got string, met bool) {
		r.Targets = append(r.Targets, target{What: what, Want: want, Got: got, Met: met})
	}
	add("full run, warm, wall"+at, "<= 500 ms for 1000 images", fmt.Sprintf("%.0f ms", big.OursWarm.WallMS), big.N >= 1000 && big.OursWarm.WallMS <= 500)
	add("full run, warm, max RSS"+at, "<= 64 MiB", fmt.Sprintf("%.1f MiB", big.OursWarm.MaxRSSMiB), big.OursWarm.MaxRSSMiB <= 64)
	add("read per image, warm"+at, "<= 256 KiB", fmt.Sprintf("%.1f KiB", big.OursWarm.ReadKiBPerImage), big.OursWarm.ReadKiBPerImage <= 256)
	if r.Slopes.DissectRatio != 0 {
		add("per image against systemd-dissect (slopes)", ">= 50x", fmt.Sprintf("%.0fx", r.Slopes.DissectRatio), r.Slopes.DissectRatio >= 50)
	}
	if r.Slopes.OursCPUFit != 0 {
		add("CPU linear in N (r² of the fit)", ">= 0.99", fmt.Sprintf("%.4f", r.Slopes.OursCPUFit), r.Slopes.OursCPUFit >= 0.99)
	}
}

func (r *benchResult) print(w io.Writer) {
	fmt.Fprintf(w, "\nportable-generator bench: %d CPUs, Linux %s, %s; load average %.1f before, %.1f after\n",
		r.Machine.CPUs, r.Machine.Kernel, r.Machine.Systemd, r.Machine.LoadBefore, r.Machine.LoadAfter)
	fmt.Fprintf(w, "images: %s dealt round-robin, 5 units each; %d images take %.1f MiB (%.1f MiB allocated)\n",
		strings.Join(r.Mix, ", "), r.Images.Count, float64(r.Images.ApparentBytes)/(1<<20), float64(r.Images.AllocatedBytes)/(1<<20))
	fmt.Fprintf(w, "ours: the generator as PID 1 runs it, in the container's mount namespace, output on tmpfs; median of the runs.\n")
	fmt.Fprintf(w, "systemd-dissect --json=short per raw image (252 cannot open directories); portablectl attach/detach --runtime --no-reload\n")
	fmt.Fprintf(w, "per image, via nsenter (%.1f ms each included, measured at the start; per pass in the JSON).\n\n", r.NsenterMS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "\t"
	for _, row := range r.Rows {
		header += fmt.Sprintf("N=%d\t", row.N)
	}
	fmt.Fprintln(tw, header+"slope/image\t")
	line := func(label string, f func(benchRow) (float64, bool), format string, slope float64, slopeFormat string) {
		s := label + "\t"
		for _, row := range r.Rows {
			if v, ok := f(row); ok {
				s += fmt.Sprintf(format+"\t", v)
			} else {
				s += "-\t"
			}
		}
		switch {
		case slopeFormat == "":
			s += "\t"
		case slope == 0: // not measured
			s += "-\t"
		default:
			s += fmt.Sprintf(slopeFormat+"\t", slope)
		}
		fmt.Fprintln(tw, s)
	}
	always := func(f func(benchRow) float64) func(benchRow) (float64, bool) {
		return func(row benchRow) (float64, bool) { return f(row), true }
	}
	ref := func(f func(benchRow) *toolStats, g func(*toolStats) float64) func(benchRow) (float64, bool) {
		return func(row benchRow) (float64, bool) {
			if s := f(row); s != nil {
				return g(s), true
			}
			return 0, false
		}
	}
	s := r.Slopes
	line("attached images", always(func(x benchRow) float64 { return float64(x.Attached) }), "%.0f", 0, "")
	line("output inodes", always(func(x benchRow) float64 { return float64(x.Inodes) }), "%.0f", 0, "")
	line("ours warm: wall ms", always(func(x benchRow) float64 { return x.OursWarm.WallMS }), "%.1f", s.OursWarm, "%.3f ms")
	line("  CPU ms (user+sys)", always(func(x benchRow) float64 { return x.OursWarm.CPUMS }), "%.1f", s.OursCPU, "%.3f ms")
	line("  max RSS MiB", always(func(x benchRow) float64 { return x.OursWarm.MaxRSSMiB }), "%.1f", s.RSSKiBPerImage, "%.1f KiB")
	line("  read KiB/image", always(func(x benchRow) float64 { return x.OursWarm.ReadKiBPerImage }), "%.1f", 0, "")
	line("ours cold: wall ms", always(func(x benchRow) float64 { return x.OursCold.WallMS }), "%.1f", s.OursCold, "%.3f ms")
	line("  from disk KiB/image", always(func(x benchRow) float64 { return x.OursCold.DiskKiBPerImage }), "%.1f", 0, "")
	line("output alone: wall ms", always(func(x benchRow) float64 { return x.FloorMS }), "%.1f", 0, "")
	line("  CPU ms", always(func(x benchRow) float64 { return x.FloorCPUMS }), "%.1f", 0, "")
	line("systemd-dissect warm ms", ref(func(x benchRow) *toolStats { return x.DissectWarm }, func(t *toolStats) float64 { return t.WallMS }), "%.0f", s.DissectWarm, "%.1f ms")
	line("  per raw image ms", ref(func(x benchRow) *toolStats { return x.DissectWarm }, func(t *toolStats) float64 { return t.PerImageMS }), "%.1f", 0, "")
	line("  read KiB/image", ref(func(x benchRow) *toolStats { return x.DissectWarm }, func(t *toolStats) float64 { return t.ReadKiBPerImage }), "%.0f", 0, "")
	line("systemd-dissect cold ms", ref(func(x benchRow) *toolStats { return x.DissectCold }, func(t *toolStats) float64 { return t.WallMS }), "%.0f", s.DissectCold, "%.1f ms")
	line("portablectl attach warm ms", ref(func(x benchRow) *toolStats { return x.AttachWarm }, func(t *toolStats) float64 { return t.WallMS }), "%.0f", s.AttachWarm, "%.1f ms")
	line("  portabled CPU ms", ref(func(x benchRow) *toolStats { return x.AttachWarm }, func(t *toolStats) float64 { return t.ServiceCPUMS }), "%.0f", 0, "")
	line("portablectl attach cold ms", ref(func(x benchRow) *toolStats { return x.AttachCold }, func(t *toolStats) float64 { return t.WallMS }), "%.0f", s.AttachCold, "%.1f ms")
	line("portablectl detach warm ms", ref(func(x benchRow) *toolStats { return x.DetachWarm }, func(t *toolStats) float64 { return t.WallMS }), "%.0f", 0, "")
	ratio := func(f func(benchRow) *toolStats) func(benchRow) (float64, bool) {
		return func(row benchRow) (float64, bool) {
			t := f(row)
			if t == nil || row.OursWarm.WallMS == 0 {
				return 0, false
			}
			return t.PerImageMS / (row.OursWarm.WallMS / float64(row.N)), true
		}
	}
	line("per image: dissect / ours", ratio(func(x benchRow) *toolStats { return x.DissectWarm }), "%.0fx", s.DissectRatio, "%.0fx")
	line("per image: attach / ours", ratio(func(x benchRow) *toolStats { return x.AttachWarm }), "%.0fx", s.AttachRatio, "%.0fx")
	tw.Flush()
	if len(r.Reload) > 0 {
		fmt.Fprintf(w, "\nsystemctl daemon-reload in the container (median of 3):\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "images\ttotal ms\tgenerator ms\tmanager ms\t")
		for _, x := range r.Reload {
			fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.0f\t\n", x.Images, x.TotalMS, x.GeneratorMS, x.ManagerMS)
		}
		tw.Flush()
	}
	for _, row := range r.Rows {
		if len(row.Skipped) > 0 {
			fmt.Fprintf(w, "N=%d skipped: %v\n", row.N, row.Skipped)
		}
	}
	if len(r.Targets) > 0 {
		fmt.Fprintf(w, "\ntargets:\n")
		for _, t := range r.Targets {
			mark := "MET"
			if !t.Met {
				mark = "not met"
			}
			fmt.Fprintf(w, "  %-52s want %-26s got %-10s %s\n", t.What, t.Want, t.Got, mark)
		}
	}
}
