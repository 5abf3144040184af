// Command benchfloor measures the floors and the kernel's reference for
// `just bench`, each as a pass of its own so that the benchmark can
// interleave it with the generator's runs:
//
//	benchfloor write FROM TO       create the output tree FROM again at TO with the generator's writer
//	benchfloor replay TRACE JOBS   replay the image reads of a generator run (strace -y output)
//	benchfloor loop LIST           loop-mount each image of LIST, read what the generator reads, unmount
//	benchfloor ours LIST           read the same with our readers (package dissect), one image at a time
//	benchfloor pipeline LIST JOBS AHEAD  the same on JOBS workers, prefetching AHEAD images ahead
//	benchfloor profile OUT RUNS    the generator's pipeline RUNS times, its CPU profile written to OUT
//
// LIST has one image per line: "KIND<TAB>NAME<TAB>PATH". Every mode
// prints one JSON object: wall and CPU time, and per image kind the
// summed time of the loop and ours passes.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchfloor:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return usage()
	}
	var (
		res any
		err error
	)
	switch {
	case args[0] == "write" && len(args) == 3:
		res, err = writeFloor(args[1], args[2])
	case args[0] == "replay" && len(args) == 3:
		jobs, perr := strconv.Atoi(args[2])
		if perr != nil || jobs < 1 {
			return usage()
		}
		res, err = replay(args[1], jobs)
	case args[0] == "pipeline" && len(args) == 4:
		jobs, err1 := strconv.Atoi(args[2])
		ahead, err2 := strconv.Atoi(args[3])
		if err1 != nil || err2 != nil || jobs < 1 || ahead < 0 {
			return usage()
		}
		res, err = pipelinePass(args[1], jobs, ahead)
	case args[0] == "profile" && len(args) == 3:
		runs, perr := strconv.Atoi(args[2])
		if perr != nil || runs < 1 {
			return usage()
		}
		res, err = profilePass(args[1], runs)
	case (args[0] == "loop" || args[0] == "ours") && len(args) == 2:
		res, err = readPass(args[0], args[1])
	default:
		return usage()
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func usage() error {
	fmt.Fprintln(os.Stderr, "usage: benchfloor write FROM TO | replay TRACE JOBS | loop LIST | ours LIST | pipeline LIST JOBS AHEAD | profile OUT RUNS")
	os.Exit(2)
	return nil
}

// timing is what every mode reports.
type timing struct {
	Wall int64 `json:"wall_ns"`
	CPU  int64 `json:"cpu_ns"`
}

// stopwatch measures wall and CPU time (of the whole process) from start.
type stopwatch struct {
	start time.Time
	cpu   time.Duration
}

func startWatch() stopwatch { return stopwatch{start: time.Now(), cpu: cpuTime()} }

func (s stopwatch) stop() timing {
	return timing{Wall: time.Since(s.start).Nanoseconds(), CPU: (cpuTime() - s.cpu).Nanoseconds()}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
