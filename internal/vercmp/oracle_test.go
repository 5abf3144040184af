package vercmp

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// systemd is one systemd's `systemd-analyze compare-versions`, the
// implementation Compare must agree with.
type systemd struct {
	name string
	argv []string // the command line before the two versions
}

// systemds returns the oracles: this machine's systemd (252 on Debian 12)
// and the Debian 13 tree's (257), run in the tree with chroot.
func systemds(t testing.TB) []systemd {
	t.Helper()
	testenv.NeedTool(t, "systemd-analyze", "chroot")
	tree := testenv.NeedTree(t, "systemd-analyze")
	return []systemd{
		{"this machine's systemd", []string{"systemd-analyze", "compare-versions", "--"}},
		{"the Debian 13 tree's systemd", []string{"chroot", tree, "systemd-analyze", "compare-versions", "--"}},
	}
}

// compare returns systemd's verdict on a and b as -1, 0 or +1. A C string
// ends at its first NUL, so systemd is given what precedes it.
func (s systemd) compare(a, b string) (int, error) {
	cut := func(v string) string { v, _, _ = strings.Cut(v, "\x00"); return v }
	cmd := exec.Command(s.argv[0], append(s.argv[1:], cut(a), cut(b))...)
	out, err := cmd.CombinedOutput()
	// systemd-analyze exits as rpmdev-vercmp does: 0 equal, 11 newer, 12 older.
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit) && exit.ExitCode() == 11:
		return 1, nil
	case errors.As(err, &exit) && exit.ExitCode() == 12:
		return -1, nil
	}
	return 0, fmt.Errorf("%s: %s: %w: %s", s.name, strings.Join(cmd.Args, " "), err, out)
}

// FuzzCompareSystemd compares Compare with systemd's own implementation on
// whatever the fuzzer makes up.
func FuzzCompareSystemd(f *testing.F) {
	oracles := systemds(f)
	for _, p := range orderedExamples {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ours := Compare(a, b)
		for _, s := range oracles {
			want, err := s.compare(a, b)
			if err != nil {
				t.Fatal(err)
			}
			if ours != want {
				t.Fatalf("Compare(%q, %q) = %d, %s says %d", a, b, ours, s.name, want)
			}
		}
	})
}

// TestCompareSystemd compares Compare with systemd on a corpus of pairs
// built to differ where the rules do: the same start followed by each
// pair of segment kinds (numbers with and without leading zeros, letters,
// each separator, characters systemd drops, a NUL, the end of the string).
func TestCompareSystemd(t *testing.T) {
	oracles := systemds(t)
	pairs := versionPairs()
	type mismatch struct {
		a, b, who    string
		ours, theirs int
	}
	var (
		mu     sync.Mutex
		wrong  []mismatch
		failed error
	)
	work := make(chan [2]string)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				ours := Compare(p[0], p[1])
				for _, s := range oracles {
					theirs, err := s.compare(p[0], p[1])
					mu.Lock()
					switch {
					case err != nil:
						failed = err
					case theirs != ours:
						wrong = append(wrong, mismatch{p[0], p[1], s.name, ours, theirs})
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, p := range pairs {
		work <- p
	}
	close(work)
	wg.Wait()
	if failed != nil {
		t.Fatal(failed)
	}
	for _, m := range wrong {
		t.Errorf("Compare(%q, %q) = %d, %s says %d", m.a, m.b, m.ours, m.who, m.theirs)
	}
	t.Logf("%d pairs, %d systemds, %d disagreements", len(pairs), len(oracles), len(wrong))
}

// versionPairs builds the differential corpus: for each common start, every
// unordered pair of distinct endings, each ending one or two segments.
func versionPairs() [][2]string {
	starts := []string{"", "2.", "2~"}
	segments := []string{"", "0", "00", "1", "01", "10", "a", "rc", "Z", "~1", "-1", "^1", ".0", ".a", "_", "é", "\x00"}
	endings := append([]string{}, segments...)
	endings = append(endings, "0a", "rc1", "0.1", "0~")
	var pairs [][2]string
	for _, start := range starts {
		for i, x := range endings {
			for _, y := range endings[i+1:] {
				pairs = append(pairs, [2]string{start + x, start + y})
			}
		}
	}
	return pairs
}
