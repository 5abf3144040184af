// Package text makes text that comes from images safe to show to a person.
//
// Names, os-release values and reasons built from them reach the admin's
// terminal (list, inspect, dissect) and the journal (the generator's log
// lines). An image controls those bytes: a newline would forge a second log
// record or table row, and an escape sequence would drive the admin's
// terminal. Escape is the one function every human-readable output uses.
package text

import (
	"strings"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// Escape returns s with everything a terminal or a line-based log would
// interpret written out: newline, carriage return and tab as \n, \r and \t,
// other C0 controls, DEL and bytes that are not UTF-8 as \xNN, and the C1
// controls (U+0080 to U+009F, which some terminals obey as escape sequences)
// and the Unicode line and paragraph separators as \u+NNNN. A backslash is
// kept as it is: the result is for reading, not for parsing back.
func Escape(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20 || c == 0x7f:
				writeHexByte(&b, c)
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeHexByte(&b, c)
		case r >= 0x80 && r <= 0x9f, r == 0x2028, r == 0x2029:
			b.WriteString(`\u+`)
			for shift := 12; shift >= 0; shift -= 4 {
				b.WriteByte(hexDigits[(r>>shift)&0xf])
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII only, the common case, which
// Escape returns unchanged without building a copy.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func writeHexByte(b *strings.Builder, c byte) {
	b.WriteString(`\x`)
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&0xf])
}
