package dissect

import (
	"sort"
	"strings"
	"testing"
)

// The combinations of verity partitions systemd refuses (EADDRNOTAVAIL,
// ENOTUNIQ), and the ones it takes. Refused ones must not be attached:
// the service would fail at start.
func TestVerityPartitionCombinations(t *testing.T) {
	guid := map[string]string{
		"root":            "4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
		"root-verity":     "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5",
		"root-verity-sig": "41092b05-9fc8-4523-994f-2def0408b176",
		"usr":             "8484680c-9521-48c6-9c11-b0720656f69e",
		"usr-verity":      "77ff5f63-e7b6-4633-acf4-1565b864c0e6",
		"usr-verity-sig":  "e7bb33fb-06cf-4e81-8273-e543b413e2e2",
		"linux-generic":   "0fc63daf-8483-4772-8e79-3d69d8477de4",
	}
	for _, c := range []struct {
		parts string // designators in table order
		ok    bool
	}{
		{"root root-verity root-verity-sig", true},
		{"root usr usr-verity usr-verity-sig", true}, // verity-less root, verity /usr
		{"usr usr-verity", true},
		{"linux-generic", true},
		{"root-verity linux-generic", false},     // verity without its data partition
		{"root root-verity-sig", false},          // a signature without verity
		{"usr usr-verity-sig", false},            // the same for /usr
		{"root-verity-sig linux-generic", false}, // signature without data
		{"root root-verity usr usr-verity", false},
		{"root root-verity usr", false}, // verity root with a split /usr
	} {
		var parts []gptPartition
		for i, d := range strings.Fields(c.parts) {
			parts = append(parts, gptPartition{number: i + 1, typeGUID: guid[d], offset: int64(i+1) << 20, size: 1 << 20})
		}
		got, err := selectDPS(parts, "x86-64")
		if (err == nil) != c.ok {
			var names []string
			for _, p := range got {
				names = append(names, string(p.Designator))
			}
			sort.Strings(names)
			t.Errorf("%s: chose %v, err %v; want ok=%v", c.parts, names, err, c.ok)
		}
	}
}
