package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/portable-generator/portable-generator/generator"
)

// profilePass runs the generator's pipeline on the images of the search
// directories runs times, as the generator runs it (into fresh output
// directories, with its collector settings), under a CPU profile written
// to out: the profile the generator is built with (Go's profile-guided
// optimization, generator/cmd/portable-generator/default.pgo; `just pgo`).
func profilePass(out string, runs int) (timing, error) {
	generator.TuneCollector() // as the program runs
	f, err := os.Create(out)
	if err != nil {
		return timing{}, err
	}
	defer f.Close()
	sw := startWatch()
	if err := pprof.StartCPUProfile(f); err != nil {
		return timing{}, err
	}
	for range runs {
		dir, err := os.MkdirTemp("", "pgo-out")
		if err != nil {
			pprof.StopCPUProfile()
			return timing{}, err
		}
		_, _, err = generator.GenerateInto(context.Background(), generator.Config{}, dir)
		os.RemoveAll(dir)
		if err != nil {
			pprof.StopCPUProfile()
			return timing{}, fmt.Errorf("generator: %w", err)
		}
	}
	pprof.StopCPUProfile()
	return sw.stop(), f.Close()
}
