// Package unitfile reads systemd unit files the way systemd's own
// configuration parser does, for the generator's decisions ([Install]
// handling, sandbox policy checks). It never writes unit files: the
// generator copies an image's units byte for byte.
//
// Semantics follow systemd.syntax(7) and systemd's parser: '\n', '\r' and NUL
// end a line, a byte-order mark is dropped, comments only at the start of a line
// ('#' or ';'), a trailing backslash continues a logical line (the backslash
// becomes a space), comment lines inside a continuation are skipped,
// whitespace around keys and values is trimmed, lines without '=' and
// assignments outside a section are ignored as systemd ignores them (with a
// warning we keep as a Problem), and a logical line longer than 1 MiB makes
// the file bad, as it makes systemd refuse the unit.
//
// go-systemd's unit package is not used for reading: it rejects lines over
// 2048 bytes, fails on comments inside continuations, and keeps raw
// backslash-newlines in values.
package unitfile

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLine is the longest logical line systemd accepts (LONG_LINE_MAX).
const MaxLine = 1 << 20

// Assignment is one KEY=VALUE line.
type Assignment struct {
	Section string
	Key     string
	Value   string // trimmed, otherwise raw: no unquoting, no specifier expansion
	Line    int    // 1-based line number where the logical line starts
	// Origin is the drop-in the line comes from (its path), "" for the
	// unit file itself; Merge sets it.
	Origin string
}

// File is a parsed unit file.
type File struct {
	Assignments []Assignment
	// Problems are the lines systemd would warn about and ignore.
	Problems []string
}

// Parse reads a unit file. It fails only where systemd would refuse to load
// the unit (a malformed section header, an over-long line).
func Parse(data []byte) (*File, error) {
	f, err := parse(data)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// parse reads a unit file up to its first fatal error and returns what it
// read before it, as systemd applies a drop-in's lines up to the one it
// cannot parse.
func parse(data []byte) (*File, error) {
	f := &File{}
	section := ""
	var cont strings.Builder
	contStart := 0
	inCont := false
	bomSeen := false
	for i, line := range splitLines(data) {
		lineNo := i + 1
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed != "" && strings.ContainsRune("#;", rune(trimmed[0])) {
			// A comment, also in the middle of a continuation.
			continue
		}
		// systemd drops the first byte-order mark it finds at the start
		// of a line (after the comment check, as it does).
		if !bomSeen {
			if rest, ok := strings.CutPrefix(line, bom); ok {
				line, bomSeen = rest, true
			}
		}
		if !inCont {
			contStart = lineNo
		}
		if endsEscaped(line) {
			cont.WriteString(line[:len(line)-1])
			cont.WriteByte(' ')
			inCont = true
			if cont.Len() > MaxLine {
				return f, fmt.Errorf("line %d: longer than %d bytes", contStart, MaxLine)
			}
			continue
		}
		logical := line // most lines stand alone: no copy
		if inCont {
			cont.WriteString(line)
			logical = cont.String()
			cont.Reset()
			inCont = false
		}
		if len(logical) > MaxLine {
			return f, fmt.Errorf("line %d: longer than %d bytes", contStart, MaxLine)
		}
		l := strings.TrimSpace(logical)
		switch {
		case l == "":
			continue
		case !utf8.ValidString(l):
			// systemd refuses the whole unit.
			return f, fmt.Errorf("line %d: not valid UTF-8", contStart)
		case l[0] == '[':
			if !strings.HasSuffix(l, "]") || len(l) < 3 {
				return f, fmt.Errorf("line %d: invalid section header %q", contStart, l)
			}
			section = l[1 : len(l)-1]
			if strings.ContainsAny(section, "[]") {
				return f, fmt.Errorf("line %d: invalid section header %q", contStart, l)
			}
			continue
		}
		key, value, ok := strings.Cut(l, "=")
		if !ok {
			f.Problems = append(f.Problems, fmt.Sprintf("line %d: missing '=', ignoring", contStart))
			continue
		}
		if section == "" {
			f.Problems = append(f.Problems, fmt.Sprintf("line %d: assignment outside of a section, ignoring", contStart))
			continue
		}
		key = strings.TrimSpace(key)
		if key == "" {
			f.Problems = append(f.Problems, fmt.Sprintf("line %d: empty key, ignoring", contStart))
			continue
		}
		f.Assignments = append(f.Assignments, Assignment{Section: section, Key: key, Value: strings.TrimSpace(value), Line: contStart})
	}
	if inCont {
		// A continuation at the end of the file ends the logical line.
		l := strings.TrimSpace(cont.String())
		if l != "" {
			if key, value, ok := strings.Cut(l, "="); ok && section != "" && strings.TrimSpace(key) != "" {
				f.Assignments = append(f.Assignments, Assignment{Section: section, Key: strings.TrimSpace(key), Value: strings.TrimSpace(value), Line: contStart})
			}
		}
	}
	return f, nil
}

const bom = "\xef\xbb\xbf"

// splitLines splits data into lines as systemd's read_line does: '\n', '\r'
// and NUL all end a line, and a run of line-end bytes counts once as long as
// no byte repeats in it ("\r\n" and "\n\r" are one line end, "\n\n" two)
// and no NUL came before. Reading "\r" as part of a line would let
// "Description=x\rUser=root" hide a setting PID 1 sees.
func splitLines(b []byte) []string {
	data := string(b) // one copy; the lines are slices of it
	lines := make([]string, 0, strings.Count(data, "\n")+1)
	start := 0
	for i := 0; i < len(data); {
		c := data[i]
		if c != '\n' && c != '\r' && c != 0 {
			i++
			continue
		}
		lines = append(lines, data[start:i])
		var seen uint8 // bits: 1 '\n', 2 '\r', 4 NUL
		for i < len(data) && seen&4 == 0 {
			bit := eolBit(data[i])
			if bit == 0 || seen&bit != 0 {
				break
			}
			seen |= bit
			i++
		}
		start = i
	}
	if start < len(data) {
		lines = append(lines, data[start:])
	}
	return lines
}

func eolBit(c byte) uint8 {
	switch c {
	case '\n':
		return 1
	case '\r':
		return 2
	case 0:
		return 4
	}
	return 0
}

// endsEscaped reports whether line ends in an unescaped backslash.
func endsEscaped(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// Values returns every value assigned to key in section, in order, with
// systemd's list semantics: an empty assignment drops the values before it.
func (f *File) Values(section, key string) []string {
	var out []string
	for _, a := range f.Assignments {
		if a.Section != section || a.Key != key {
			continue
		}
		if a.Value == "" {
			out = nil
			continue
		}
		out = append(out, a.Value)
	}
	return out
}

// Last returns the last value assigned to key in section (the one systemd
// uses for a single-valued setting).
func (f *File) Last(section, key string) (string, bool) {
	for i := len(f.Assignments) - 1; i >= 0; i-- {
		a := f.Assignments[i]
		if a.Section == section && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// Words splits every value of a list setting into words (SplitWords) and
// applies the reset semantics of Values.
func (f *File) Words(section, key string) ([]string, error) {
	var out []string
	for _, v := range f.Values(section, key) {
		w, err := SplitWords(v)
		if err != nil {
			return nil, err
		}
		out = append(out, w...)
	}
	return out, nil
}

// SplitWords splits a value into words as systemd's extract_first_word
// does for lists: whitespace separates words, single and double quotes group
// (and are removed), and a backslash escapes the next character (\n, \t,
// \\, quotes; other escapes keep the character).
func SplitWords(v string) ([]string, error) { return splitWords(v, false) }

// SplitWordsKeepingEscapes splits a value as SplitWords does but leaves
// every backslash sequence as written, for settings PID 1 C-unescapes after
// splitting (the directory settings, an Exec line's first word). A trailing
// backslash is kept and an unbalanced quote ends the last word, as
// extract_first_word with EXTRACT_RETAIN_ESCAPE leaves them for the caller.
func SplitWordsKeepingEscapes(v string) []string {
	words, _ := splitWords(v, true)
	return words
}

func splitWords(v string, keepEscapes bool) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && keepEscapes:
			w.WriteByte(c)
			if i+1 < len(v) {
				i++
				w.WriteByte(v[i])
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(v) {
				return nil, fmt.Errorf("trailing backslash in %q", v)
			}
			i++
			switch v[i] {
			case 'n':
				w.WriteByte('\n')
			case 't':
				w.WriteByte('\t')
			default:
				w.WriteByte(v[i])
			}
			inWord = true
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				w.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote = c
			inWord = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 && !keepEscapes {
		return nil, fmt.Errorf("unbalanced quote in %q", v)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
