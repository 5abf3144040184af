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

// A root hash names its data partition by its first 16 bytes and its
// verity partition by its last 16, whatever its length: for a 20-byte
// SHA-1 hash the two overlap.
func TestRootHashHalves(t *testing.T) {
	hash := "00112233445566778899aabbccddeeff01234567" // 20 bytes
	data, verity := hashHalves(hash)
	if data != "00112233-4455-6677-8899-aabbccddeeff" || verity != "44556677-8899-aabb-ccdd-eeff01234567" {
		t.Errorf("halves of a 20-byte hash: %s, %s", data, verity)
	}
	parts := []gptPartition{
		{number: 1, typeGUID: "4f68bce3-e8cd-4db1-96e7-fbcaf984b709", uuid: data},
		{number: 2, typeGUID: "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5", uuid: "99999999-8899-aabb-ccdd-eeff01234567"},
	}
	got, err := matchRootHash(parts, &Verity{Designator: "root", RootHash: hash})
	if err != nil || len(got) != 1 || got[0].number != 1 {
		t.Errorf("a verity partition the hash does not name was kept: %+v, %v", got, err)
	}
}
