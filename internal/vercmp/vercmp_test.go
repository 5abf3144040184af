package vercmp

import (
	"runtime"
	"testing"
)

// orderedExamples are pairs in increasing order, from the UAPI.10 version
// format's examples and systemd's own test of strverscmp_improved.
var orderedExamples = [][2]string{
	{"1", "2"},
	{"1.2", "1.10"}, // numeric, not lexical
	{"9", "10"},
	{"122", "123"},
	{"123~rc1", "123"}, // pre-release is older
	{"123~rc1", "123~rc2"},
	{"123~rc2", "123.0"},
	{"123", "123.1"},     // more segments is newer
	{"123-9", "123.1-1"}, // release separator is older than a point release
	{"123", "123^post1"}, // a patch is newer
	{"123.a", "123.b"},
	{"123.a", "123.1"}, // numbers beat letters
	{"abc", "abcd"},
	{"1.0", "1.0.1"},
	{"0.7.23", "0.7.24"},
	{"", "0"},
	{"2.rc", "2.0"}, // a number beats letters, even a number of zeros
	{"2.", "2.0"},
	{"2.rc", "2.00"},
	{"~1", ""}, // a pre-release is older than the end of the string
	{"1~", "1"},
}

func TestCompare(t *testing.T) {
	for _, p := range orderedExamples {
		if got := Compare(p[0], p[1]); got != -1 {
			t.Errorf("Compare(%q, %q) = %d, want -1", p[0], p[1], got)
		}
		if got := Compare(p[1], p[0]); got != 1 {
			t.Errorf("Compare(%q, %q) = %d, want 1", p[1], p[0], got)
		}
	}
	for _, p := range [][2]string{{"1.0", "1.0"}, {"01", "1"}, {"1_", "1"}, {"", "_"}, {"1\x00a", "1"}} {
		if got := Compare(p[0], p[1]); got != 0 {
			t.Errorf("Compare(%q, %q) = %d, want 0", p[0], p[1], got)
		}
	}
}

func FuzzCompare(f *testing.F) {
	f.Add("1.2~rc1", "1.2-3")
	f.Fuzz(func(t *testing.T, a, b string) {
		if Compare(a, b) != -Compare(b, a) {
			t.Fatalf("not antisymmetric: %q %q", a, b)
		}
	})
}

// Where one string ends, systemd compares the other's next byte as a C
// char: a byte from 0x80 up is negative where char is signed.
func TestCompareEndAgainstHighByte(t *testing.T) {
	want := 1
	if charIsSigned() {
		want = -1
	}
	if got := Compare("1~é", "1~"); got != want {
		t.Errorf("Compare(%q, %q) = %d, want %d on %s", "1~é", "1~", got, want, runtime.GOARCH)
	}
}
