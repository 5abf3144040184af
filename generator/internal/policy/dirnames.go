package policy

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// PID 1 reads the directory settings (StateDirectory=, RuntimeDirectory=,
// CacheDirectory=, LogsDirectory=, ConfigurationDirectory=) with C escapes:
// RuntimeDirectory=\x64bus is /run/dbus, and \x25 is a '%' whose specifier
// is then expanded. Judged as written, such a name passed for the own name
// of an image called x64bus, and the host check looked for /run/x64bus.
// So the policy and the claims read these settings as systemd 252 and 257
// do (config_parse_exec_directories): split into words (quotes removed,
// escapes kept), each word into a directory and an optional link name at
// an unescaped ':', each of them C-unescaped; specifiers are expanded
// after that, by the callers.

// directoryNames returns the names of a directory setting's value, each
// word's directory and link name together. A word that does not unescape
// ends the list: systemd ignores it and the rest of the line.
func directoryNames(v string) [][]string {
	var out [][]string
	for _, w := range unitfile.SplitWordsKeepingEscapes(v) {
		parts, ok := unescape(w, true)
		if !ok {
			break
		}
		out = append(out, parts)
	}
	return out
}

// cunescape C-unescapes a whole word as systemd's cunescape does; ok is
// false for an escape systemd refuses.
func cunescape(w string) (string, bool) {
	if !strings.Contains(w, "\\") {
		return w, true
	}
	parts, ok := unescape(w, false)
	if !ok {
		return "", false
	}
	return parts[0], true
}

// unescape C-unescapes a word; ok is false for an escape systemd refuses.
// With atColons (the directory settings) it also splits the word at
// unescaped ':', and "\:" is a ':' in a name; without, "\:" is refused as
// cunescape refuses it.
func unescape(w string, atColons bool) (parts []string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case c == ':' && atColons:
			parts = append(parts, b.String())
			b.Reset()
		case c != '\\':
			b.WriteByte(c)
		case atColons && i+1 < len(w) && w[i+1] == ':':
			b.WriteByte(':')
			i++
		default:
			d, n := cunescapeOne(w[i+1:])
			if n == 0 {
				return nil, false
			}
			b.WriteString(d)
			i += n
		}
	}
	return append(parts, b.String()), true
}

// cunescapeOne decodes the escape after a backslash as systemd's
// cunescape_one does: what it stands for (\xHH and octal a byte, \u and \U
// a code point in UTF-8) and how many bytes it took, n 0 when the escape is
// invalid (an unknown letter, a NUL, a code point beyond Unicode).
func cunescapeOne(s string) (decoded string, n int) {
	if s == "" {
		return "", 0
	}
	// number reads the digits after the escape's letter (start 1), or
	// from its first byte on (start 0, octal).
	number := func(start, digits, base int, codePoint bool) (string, int) {
		if len(s) < start+digits {
			return "", 0
		}
		v, err := strconv.ParseUint(s[start:start+digits], base, 32)
		switch {
		case err != nil || v == 0:
			return "", 0
		case codePoint && (v > utf8.MaxRune || !utf8.ValidRune(rune(v))):
			return "", 0
		case codePoint:
			return string(rune(v)), start + digits
		}
		return string([]byte{byte(v)}), start + digits
	}
	switch s[0] {
	case 'a':
		return "\a", 1
	case 'b':
		return "\b", 1
	case 'f':
		return "\f", 1
	case 'n':
		return "\n", 1
	case 'r':
		return "\r", 1
	case 't':
		return "\t", 1
	case 'v':
		return "\v", 1
	case '\\', '"', '\'':
		return s[:1], 1
	case 's':
		return " ", 1
	case 'x':
		return number(1, 2, 16, false)
	case 'u':
		return number(1, 4, 16, true)
	case 'U':
		return number(1, 8, 16, true)
	case '0', '1', '2', '3':
		// Three octal digits: at most 0377, one byte.
		return number(0, 3, 8, false)
	}
	return "", 0
}
