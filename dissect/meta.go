package dissect

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"io/fs"
	"strings"
)

// The files systemd-dissect reads besides os-release, in the image. They
// only describe the image (dissect's report); nothing is decided by them.
const (
	hostnamePath    = "etc/hostname"
	machineIDPath   = "etc/machine-id"
	machineInfoPath = "etc/machine-info"
)

// initPaths are where systemd-dissect looks for an init system, in order:
// one that resolves inside the image makes it bootable as a container.
var initPaths = []string{"usr/lib/systemd/systemd", "lib/systemd/systemd", "sbin/init"}

// Hostname is the image's /etc/hostname as systemd reads it: the first
// line that is neither empty nor a comment, stripped of what a hostname
// cannot hold; "" when there is none or it is not a valid hostname.
func (img *Image) Hostname() string {
	b, err := fs.ReadFile(img.FS(), hostnamePath)
	if err != nil {
		return ""
	}
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		h := cleanHostname(line)
		if !validHostname(h) {
			return ""
		}
		return h
	}
	return ""
}

// cleanHostname drops the characters a hostname cannot have, dots and
// hyphens where a label cannot have them, and what is past 64 bytes.
func cleanHostname(s string) string {
	var b []byte
	dot, hyphen := true, true // at the start of a label
	for i := 0; i < len(s) && len(b) < 64; i++ {
		switch c := s[i]; {
		case c == '.':
			if !dot && !hyphen {
				b, dot, hyphen = append(b, c), true, false
			}
		case c == '-':
			if !dot {
				b, dot, hyphen = append(b, c), false, true
			}
		case ldh(c):
			b, dot, hyphen = append(b, c), false, false
		}
	}
	if n := len(b); n > 0 && (b[n-1] == '-' || b[n-1] == '.') {
		b = b[:n-1]
	}
	return string(b)
}

// validHostname is systemd's check of a cleaned hostname: labels of
// letters, digits and inner hyphens, at most 64 bytes. A trailing dot,
// which cleaning removes, is not looked at.
func validHostname(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
	}
	return true
}

func ldh(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// MachineID is the image's /etc/machine-id as systemd reads it: 32
// hexadecimal digits on a line of their own, lower-cased; "" when the file
// is missing, empty, "uninitialized", malformed or all zeros.
func (img *Image) MachineID() string {
	b, err := fs.ReadFile(img.FS(), machineIDPath)
	if err != nil {
		return ""
	}
	line, _, found := bytes.Cut(b, []byte("\n"))
	if !found || len(line) != 32 {
		return ""
	}
	id, err := hex.DecodeString(string(line))
	if err != nil || bytes.Count(id, []byte{0}) == len(id) {
		return ""
	}
	return hex.EncodeToString(id)
}

// MachineInfo is the image's /etc/machine-info as KEY=VALUE pairs in file
// order, parsed as os-release is; nil when missing or unreadable.
func (img *Image) MachineInfo() []string {
	b, err := fs.ReadFile(img.FS(), machineInfoPath)
	if err != nil {
		return nil
	}
	m, order, err := img.envSyntax().parse(b)
	if err != nil {
		return nil
	}
	var pairs []string
	for _, k := range order {
		pairs = append(pairs, k+"="+m[k])
	}
	return pairs
}

// HasInitSystem reports whether one of systemd's init paths resolves
// inside the image.
func (img *Image) HasInitSystem() bool {
	for _, p := range initPaths {
		if _, err := fs.Stat(img.FS(), p); err == nil {
			return true
		}
	}
	return false
}
