package imagebuild

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// unitSuffixes are the unit types portable images carry.
var unitSuffixes = []string{".service", ".socket", ".timer", ".path", ".target"}

// TreeOptions set the identity written into the image's os-release.
type TreeOptions struct {
	Version string // VERSION_ID; "" means "1"
	BuildID string // BUILD_ID: the examples print it, the tests use it as a marker
}

// BuildBinary builds example name (the Go package examplesDir/name) as a
// static binary at out.
func BuildBinary(examplesDir, name, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", abs, "./"+name)
	cmd.Dir = examplesDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build examples/%s: %v\n%s", name, err, b)
	}
	return nil
}

// Tree writes the image tree of example name into dir (created, must not
// exist): bin as /usr/bin/NAME, the example's unit files, an os-release and
// the mount points (see the package documentation).
func Tree(examplesDir, name, bin, dir string, o TreeOptions) error {
	if o.Version == "" {
		o.Version = "1"
	}
	src := filepath.Join(examplesDir, name)
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	dirs := []string{"usr/bin", "usr/lib/systemd/system", "etc", "proc", "sys", "dev", "run", "tmp", "var/tmp"}
	files := map[string][]byte{}
	for _, e := range ents {
		if !e.Type().IsRegular() || !hasUnitSuffix(e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		files["usr/lib/systemd/system/"+e.Name()] = b
		dirs = append(dirs, mountPoints(b)...)
	}
	if len(files) == 0 {
		return fmt.Errorf("examples/%s has no unit files", name)
	}
	binData, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	files["usr/bin/"+name] = binData
	files["usr/lib/os-release"] = osRelease(name, o)
	files["etc/resolv.conf"] = nil
	files["etc/machine-id"] = nil

	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	for p, b := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(p, "usr/bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, p), b, mode); err != nil {
			return err
		}
	}
	return os.Symlink("../usr/lib/os-release", filepath.Join(dir, "etc/os-release"))
}

func hasUnitSuffix(name string) bool {
	for _, s := range unitSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// mountPoints lists the directories a unit's per-service directory
// settings need in a read-only image.
func mountPoints(unit []byte) []string {
	base := map[string]string{
		"StateDirectory":         "var/lib/",
		"CacheDirectory":         "var/cache/",
		"LogsDirectory":          "var/log/",
		"ConfigurationDirectory": "etc/",
	}
	var out []string
	s := bufio.NewScanner(bytes.NewReader(unit))
	for s.Scan() {
		key, value, ok := strings.Cut(strings.TrimSpace(s.Text()), "=")
		prefix, known := base[strings.TrimSpace(key)]
		if !ok || !known {
			continue
		}
		for _, d := range strings.Fields(value) {
			d, _, _ = strings.Cut(d, ":") // "dir:symlink" (systemd 254+)
			if d != "" && !strings.Contains(d, "..") {
				out = append(out, prefix+strings.Trim(d, "/"))
			}
		}
	}
	return out
}

func osRelease(name string, o TreeOptions) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "ID=%s\nVERSION_ID=%s\n", name, o.Version)
	if o.BuildID != "" {
		fmt.Fprintf(&b, "BUILD_ID=%s\n", o.BuildID)
	}
	fmt.Fprintf(&b, "PRETTY_NAME=\"portable-generator example %s %s\"\n", name, o.Version)
	fmt.Fprintf(&b, "PORTABLE_PRETTY_NAME=\"%s %s\"\n", name, o.Version)
	fmt.Fprintf(&b, "PORTABLE_PREFIXES=%s\n", name)
	return []byte(b.String())
}
