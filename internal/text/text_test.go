package text

import (
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// Plain text and ordinary UTF-8 pass through.
		{"foo_1.2.raw", "foo_1.2.raw"},
		{"Grüße, 世界", "Grüße, 世界"},
		{`a\b`, `a\b`},
		// A newline would forge a log record or a table row.
		{"foo\nportable-generator: bar: attached", `foo\nportable-generator: bar: attached`},
		{"a\rb\tc", `a\rb\tc`},
		// ESC starts a terminal control sequence; NUL and DEL too are controls.
		{"\x1b]0;owned\x07", `\x1b]0;owned\x07`},
		{"\x00\x7f", `\x00\x7f`},
		// C1 controls: CSI (U+009B) is ESC [ for many terminals.
		{"\u009b31m", `\u+009b31m`},
		{"x\u2028y", `x\u+2028y`},
		// Bytes that are not UTF-8.
		{"\xff\xfe", `\xff\xfe`},
		{"caf\xc3", `caf\xc3`},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzEscape checks that no output of Escape holds a byte a terminal or a
// line-based log would act on.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2J", "\u009b", "\xff", "a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q is not UTF-8", s, out)
		}
		for i, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
				t.Fatalf("Escape(%q) = %q keeps %U at %d", s, out, r, i)
			}
		}
	})
}
