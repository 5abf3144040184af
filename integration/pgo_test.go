//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestPGOProfile writes the CPU profile the generator is built with
// (`just pgo`: generator/cmd/portable-generator/default.pgo, Go's
// profile-guided optimization). It runs the generator's pipeline in the
// benchmark's container over the benchmark's 1,000 real-tree images, with
// the benchmark's settings, so that the profile is of the work the
// benchmark measures: decoding, parsing, the policy and writing.
// PG_PGO=FILE names the file written.
func TestPGOProfile(t *testing.T) {
	out := os.Getenv("PG_PGO")
	if out == "" {
		t.Skip("writes the profile with PG_PGO=FILE (just pgo)")
	}
	if !filepath.IsAbs(out) {
		if wd := os.Getenv("PG_BENCH_WD"); wd != "" {
			out = filepath.Join(wd, out)
		}
	}
	b := &bench{t: t, cfg: benchConfig{ns: []int{1000}}, root: filepath.Join(corpusDir, "sets"), inContainer: "/var/lib/portables/.bench/sets"}
	t.Cleanup(b.cleanup)
	b.build()
	b.bind(1000)
	b.generatorRun(false, false) // warm the cache, and make the output directories
	const runs = 30
	var res floorTiming
	b.floorRun(false, &res, "profile", benchOut+"/pgo.prof", fmt.Sprint(runs))
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/root%s/pgo.prof", ct.leader, benchOut))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("pgo: %d runs over 1,000 images in %.1f s of CPU: %s (%d bytes)\n", runs, float64(res.CPU)/1e9, out, len(data))
}
