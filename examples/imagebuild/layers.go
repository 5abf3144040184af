package imagebuild

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// The layered images: a base "minimal" that carries the runtime
// (examples/minimal) and no app, and small extensions that each carry one
// app's unit and data, in the shapes systemd's own portable-services test
// suite (TEST-29-PORTABLE) uses. They are made by the same tools
// (mksquashfs, veritysetup) or left as directories.

// BaseID and BaseVersionID are the base's os-release identity; extensions
// that fit it repeat them.
const (
	BaseID        = "portable-minimal"
	BaseVersionID = "1"
)

// layer is one image tree: files by path (content), directories, and the
// user.extension-release.strict attribute on files.
type layer struct {
	files  map[string]string
	dirs   []string
	strict map[string]string
}

// Layers are the trees Layer writes, by image name: "minimal_0" and
// "minimal_1" (two versions of the base, MARKER=1 and 2; each ships
// minimal-app0.service and one more unit, -foo in _0 and -bar in _1),
// "app0" (release file extension-release.app0), "app0_2" (its next
// version, another message), "app1" (a release file named app2 and the
// strict=false attribute, SYSEXT_SCOPE=portable, its own
// PORTABLE_PREFIXES=app1), "app3" (an app whose release file says
// VERSION_ID=2, refused over the base), "conf0" (a configuration
// extension with CONFEXT_IMAGE_ID=app: systemd 255+), and "app-data-only"
// (no units, ID=_any).
var Layers = []string{"minimal_0", "minimal_1", "app0", "app0_2", "app1", "app3", "conf0", "app-data-only"}

func layerSpec(name string) (layer, error) {
	service := func(app, value, extra string) string {
		exec := "/usr/bin/minimal " + app
		if value != "" {
			exec += " " + value
		}
		return "[Unit]\nDescription=" + app + ", an app over the minimal base\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=" + exec + "\n" + extra
	}
	release := func(lines ...string) string { return strings.Join(lines, "\n") + "\n" }
	fits := []string{"ID=" + BaseID, "VERSION_ID=" + BaseVersionID}
	switch name {
	case "minimal_0", "minimal_1":
		n := name[len(name)-1:]
		other := map[string]string{"0": "foo", "1": "bar"}[n]
		return layer{
			files: map[string]string{
				"usr/lib/os-release": release("ID="+BaseID, "VERSION_ID="+BaseVersionID, "IMAGE_ID=minimal", "IMAGE_VERSION="+n,
					"MARKER="+map[string]string{"0": "1", "1": "2"}[n], "PORTABLE_PREFIXES=app0 minimal minimal-app0", "PORTABLE_SCOPE=any"),
				"usr/lib/systemd/system/minimal-app0.service":               service("minimal-app0", "", ""),
				"usr/lib/systemd/system/minimal-app0-" + other + ".service": service("minimal-app0-"+other, "", ""),
				"etc/resolv.conf": "",
				"etc/machine-id":  "",
				"etc/os-release":  "->../usr/lib/os-release",
				"usr/bin/minimal": "<binary>",
			},
			// /var/lib/app1 is app1's StateDirectory= mount point, as in
			// TEST-29's base; app0 brings its own (TemporaryFileSystem=).
			dirs: []string{"proc", "sys", "dev", "run", "tmp", "var/tmp", "var/lib/app1", "opt", "usr/lib/extension-release.d"},
		}, nil
	case "app0", "app0_2":
		msg := map[string]string{"app0": "hello from app0 1", "app0_2": "hello from app0 2"}[name]
		return layer{files: map[string]string{
			"usr/lib/extension-release.d/extension-release.app0": release(append(fits, "SYSEXT_IMAGE_ID=app")...),
			"usr/lib/systemd/system/app0.service":                service("app0", "bar", "TemporaryFileSystem=/var/lib /home\nStateDirectory=app0\nRuntimeDirectory=app0\n"),
			"opt/app0/message":                                   msg,
		}}, nil
	case "app1":
		rel := "usr/lib/extension-release.d/extension-release.app2"
		return layer{files: map[string]string{
			rel:                                   release(append(fits, "SYSEXT_SCOPE=portable", "SYSEXT_IMAGE_ID=app", "SYSEXT_IMAGE_VERSION=1", "PORTABLE_PREFIXES=app1")...),
			"usr/lib/systemd/system/app1.service": service("app1", "baz", "TemporaryFileSystem=/home\nStateDirectory=app1\nRuntimeDirectory=app1\n"),
			"opt/app1/message":                    "hello from app1",
		}, strict: map[string]string{rel: "false"}}, nil
	case "app3":
		return layer{files: map[string]string{
			"usr/lib/extension-release.d/extension-release.app3": release("ID="+BaseID, "VERSION_ID=2", "PORTABLE_PREFIXES=app3"),
			"usr/lib/systemd/system/app3.service":                service("app3", "", ""),
		}}, nil
	case "conf0":
		return layer{files: map[string]string{
			"etc/extension-release.d/extension-release.conf0": release(append(fits, "CONFEXT_IMAGE_ID=app")...),
			"etc/app0/message": "configured by conf0",
		}}, nil
	case "app-data-only":
		return layer{files: map[string]string{
			"usr/lib/extension-release.d/extension-release.app-data-only": release("ID=_any", "ARCHITECTURE=_any"),
			"opt/data-file": "MARKER_DATA_ONLY=1",
		}}, nil
	}
	return layer{}, fmt.Errorf("no layer %q (known: %s)", name, strings.Join(Layers, ", "))
}

// Layer writes the tree of the layered image name (see Layers) into dir
// (created, must not exist); bin is examples/minimal built by
// BuildBinary, needed by the base only. The strict=false attribute needs a
// file system that keeps user attributes (tmpfs, ext4, btrfs, xfs).
func Layer(name, bin, dir string) error {
	spec, err := layerSpec(name)
	if err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for _, d := range spec.dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	paths := make([]string, 0, len(spec.files))
	for p := range spec.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		content, full := spec.files[p], filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(content, "->"):
			err = os.Symlink(content[2:], full)
		case content == "<binary>":
			var b []byte
			if b, err = os.ReadFile(bin); err == nil {
				err = os.WriteFile(full, b, 0o755)
			}
		default:
			err = os.WriteFile(full, []byte(content), 0o644)
		}
		if err != nil {
			return err
		}
	}
	for p, v := range spec.strict {
		if err := unix.Setxattr(filepath.Join(dir, p), "user.extension-release.strict", []byte(v), 0); err != nil {
			return fmt.Errorf("setting user.extension-release.strict on %s (does %s keep user attributes?): %w", p, dir, err)
		}
	}
	return nil
}

// VeritySidecars formats a dm-verity hash tree for a naked file-system
// image with veritysetup, as TEST-29 does for its extensions: STEM.verity
// and STEM.roothash beside it (STEM is the path without .raw). It returns
// the root hash.
func VeritySidecars(img string) (string, error) {
	stem := strings.TrimSuffix(img, ".raw")
	if err := runTool("veritysetup", "format", img, stem+".verity", "--root-hash-file", stem+".roothash"); err != nil {
		return "", err
	}
	b, err := os.ReadFile(stem + ".roothash")
	return strings.TrimSpace(string(b)), err
}
