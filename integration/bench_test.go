//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBench is `just bench`: the generator against systemd-dissect and
// portablectl on the same images, N = 1, 10, 100, 1000, warm and cold,
// and daemon-reload with 0, 100 and 1000 images. It runs only with
// PG_BENCH=1; PG_BENCH_N (comma-separated sizes), PG_BENCH_RUNS (warm runs
// of the generator per size), PG_BENCH_REFERENCE=0 (ours only) and
// PG_BENCH_JSON=FILE (write the results) tune it; PG_BENCH_KEEP=DIR keeps
// the images for profiling.
func TestBench(t *testing.T) {
	if os.Getenv("PG_BENCH") != "1" {
		t.Skip("the benchmark runs with PG_BENCH=1 (just bench)")
	}
	cfg := benchConfigFromEnv(t)
	b := &bench{t: t, cfg: cfg, root: filepath.Join(ct.portables, ".bench"), inContainer: "/var/lib/portables/.bench"}
	t.Cleanup(b.cleanup)
	start := time.Now()
	b.build()
	fmt.Printf("bench: built %d images in %s\n", cfg.maxN(), time.Since(start).Round(time.Second))

	res := benchResult{Machine: machine(), Mix: benchKinds, Images: b.imageSizes}
	res.Machine.LoadBefore = loadAverage()
	res.NsenterMS = ms(b.nsenterBaseline())
	for _, n := range cfg.ns {
		res.Rows = append(res.Rows, b.row(n))
	}
	for _, n := range []int{0, 100, 1000} {
		if n == 0 || cfg.has(n) {
			res.Reload = append(res.Reload, b.reload(n))
		}
	}
	res.Machine.LoadAfter = loadAverage()
	res.fit()
	res.judge()
	res.print(os.Stdout)
	if cfg.json != "" {
		js, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(cfg.json, append(js, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("bench: wrote %s\n", cfg.json)
	}
}

type benchConfig struct {
	ns        []int
	runs      int
	coldRuns  int
	reference bool
	json      string
}

func (c benchConfig) maxN() int { return c.ns[len(c.ns)-1] }

func (c benchConfig) has(n int) bool {
	for _, m := range c.ns {
		if m == n {
			return true
		}
	}
	return false
}

func benchConfigFromEnv(t *testing.T) benchConfig {
	c := benchConfig{runs: 5, coldRuns: 3, reference: os.Getenv("PG_BENCH_REFERENCE") != "0", json: os.Getenv("PG_BENCH_JSON")}
	sizes := os.Getenv("PG_BENCH_N")
	if sizes == "" {
		sizes = "1,10,100,1000"
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			t.Fatalf("PG_BENCH_N: %q is not a size", s)
		}
		c.ns = append(c.ns, n)
	}
	sort.Ints(c.ns)
	if v := os.Getenv("PG_BENCH_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PG_BENCH_RUNS: %q", v)
		}
		c.runs = n
	}
	if c.json != "" && !filepath.IsAbs(c.json) {
		// go test runs in the package directory; name the file as the caller did.
		if wd := os.Getenv("PG_BENCH_WD"); wd != "" {
			c.json = filepath.Join(wd, c.json)
		}
	}
	return c
}

type bench struct {
	t           *testing.T
	cfg         benchConfig
	root        string // host directory of the sets
	inContainer string // the same, seen in the container
	imageSizes  imageSizes
	bound       bool // a set is bound over /var/lib/portables
}

const (
	generatorPath  = "/usr/lib/systemd/system-generators/portable-generator"
	benchFloorPath = "/usr/local/bin/pg-benchfloor"
	benchOut       = "/run/pgbench"
)

func (b *bench) set(n int) string { return fmt.Sprintf("set-%d", n) }

// build makes the largest set and hard-links the smaller ones to its first
// images, plus an empty set for daemon-reload's baseline.
func (b *bench) build() {
	t := b.t
	all := benchImages(b.cfg.maxN())
	bld, err := newBenchBuilder(filepath.Join(workDir, "bench-build"), filepath.Join(workDir, "counter"))
	if err != nil {
		t.Fatal(err)
	}
	largest := filepath.Join(b.root, b.set(b.cfg.maxN()))
	if err := bld.buildAll(largest, all); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(workDir, "bench-build"))
	for _, n := range append([]int{0, 100, 1000}, b.cfg.ns...) {
		if n > b.cfg.maxN() || n == b.cfg.maxN() {
			continue
		}
		if _, err := os.Stat(filepath.Join(b.root, b.set(n))); err == nil {
			continue
		}
		if err := linkSet(largest, filepath.Join(b.root, b.set(n)), all[:n]); err != nil {
			t.Fatal(err)
		}
	}
	b.imageSizes = sizesOf(largest, all)
	// The floor program goes into the container's own root, which need
	// not be this machine's.
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ct.merged, benchFloorPath), "./benchfloor")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build benchfloor: %v\n%s", err, out)
	}
}

// bind puts set n over /var/lib/portables in the container.
func (b *bench) bind(n int) {
	b.unbind()
	b.mustIn("mount", "--bind", b.inContainer+"/"+b.set(n), "/var/lib/portables")
	b.bound = true
}

func (b *bench) unbind() {
	if b.bound {
		b.mustIn("umount", "/var/lib/portables")
		b.bound = false
	}
}

func (b *bench) mustIn(args ...string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := ct.exec(ctx, args...)
	if err != nil {
		b.t.Fatalf("in the container: %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (b *bench) cleanup() {
	ctx := context.Background()
	if b.bound {
		ct.exec(ctx, "umount", "/var/lib/portables")
	}
	ct.exec(ctx, "sh", "-c", "rm -rf "+benchOut+"; for i in /run/portables/app*; do [ -e \"$i\" ] || [ -L \"$i\" ] || continue; portablectl detach --runtime --no-reload \"$i\" >/dev/null 2>&1; done; rm -f /run/portables/app*")
	ct.exec(ctx, "systemctl", "daemon-reload")
	if keep := os.Getenv("PG_BENCH_KEEP"); keep != "" {
		// For profiling by hand: portable-generator --root=KEEP/set-N after the run.
		if err := runTool("cp", "-al", b.root, keep); err != nil {
			b.t.Error(err)
		}
	}
	os.RemoveAll(b.root)
}

// inNamespace runs a command in the container's mount namespace only:
// nsenter then execs it directly, so the process measured is the command
// itself, with the container's file systems.
func inNamespace(args ...string) *exec.Cmd {
	cmd := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(ct.leader), "-m", "--"}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_SCOPE=system"}
	return cmd
}

// inContainerFull runs a command in all of the container's namespaces,
// as systemctl and portablectl need (the bus, the pid namespace).
func inContainerFull(args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"-t", strconv.Itoa(ct.leader), "-a", "--"}, args...)...)
}

func (b *bench) nsenterBaseline() time.Duration {
	var us []usage
	for i := 0; i < 5; i++ {
		u, err := measure(inContainerFull("true"))
		if err != nil {
			b.t.Fatal(err)
		}
		us = append(us, u)
	}
	return median(us).Wall
}

// generatorRun runs the generator as PID 1 would, into fresh output
// directories on the container's /run (a tmpfs).
func (b *bench) generatorRun(cold bool) (usage, string) {
	b.mustIn("sh", "-c", "rm -rf "+benchOut+" && mkdir -p "+benchOut+"/normal "+benchOut+"/early "+benchOut+"/late")
	if cold {
		if err := dropCaches(); err != nil {
			b.t.Fatal(err)
		}
	}
	var stderr strings.Builder
	cmd := inNamespace(generatorPath, benchOut+"/normal", benchOut+"/early", benchOut+"/late")
	cmd.Stderr = &stderr
	u, err := measure(cmd)
	if err != nil {
		b.t.Fatalf("generator: %v\n%s", err, stderr.String())
	}
	return u, stderr.String()
}

// row measures one size.
func (b *bench) row(n int) benchRow {
	imgs := benchImages(n)
	r := benchRow{N: n, Skipped: map[string]int{}}
	for _, img := range imgs {
		if img.raw() {
			r.Raw++
		}
	}
	b.bind(n)
	_, log := b.generatorRun(false) // warm-up, and the log to check
	r.Attached, r.Skipped = countLog(log)
	r.Inodes = b.countOutput()
	var warm, cold []usage
	for i := 0; i < b.cfg.runs; i++ {
		u, _ := b.generatorRun(false)
		warm = append(warm, u)
	}
	for i := 0; i < b.cfg.coldRuns; i++ {
		u, _ := b.generatorRun(true)
		cold = append(cold, u)
	}
	r.OursWarm, r.OursCold = runStatsOf(median(warm), n), runStatsOf(median(cold), n)
	r.FloorMS, r.FloorCPUMS = b.floor()
	b.unbind()
	fmt.Printf("bench: N=%d ours warm %.1f ms, cold %.1f ms; %d attached, skipped %v\n", n, r.OursWarm.WallMS, r.OursCold.WallMS, r.Attached, r.Skipped)
	if b.cfg.reference {
		r.DissectCold = b.dissectPass(imgs, true)
		r.DissectWarm = b.dissectPass(imgs, false)
		r.AttachCold, r.DetachCold = b.portablectlPass(n, imgs, true)
		r.AttachWarm, r.DetachWarm = b.portablectlPass(n, imgs, false)
		fmt.Printf("bench: N=%d systemd-dissect warm %.0f ms, portablectl attach warm %.0f ms\n", n, r.DissectWarm.WallMS, r.AttachWarm.WallMS)
	}
	return r
}

// floor times creating the last run's output tree alone, with the
// generator's own writer (benchfloor), in the container: what any run
// that writes these files pays.
func (b *bench) floor() (wallMS, cpuMS float64) {
	b.mustIn("rm", "-rf", benchOut+"/floor")
	u, err := measure(inNamespace(benchFloorPath, benchOut+"/normal", benchOut+"/floor"))
	if err != nil {
		b.t.Fatal(err)
	}
	var got struct {
		Wall int64 `json:"wall_ns"`
		CPU  int64 `json:"cpu_ns"`
	}
	if err := json.Unmarshal([]byte(u.Output), &got); err != nil {
		b.t.Fatalf("benchfloor: %v: %s", err, u.Output)
	}
	return ms(time.Duration(got.Wall)), ms(time.Duration(got.CPU))
}

// countLog counts the generator's attached lines and groups its skip
// reasons by their first words.
func countLog(log string) (attached int, skipped map[string]int) {
	skipped = map[string]int{}
	for _, line := range strings.Split(log, "\n") {
		switch {
		case strings.Contains(line, ": attached "):
			attached++
		case strings.Contains(line, ": skipped: "):
			_, reason, _ := strings.Cut(line, ": skipped: ")
			if len(reason) > 60 {
				reason = reason[:60]
			}
			skipped[reason]++
		}
	}
	return attached, skipped
}

func (b *bench) countOutput() int {
	n := 0
	filepath.WalkDir(fmt.Sprintf("/proc/%d/root%s/normal", ct.leader, benchOut), func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			n++
		}
		return nil
	})
	return n - 1 // not the output directory itself
}

// dissectPass runs systemd-dissect --json=short on every raw image (252
// cannot open directories), on the host, one after the other.
func (b *bench) dissectPass(imgs []benchImage, cold bool) *toolStats {
	if cold {
		if err := dropCaches(); err != nil {
			b.t.Fatal(err)
		}
	}
	var us []usage
	for _, img := range imgs {
		if !img.raw() {
			continue
		}
		cmd := exec.Command("systemd-dissect", "--json=short", filepath.Join(b.root, b.set(len(imgs)), img.Entry))
		u, err := measure(cmd)
		if err != nil {
			b.t.Fatal(err)
		}
		if !strings.Contains(u.Output, `"ID=benchos"`) {
			b.t.Fatalf("systemd-dissect %s: no os-release in its answer:\n%s", img.Entry, u.Output)
		}
		us = append(us, u)
	}
	return toolStatsOf(sum(us), len(us))
}

// portablectlPass attaches every image of the set with portablectl in the
// container (runtime, no reload), then detaches them all. portabled does
// the work, so its CPU is read from its unit.
func (b *bench) portablectlPass(n int, imgs []benchImage, cold bool) (attach, detach *toolStats) {
	pass := func(verb string) *toolStats {
		b.mustIn("systemctl", "start", "systemd-portabled.service")
		cpu0, pid0 := b.portabledCPU()
		var us []usage
		for _, img := range imgs {
			p := b.inContainer + "/" + b.set(n) + "/" + img.Entry
			u, err := measure(inContainerFull("portablectl", verb, "--runtime", "--no-reload", p))
			if err != nil {
				journal, _ := ct.exec(context.Background(), "journalctl", "-q", "--no-pager", "-n", "30", "-u", "systemd-portabled.service")
				b.t.Fatalf("%v\nportabled's journal:\n%s", err, journal)
			}
			us = append(us, u)
		}
		s := toolStatsOf(sum(us), len(us))
		s.NsenterMS = ms(b.nsenterBaseline())
		if cpu1, pid1 := b.portabledCPU(); pid1 == pid0 && cpu0 >= 0 {
			s.ServiceCPUMS = ms(cpu1 - cpu0)
		} else {
			s.ServiceCPUMS = -1 // portabled restarted in between: unknown
		}
		return s
	}
	if cold {
		if err := dropCaches(); err != nil {
			b.t.Fatal(err)
		}
	}
	attach = pass("attach")
	if got := strings.Count(b.mustIn("sh", "-c", "ls /run/systemd/system.attached"), "\n"); got < 5*n {
		b.t.Fatalf("portablectl attached %d files for %d images", got, n)
	}
	detach = pass("detach")
	return attach, detach
}

// portabledCPU is portabled's CPU time so far with the children it
// waited for (it forks to mount and copy), and its pid; -1 if it is not
// running. (This machine's cgroups are v1: no CPU accounting in the
// container.)
func (b *bench) portabledCPU() (time.Duration, string) {
	pid := strings.TrimSpace(b.mustIn("systemctl", "show", "-P", "MainPID", "systemd-portabled.service"))
	if pid == "" || pid == "0" {
		return -1, ""
	}
	stat, err := ct.exec(context.Background(), "cat", "/proc/"+pid+"/stat")
	if err != nil {
		return -1, ""
	}
	// The fields after the command name, which is in parentheses: utime,
	// stime, cutime and cstime are the 12th to 15th, in clock ticks.
	f := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
	if len(f) < 15 {
		return -1, ""
	}
	var ticks int64
	for _, v := range f[11:15] {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, pid // USER_HZ is 100
}

// reload times systemctl daemon-reload with set n present, and the
// generator alone on the same tree: the rest is the manager's.
func (b *bench) reload(n int) reloadRow {
	b.bind(n)
	defer func() {
		b.unbind()
		b.mustIn("systemctl", "daemon-reload")
	}()
	b.generatorRun(false)
	var gen, rel []usage
	for i := 0; i < 3; i++ {
		u, _ := b.generatorRun(false)
		gen = append(gen, u)
		r, err := measure(inContainerFull("systemctl", "daemon-reload"))
		if err != nil {
			b.t.Fatal(err)
		}
		rel = append(rel, r)
	}
	if n > 0 {
		if got := strings.TrimSpace(b.mustIn("systemctl", "show", "-P", "LoadState", "app0000.service")); got != "loaded" {
			b.t.Fatalf("after daemon-reload with %d images app0000.service is %q", n, got)
		}
	}
	r := reloadRow{Images: n, TotalMS: ms(median(rel).Wall), GeneratorMS: ms(median(gen).Wall)}
	r.ManagerMS = r.TotalMS - r.GeneratorMS
	fmt.Printf("bench: daemon-reload with %d images: %.0f ms (generator alone %.0f ms)\n", n, r.TotalMS, r.GeneratorMS)
	return r
}

// loadAverage is the one-minute load: the machines are shared, and wall
// times mean little without it.
func loadAverage() float64 {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func machine() machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("systemctl", "--version").Output(); err == nil {
		m.Systemd, _, _ = strings.Cut(string(out), "\n")
	}
	return m
}
