//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// usage is what one process (with the children it waited for) cost.
type usage struct {
	Wall      time.Duration
	CPU       time.Duration // user + system
	MaxRSS    int64         // bytes, the largest of the process and its children
	RChar     int64         // bytes passed through read(2) and friends
	ReadBytes int64         // bytes fetched from storage (page-cache misses)
	Output    string
}

// measure runs cmd and reads its rusage and /proc/PID/io. The I/O counters
// vanish when a process is reaped, so it first waits with WNOWAIT, reads
// them from the zombie (which has absorbed its own reaped children's), and
// only then lets os/exec reap it.
func measure(cmd *exec.Cmd) (usage, error) {
	var out bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &out
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return usage{}, err
	}
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	u := usage{Wall: time.Since(start)}
	io, ioErr := procIO(cmd.Process.Pid)
	err := cmd.Wait()
	u.Output = out.String()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		u.MaxRSS = ru.Maxrss * 1024
	}
	if ioErr == nil {
		u.RChar, u.ReadBytes = io["rchar"], io["read_bytes"]
	}
	if err != nil {
		return u, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, u.Output)
	}
	if ioErr != nil {
		return u, fmt.Errorf("reading the I/O counters of %s: %v", cmd.Args[0], ioErr)
	}
	return u, nil
}

func procIO(pid int) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return nil, err
	}
	m := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if n, err := strconv.ParseInt(v, 10, 64); ok && err == nil {
			m[k] = n
		}
	}
	return m, nil
}

// dropCaches empties the page cache (the whole machine's: the cold runs
// read the images, the binaries and the libraries from the disk again).
func dropCaches() error {
	unix.Sync()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200)
}

// sum adds up usages of a series of processes; MaxRSS is the largest.
func sum(us []usage) usage {
	var s usage
	for _, u := range us {
		s.Wall += u.Wall
		s.CPU += u.CPU
		s.RChar += u.RChar
		s.ReadBytes += u.ReadBytes
		s.MaxRSS = max(s.MaxRSS, u.MaxRSS)
	}
	return s
}

// median takes each counter's median over repeated runs of one job.
func median(us []usage) usage {
	pick := func(f func(usage) int64) int64 {
		v := make([]int64, len(us))
		for i, u := range us {
			v[i] = f(u)
		}
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		return v[len(v)/2]
	}
	return usage{
		Wall:      time.Duration(pick(func(u usage) int64 { return int64(u.Wall) })),
		CPU:       time.Duration(pick(func(u usage) int64 { return int64(u.CPU) })),
		MaxRSS:    pick(func(u usage) int64 { return u.MaxRSS }),
		RChar:     pick(func(u usage) int64 { return u.RChar }),
		ReadBytes: pick(func(u usage) int64 { return u.ReadBytes }),
	}
}
