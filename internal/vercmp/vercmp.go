// Package vercmp orders version strings as systemd does, the one rule
// behind choosing among an image's versions (foo_1.2.raw, foo_1.10.raw)
// and among A/B partitions by their labels.
package vercmp

import "strings"

// Compare orders version strings as systemd does (its
// strverscmp_improved, the UAPI.10 version format): numeric segments
// compare as numbers, '~' marks pre-releases (older), '-' separates the
// release (older than a point release), '^' marks a patch (newer), and a
// string with more segments is newer. It returns -1, 0 or +1.
func Compare(a, b string) int {
	for {
		a = strings.TrimLeftFunc(a, notVersionChar)
		b = strings.TrimLeftFunc(b, notVersionChar)
		if has(a, '~') || has(b, '~') {
			if r := cmpBool(!has(a, '~'), !has(b, '~')); r != 0 {
				return r
			}
			a, b = a[1:], b[1:]
		}
		if a == "" || b == "" {
			return strings.Compare(a, b)
		}
		for _, sep := range []byte{'-', '^', '.'} {
			if has(a, sep) || has(b, sep) {
				// The one without the separator: for '-' and '.', a string
				// that goes on with a segment is newer; '^' likewise.
				if r := cmpBool(!has(a, sep), !has(b, sep)); r != 0 {
					return r
				}
				a, b = a[1:], b[1:]
			}
		}
		var sa, sb string
		if isDigit(a) || isDigit(b) {
			a = strings.TrimLeft(a, "0")
			b = strings.TrimLeft(b, "0")
			sa, sb = a[:span(a, isDigitByte)], b[:span(b, isDigitByte)]
			if len(sa) != len(sb) {
				return cmpInt(len(sa), len(sb))
			}
			if r := strings.Compare(sa, sb); r != 0 {
				return r
			}
		} else {
			sa, sb = a[:span(a, isLetter)], b[:span(b, isLetter)]
			n := min(len(sa), len(sb))
			if r := strings.Compare(sa[:n], sb[:n]); r != 0 {
				return r
			}
			if r := cmpInt(len(sa), len(sb)); r != 0 {
				return r
			}
		}
		a, b = a[len(sa):], b[len(sb):]
	}
}

func notVersionChar(r rune) bool {
	return !(r < 0x80 && (isDigitByte(byte(r)) || isLetter(byte(r)) || strings.ContainsRune("~-^.", r)))
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

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
