package ext4

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// TestHashMatchesDebugfs checks every hash version against e2fsprogs'
// own implementation (debugfs dx_hash), for short and long names, bytes
// above 0x7f (where signed and unsigned differ), and zero and real seeds.
func TestHashMatchesDebugfs(t *testing.T) {
	testenv.NeedTool(t, "debugfs")
	names := []string{"a", "hello", "entry-001337", "h\xe9llo-\xff\x80", strings.Repeat("x", 31),
		strings.Repeat("y", 32), strings.Repeat("z", 33), strings.Repeat("long-unit-name.", 17)}
	seeds := []string{"", "6ecda473-a593-43c2-851c-a283371e638c"}
	// debugfs names only the signed versions; the unsigned ones are
	// checked against them below.
	algs := map[string]int{"legacy": hashLegacy, "half_md4": hashHalfMD4, "tea": hashTEA}
	var cmds strings.Builder
	type want struct {
		name, alg string
		seed      [4]uint32
	}
	var order []want
	for alg := range algs {
		for _, seed := range seeds {
			for _, n := range names {
				var s [4]uint32
				arg := ""
				if seed != "" {
					raw, _ := hex.DecodeString(strings.ReplaceAll(seed, "-", ""))
					for i := range s {
						s[i] = binary.LittleEndian.Uint32(raw[4*i:])
					}
					arg = "-s " + seed + " "
				}
				fmt.Fprintf(&cmds, "dx_hash -h %s %s%s\n", alg, arg, n)
				order = append(order, want{n, alg, s})
			}
		}
	}
	script := filepath.Join(t.TempDir(), "cmds")
	os.WriteFile(script, []byte(cmds.String()), 0o644)
	out, _ := exec.Command("debugfs", "-f", script, "/dev/null").CombinedOutput()
	re := regexp.MustCompile(`(?m)^Hash of .* is 0x([0-9a-f]+) \(minor`)
	got := re.FindAllSubmatch(out, -1)
	if len(got) != len(order) {
		t.Fatalf("debugfs printed %d hashes for %d names:\n%s", len(got), len(order), out)
	}
	for i, w := range order {
		ref, _ := strconv.ParseUint(string(got[i][1]), 16, 32)
		h, ok := dirHash([]byte(w.name), algs[w.alg], w.seed)
		if !ok || h != uint32(ref) {
			t.Errorf("%s %q seed %x: %#x, want %#x", w.alg, w.name, w.seed, h, ref)
		}
		// The unsigned variant differs exactly when a byte is above 0x7f.
		u, _ := dirHash([]byte(w.name), algs[w.alg]+hashLegacyUnsigned, w.seed)
		if ascii := !strings.ContainsFunc(w.name, func(r rune) bool { return r > 0x7f }); (u == h) != ascii {
			t.Errorf("%s_unsigned %q: %#x beside signed %#x", w.alg, w.name, u, h)
		}
	}
}
