package dissect

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// ParseOSRelease parses os-release(5) text: KEY=VALUE lines with shell-like
// quoting, as systemd's env-file parser reads them. Comments start a line;
// unquoted values lose trailing whitespace and take backslash escapes;
// single quotes are literal; double quotes unescape only \" \\ \$ \` and a
// backslash-newline; adjacent pieces concatenate; the last assignment wins.
// Lines that are not assignments are ignored, as systemd ignores them.
func ParseOSRelease(b []byte) (map[string]string, error) {
	m, _, err := parseOSRelease(b)
	return m, err
}

// parseOSRelease also returns the keys in the order they first appear.
func parseOSRelease(b []byte) (map[string]string, []string, error) {
	if len(b) > 1<<20 {
		return nil, nil, fmt.Errorf("os-release of %d bytes is too large", len(b))
	}
	out := map[string]string{}
	var order []string
	s := string(b)
	i := 0
	for i < len(s) {
		// Skip leading whitespace and blank lines.
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] == '#' || s[i] == ';' {
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != '\n' {
			i++
		}
		if i >= len(s) || s[i] == '\n' {
			continue // not an assignment
		}
		key := strings.TrimSpace(s[start:i])
		i++ // '='
		var val strings.Builder
		trailingSpace := 0 // unquoted trailing whitespace, trimmed at the end
	value:
		for i < len(s) {
			c := s[i]
			switch {
			case c == '\n':
				i++
				break value
			case c == '\'':
				i++
				for i < len(s) && s[i] != '\'' {
					val.WriteByte(s[i])
					i++
				}
				i++ // closing quote (or end of input)
				trailingSpace = 0
			case c == '"':
				i++
				for i < len(s) && s[i] != '"' {
					if s[i] == '\\' && i+1 < len(s) {
						switch s[i+1] {
						case '"', '\\', '$', '`':
							val.WriteByte(s[i+1])
							i += 2
							continue
						case '\n':
							i += 2
							continue
						}
					}
					val.WriteByte(s[i])
					i++
				}
				i++
				trailingSpace = 0
			case c == '\\':
				if i+1 < len(s) {
					if s[i+1] != '\n' {
						val.WriteByte(s[i+1])
					}
					i += 2
				} else {
					i++
				}
				trailingSpace = 0
			case c == ' ' || c == '\t' || c == '\r':
				if val.Len() > 0 {
					val.WriteByte(c)
					trailingSpace++
				}
				i++
			default:
				val.WriteByte(c)
				trailingSpace = 0
				i++
			}
		}
		if !validEnvName(key) {
			continue
		}
		v := val.String()
		if _, dup := out[key]; !dup {
			order = append(order, key)
		}
		out[key] = v[:len(v)-trailingSpace]
	}
	return out, order, nil
}

func validEnvName(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range []byte(k) {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// OSRelease reads the image's os-release: etc/os-release, else
// usr/lib/os-release, both resolved inside the image. It returns the parsed
// fields, the raw bytes and the path it read. A missing file is an error
// wrapping fs.ErrNotExist.
func (img *Image) OSRelease() (map[string]string, []byte, string, error) {
	b, p, err := img.osReleaseBytes()
	if err != nil {
		return nil, nil, p, err
	}
	fields, err := ParseOSRelease(b)
	if err != nil {
		return nil, nil, p, err
	}
	return fields, b, p, nil
}

// osReleaseBytes finds and reads the os-release file, in lookup order.
func (img *Image) osReleaseBytes() ([]byte, string, error) {
	var firstErr error
	for _, p := range OSReleasePaths {
		b, err := fs.ReadFile(img.FS(), p)
		if err == nil {
			return b, p, nil
		}
		if firstErr == nil || !errors.Is(err, fs.ErrNotExist) {
			firstErr = err
		}
	}
	if errors.Is(firstErr, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("no os-release (looked for /etc/os-release and /usr/lib/os-release): %w", fs.ErrNotExist)
	}
	return nil, "", firstErr
}
