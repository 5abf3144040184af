package policy

import (
	"strconv"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// The cgroup and resource-limit forms of Nice=-20 and OOMScoreAdjust=:
// a service with CPUWeight=10000 or MemoryMin=infinity is served before the
// host's own services, and LimitMEMLOCK=infinity lets an unprivileged
// process pin any amount of the host's memory (PID 1 sets the limit before
// the sandbox starts). They are refused above systemd's defaults rather
// than pinned in the profile: a pin would also erase an image's own
// deprioritisation (CPUWeight=idle, IOWeight=10), which the profile must
// leave alone, and a pinned weight makes PID 1 turn on the cpu and io
// controllers for the whole of system.slice.

// defaultWeights are systemd's defaults of the weights a unit sets: a
// value above one ranks the service above host services that keep theirs.
var defaultWeights = map[string]uint64{
	"CPUWeight": 100, "StartupCPUWeight": 100, "IOWeight": 100, "StartupIOWeight": 100,
	// The cgroup v1 forms, which systemd still maps onto the weights.
	"CPUShares": 1024, "StartupCPUShares": 1024, "BlockIOWeight": 500, "StartupBlockIOWeight": 500,
}

// defaultDeviceWeights are the per-device forms ("DEVICE WEIGHT").
var defaultDeviceWeights = map[string]uint64{"IODeviceWeight": 100, "BlockIODeviceWeight": 500}

// memoryProtections keep the service's memory from reclaim at the expense
// of every other process; systemd's default is none (0).
var memoryProtections = []string{"MemoryMin", "MemoryLow", "StartupMemoryLow"}

// defaultMemlock is systemd's default RLIMIT_MEMLOCK (8 MiB, on 252 and
// 257 alike, as `systemd --test` prints for a unit that sets nothing).
const defaultMemlock = 8 << 20

func rankingRule(c *unitCheck, a unitfile.Assignment) string {
	if a.Section != "Service" && a.Section != "Socket" {
		return ""
	}
	v := a.Value
	if def, ok := defaultWeights[a.Key]; ok {
		if (a.Key == "CPUWeight" || a.Key == "StartupCPUWeight") && v == "idle" {
			return ""
		}
		if !atMost(v, def) {
			return "ranks the service above host services (" + a.Key + "=" + v + "; systemd's default is " + strconv.FormatUint(def, 10) + ")"
		}
	}
	if def, ok := defaultDeviceWeights[a.Key]; ok {
		f := strings.Fields(v)
		if len(f) != 2 || !atMost(f[1], def) {
			return "ranks the service's I/O above host services (" + a.Key + "=" + v + "; systemd's default is " + strconv.FormatUint(def, 10) + ")"
		}
	}
	switch a.Key {
	case "IODeviceLatencyTargetSec":
		return "protects the service's I/O latency at the expense of host services"
	case "MemoryMin", "MemoryLow", "StartupMemoryLow":
		if !zeroSize(v) {
			return "keeps the service's memory from reclaim at the expense of host services (" + a.Key + "=" + v + ")"
		}
	case "LimitMEMLOCK":
		if !memlockWithinDefault(v) {
			return "lets the service lock more of the host's memory than systemd's default of 8M (" + v + ")"
		}
	}
	return ""
}

// atMost reports whether v is a plain decimal number no greater than max.
// systemd reads weights in any base ("0x2710" is 10000) and with a sign:
// anything but plain digits is refused, never guessed. (A leading zero
// makes systemd read octal, which is never more than the decimal reading.)
func atMost(v string, max uint64) bool {
	if v == "" || strings.Trim(v, "0123456789") != "" || len(v) > 19 {
		return false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return err == nil && n <= max
}

// zeroSize reports whether a size setting is zero in any of the forms
// systemd reads ("0", "0K", "0.0M", "0%").
func zeroSize(v string) bool {
	v = strings.TrimRight(v, "KMGTPEB%")
	return v != "" && strings.Trim(v, "0.") == "" && strings.Contains(v, "0")
}

// memlockWithinDefault reports whether a LimitMEMLOCK= value ("N" or
// "SOFT:HARD", sizes with an optional K, M or G suffix of base 1024) stays
// within systemd's default; infinity and forms not read here are not.
func memlockWithinDefault(v string) bool {
	for _, part := range strings.Split(v, ":") {
		mult := uint64(1)
		switch {
		case strings.HasSuffix(part, "K"):
			mult = 1 << 10
		case strings.HasSuffix(part, "M"):
			mult = 1 << 20
		case strings.HasSuffix(part, "G"):
			mult = 1 << 30
		}
		if mult > 1 {
			part = part[:len(part)-1]
		}
		if !atMost(part, defaultMemlock/mult) {
			return false
		}
	}
	return true
}
