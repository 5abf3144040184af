package dissect

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// maxEnvFile bounds an os-release file: real ones are a few hundred bytes.
const maxEnvFile = 1 << 20

// envParser reads systemd's environment-file syntax (os-release,
// extension-release), as systemd's own env-file parser does, character by
// character. A line is KEY=VALUE; the key is everything before the first
// '=' (leading and trailing blanks dropped, anything else kept: "1BAD" and
// "FOO BAR" are keys); a line without '=' is ignored, and so is a line
// starting with '#' or ';'. Both '\n' and '\r' end a line. Right after
// '=' and after a closing quote, blanks are skipped and quotes open:
// single quotes keep everything, double quotes unescape only \" \\ \` \$
// and drop a backslash-newline. Once a value has begun unquoted, quotes
// are ordinary characters; a backslash takes the next character literally
// (a backslash-newline continues the line) and trailing blanks are dropped.
type envParser struct {
	// commentContinues is systemd before 254: a comment line ending in a
	// backslash swallows the next line too.
	commentContinues bool
}

// parse returns the assignments and their keys in order of first
// appearance (a later assignment replaces the value in place). Like
// systemd, it refuses the whole file when it holds a NUL byte or when a
// key or value is not valid UTF-8 by systemd's rule.
func (p envParser) parse(b []byte) (map[string]string, []string, error) {
	if len(b) > maxEnvFile {
		return nil, nil, fmt.Errorf("%d bytes, more than %d", len(b), maxEnvFile)
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return nil, nil, fmt.Errorf("a NUL byte at offset %d", i)
	}
	const (
		beforeKey = iota
		inKey
		beforeValue
		inValue
		valueEscape
		singleQuoted
		doubleQuoted
		doubleQuotedEscape
		inComment
		commentEscape
	)
	out := map[string]string{}
	var order []string
	var key, value []byte
	keyEnd, valueEnd := -1, -1 // where trailing blanks start, -1 when none
	line := 1
	push := func(trimValue bool) error {
		if keyEnd >= 0 {
			key = key[:keyEnd]
		}
		if trimValue && valueEnd >= 0 {
			value = value[:valueEnd]
		}
		k, v := string(key), string(value)
		key, value = key[:0], nil
		if !validUTF8(k) {
			return fmt.Errorf("line %d: key %q is not valid UTF-8", line, k)
		}
		if !validUTF8(v) {
			return fmt.Errorf("line %d: the value of %s is not valid UTF-8", line, k)
		}
		if _, seen := out[k]; !seen {
			order = append(order, k)
		}
		out[k] = v
		return nil
	}
	state := beforeKey
	for _, c := range b {
		newline := c == '\n' || c == '\r'
		blank := newline || c == ' ' || c == '\t'
		switch state {
		case beforeKey:
			switch {
			case c == '#' || c == ';':
				state = inComment
			case !blank:
				state, key, keyEnd = inKey, append(key[:0], c), -1
			}
		case inKey:
			switch {
			case newline:
				state, key = beforeKey, key[:0]
			case c == '=':
				state, valueEnd = beforeValue, -1
			default:
				if !blank {
					keyEnd = -1
				} else if keyEnd < 0 {
					keyEnd = len(key)
				}
				key = append(key, c)
			}
		case beforeValue:
			switch {
			case newline:
				if err := push(false); err != nil {
					return nil, nil, err
				}
				state = beforeKey
			case c == '\'':
				state = singleQuoted
			case c == '"':
				state = doubleQuoted
			case c == '\\':
				state = valueEscape
			case !blank:
				state, value = inValue, append(value, c)
			}
		case inValue:
			switch {
			case newline:
				if err := push(true); err != nil {
					return nil, nil, err
				}
				state = beforeKey
			case c == '\\':
				state, valueEnd = valueEscape, -1
			default:
				if !blank {
					valueEnd = -1
				} else if valueEnd < 0 {
					valueEnd = len(value)
				}
				value = append(value, c)
			}
		case valueEscape:
			state = inValue
			if !newline {
				value = append(value, c)
			}
		case singleQuoted:
			if c == '\'' {
				state = beforeValue
			} else {
				value = append(value, c)
			}
		case doubleQuoted:
			switch c {
			case '"':
				state = beforeValue
			case '\\':
				state = doubleQuotedEscape
			default:
				value = append(value, c)
			}
		case doubleQuotedEscape:
			state = doubleQuoted
			switch c {
			case '"', '\\', '`', '$':
				value = append(value, c)
			case '\n':
			default:
				value = append(value, '\\', c)
			}
		case inComment:
			switch {
			case c == '\\':
				state = commentEscape
			case newline:
				state = beforeKey
			}
		case commentEscape:
			state = inComment
			if newline && !p.commentContinues {
				state = beforeKey
			}
		}
		if newline {
			line++
		}
	}
	switch state {
	case beforeValue, inValue, valueEscape, singleQuoted, doubleQuoted, doubleQuotedEscape:
		if err := push(state == inValue); err != nil {
			return nil, nil, err
		}
	}
	return out, order, nil
}

// validUTF8 is systemd's test of UTF-8, stricter than Go's: it also
// refuses the noncharacters U+FDD0 to U+FDEF and U+xFFFE, U+xFFFF.
func validUTF8(s string) bool {
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			return false
		case r >= 0xFDD0 && r <= 0xFDEF, r&0xFFFE == 0xFFFE:
			return false
		}
		s = s[size:]
	}
	return true
}
