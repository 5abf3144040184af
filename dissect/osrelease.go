package dissect

import (
	"errors"
	"fmt"
	"io/fs"
)

// ParseOSRelease parses os-release(5) text as systemd (254 and later)
// reads it: see envParser for the syntax. The whole file is refused when
// it holds a NUL byte or invalid UTF-8, as systemd refuses it.
func ParseOSRelease(b []byte) (map[string]string, error) {
	m, _, err := envParser{}.parse(b)
	return m, err
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
	fields, _, err := img.envSyntax().parse(b)
	if err != nil {
		return nil, nil, p, fmt.Errorf("/%s: %w", p, err)
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

// envSyntax is the env-file syntax of the systemd the image is read for.
func (img *Image) envSyntax() envParser {
	return envParser{commentContinues: img.systemdVersion > 0 && img.systemdVersion < 254}
}
