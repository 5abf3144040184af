// Package vercmp orders version strings as systemd does, the one rule
// behind choosing among an image's versions (foo_1.2.raw, foo_1.10.raw)
// and among A/B partitions by their labels.
//
// The rule is systemd's strverscmp_improved (the UAPI.10 version format);
// its tests compare this implementation with `systemd-analyze
// compare-versions` of every systemd on the machine.
package vercmp

import (
	"cmp"
	"strings"
)

// Compare orders two version strings, returning -1 when a is older than b,
// +1 when it is newer, 0 when systemd holds them equal.
//
// A version is a run of segments, each numeric or alphabetic, each maybe
// led by a separator: '~' marks a pre-release (older than anything in its
// place, even the end of the string), '-' the release after a version
// (older than '^', '.' or a segment without separator), '^' a patch, '.' a
// point release. Numbers compare by value (leading zeros do not count), a
// number beats letters and letters beat nothing, letters compare as ASCII,
// and once one string ends the other, longer one is newer. Characters other
// than ASCII letters, digits and the four separators only split segments
// ("1_a" equals "1a", "_" equals ""). A NUL ends the string, as it ends
// systemd's C string.
func Compare(a, b string) int {
	a, b = untilNUL(a), untilNUL(b)
	for {
		a, b = dropInvalid(a), dropInvalid(b)
		if has(a, '~') || has(b, '~') {
			if r := cmpBool(!has(a, '~'), !has(b, '~')); r != 0 {
				return r
			}
			a, b = a[1:], b[1:]
		}
		// Only after '~': "1~rc" is older than "1", although it is longer.
		if a == "" || b == "" {
			return cmp.Compare(firstChar(a), firstChar(b))
		}
		for _, sep := range []byte{'-', '^', '.'} {
			if has(a, sep) || has(b, sep) {
				// The side lacking this separator goes on with a later one
				// or a segment, which is newer.
				if r := cmpBool(!has(a, sep), !has(b, sep)); r != 0 {
					return r
				}
				a, b = a[1:], b[1:]
			}
		}
		var na, nb int
		if isDigit(a) || isDigit(b) {
			na, nb = span(a, isDigitByte), span(b, isDigitByte)
			// A number beats no number, even a number that is all zeros:
			// "2.0" is newer than "2.rc" and "2.".
			if r := cmpBool(na > 0, nb > 0); r != 0 {
				return r
			}
			da, db := strings.TrimLeft(a[:na], "0"), strings.TrimLeft(b[:nb], "0")
			if r := cmp.Compare(len(da), len(db)); r != 0 {
				return r
			}
			if r := strings.Compare(da, db); r != 0 {
				return r
			}
		} else {
			na, nb = span(a, isLetter), span(b, isLetter)
			n := min(na, nb)
			if r := strings.Compare(a[:n], b[:n]); r != 0 {
				return r
			}
			if r := cmp.Compare(na, nb); r != 0 {
				return r
			}
		}
		a, b = a[na:], b[nb:]
	}
}

// firstChar is s's first byte as a C char of this machine, 0 at the end
// of s. Where systemd compares a string's end with the other string's next
// character, a byte from 0x80 up is negative on machines whose char is
// signed (x86): there "1~" is newer than "1~é"; on arm64 it is older.
func firstChar(s string) int {
	if s == "" {
		return 0
	}
	if charIsSigned() {
		return int(int8(s[0]))
	}
	return int(s[0])
}

func untilNUL(s string) string {
	s, _, _ = strings.Cut(s, "\x00")
	return s
}

// dropInvalid drops the characters that only separate segments.
func dropInvalid(s string) string {
	i := 0
	for i < len(s) && !isVersionByte(s[i]) {
		i++
	}
	return s[i:]
}

func isVersionByte(c byte) bool {
	return isDigitByte(c) || isLetter(c) || c == '~' || c == '-' || c == '^' || c == '.'
}

func has(s string, c byte) bool { return s != "" && s[0] == c }
func isDigit(s string) bool     { return s != "" && isDigitByte(s[0]) }
func isDigitByte(c byte) bool   { return c >= '0' && c <= '9' }
func isLetter(c byte) bool      { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func span(s string, ok func(byte) bool) int {
	i := 0
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
