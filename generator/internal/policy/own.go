package policy

import (
	"path"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/names"
)

// instanceMark stands in an expanded name for %i or %j, the instance and
// the last dash-separated part of the prefix: values that cannot hold a '/'
// (unit names cannot), so after an own name and a separator they stay in
// the image's namespace (DESIGN.md, Specifiers). The byte is none a name,
// a prefix or a separator can hold.
const instanceMark = "\x00"

// expandOwn expands the specifiers that derive from the unit's own name
// (%n, %N, %p, %%), and writes instanceMark for %i and %j. ok is false when
// another specifier remains: its value (%I, which may hold a '/', the host
// name) is not the image's to claim.
func (c *unitCheck) expandOwn(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	full := c.name
	noType := strings.TrimSuffix(full, c.typ)
	prefix, _, _ := strings.Cut(noType, "@")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", false
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'n':
			b.WriteString(full)
		case 'N':
			b.WriteString(noType)
		case 'p':
			b.WriteString(prefix)
		case 'i', 'j':
			b.WriteString(instanceMark)
		default:
			return "", false
		}
	}
	return b.String(), true
}

// ownName reports whether a name (an account, a directory's first
// component, a socket file) is in the image's namespace (package names), or
// in the namespace of a name the admin let it claim.
func (c *unitCheck) ownName(s string) bool {
	s, ok := c.expandOwn(s)
	return ok && c.ownExpandedName(s)
}

func (c *unitCheck) ownExpandedName(s string) bool {
	return names.InNamespace(s, c.img.Prefixes) || names.InNamespace(s, c.img.Claims)
}

// ownRelativePath reports whether a relative directory setting
// (StateDirectory=foo/sub) is normalized and starts with an own name.
func (c *unitCheck) ownRelativePath(p string) bool {
	p, ok := c.expandOwn(p)
	return ok && c.ownExpandedRelativePath(p)
}

func (c *unitCheck) ownExpandedRelativePath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		// An instance could be "." or "..": a component that nothing
		// but dots and instances make could leave the directory.
		if strings.Contains(part, instanceMark) && strings.Trim(part, "."+instanceMark) == "" {
			return false
		}
	}
	first, _, _ := strings.Cut(p, "/")
	return c.ownExpandedName(first)
}

// ownRunPath reports whether an absolute path lies in the image's own part
// of /run: /run/NAME... with NAME an own name, normalized.
func (c *unitCheck) ownRunPath(p string) bool {
	return c.ownPathBelow(runParent, p, false)
}

// runParent is /run alone, for what must lie in the image's own /run
// directory (sockets, FIFOs, PID files, .path watches).
var runParent = []string{"/run"}

// ownPathBelow reports whether an absolute path lies in the image's own
// part of one of parents: PARENT/NAME... with NAME an own name, normalized.
// For a glob, the own name may not hold a pattern: /run/* is the whole of
// the host's /run.
func (c *unitCheck) ownPathBelow(parents []string, p string, glob bool) bool {
	p, ok := c.expandOwn(p)
	if !ok || path.Clean(p) != p {
		return false
	}
	for _, parent := range parents {
		rest, ok := strings.CutPrefix(p, parent+"/")
		if !ok {
			continue
		}
		first, _, _ := strings.Cut(rest, "/")
		if glob && strings.ContainsAny(first, "*?[") {
			return false
		}
		return c.ownExpandedRelativePath(rest)
	}
	return false
}
