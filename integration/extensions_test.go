//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
	"github.com/portable-generator/portable-generator/profiles"
)

// The extension scenarios of systemd's TEST-29-PORTABLE, attached by
// presence: the base minimal (examples/imagebuild Layers) with the apps
// app0 and app1 as extension images, named by Base= in their .portable
// files instead of portablectl's --extension.

// layerUnits are every unit the layered images carry.
var layerUnits = []string{"app0.service", "app1.service", "app3.service",
	"minimal-app0.service", "minimal-app0-foo.service", "minimal-app0-bar.service"}

var (
	layerOnce  sync.Once
	layerErr   error
	layerTrees string // WORKDIR/layers/NAME: the trees of imagebuild.Layers
)

// layerTree returns the tree of a layered image, built once per suite.
func layerTree(t *testing.T, name string) string {
	t.Helper()
	layerOnce.Do(func() {
		layerTrees = filepath.Join(workDir, "layers")
		bin := filepath.Join(workDir, "minimal")
		if layerErr = imagebuild.BuildBinary(examplesDir, "minimal", bin); layerErr != nil {
			return
		}
		if layerErr = os.MkdirAll(layerTrees, 0o755); layerErr != nil {
			return
		}
		for _, n := range imagebuild.Layers {
			if layerErr = imagebuild.Layer(n, bin, filepath.Join(layerTrees, n)); layerErr != nil {
				return
			}
		}
	})
	if layerErr != nil {
		t.Fatal(layerErr)
	}
	return filepath.Join(layerTrees, name)
}

// dropLayer packs a layered image into dir (a host path: the container's
// /var/lib/portables by default) under its own name, a directory or
// NAME.raw, and returns the container's path of it.
func dropLayer(t *testing.T, name string, kind imagebuild.Kind, dir string) string {
	t.Helper()
	if dir == "" {
		dir = ct.portables
	}
	file := name
	if kind != imagebuild.Directory {
		file += ".raw"
	}
	if _, err := imagebuild.Pack(layerTree(t, name), kind, filepath.Join(dir, file)); err != nil {
		t.Fatal(err)
	}
	if dir == ct.portables {
		return "/var/lib/portables/" + file
	}
	return "/" + strings.TrimPrefix(filepath.Join(dir, file), ct.merged+"/")
}

// freshLayers is fresh for the layered images: their units stopped, their
// state gone.
func freshLayers(t *testing.T) {
	fresh(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ct.exec(ctx, append([]string{"systemctl", "stop"}, layerUnits...)...)
		ct.exec(ctx, "rm", "-rf", "/var/lib/private/app0", "/var/lib/private/app1", "/var/lib/app0", "/var/lib/app1")
		ct.exec(ctx, append([]string{"systemctl", "reset-failed"}, layerUnits...)...)
	})
}

// runApp (re)starts an app's oneshot and returns the line it left in its
// state directory: what it saw through the layers.
func runApp(t *testing.T, app string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := ct.exec(ctx, "systemctl", "restart", app+".service"); err != nil {
		t.Fatalf("systemctl restart %s.service: %v\n%s\n%s", app, err, out,
			ct.sh("portable-generator list; systemctl status --no-pager -n 30 "+app+".service; journalctl -q -n 20 --no-pager -u "+app+".service"))
	}
	return ct.sh("cat /var/lib/private/" + app + "/seen")
}

func wantLine(t *testing.T, what, got string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(" "+got+" ", " "+p+" ") {
			t.Errorf("%s: %q lacks %q", what, got, p)
		}
	}
}

// baseWithTwoApps drops the base minimal_0 as baseKind and the apps app0
// and app1 over it as appKind, each app's settings naming the base, and
// reloads; it returns the container's paths of the three images.
func baseWithTwoApps(t *testing.T, baseKind, appKind imagebuild.Kind) (base, app0, app1 string) {
	t.Helper()
	freshLayers(t)
	base = dropLayer(t, "minimal_0", baseKind, "")
	app0 = dropLayer(t, "app0", appKind, "")
	app1 = dropLayer(t, "app1", appKind, "")
	settings(t, "app0", "Base=minimal\n")
	settings(t, "app1", "Base=minimal\n")
	ct.must(t, "systemctl", "daemon-reload")
	return base, app0, app1
}

// TestExtensions: TEST-29-PORTABLE's extension scenarios, by presence.
func TestExtensions(t *testing.T) {
	// A base with two app extensions, sharing it at once (I6, I12, I18):
	// each app runs its unit from its extension with the base's binary,
	// sees the base's os-release, and keeps its state on the host. app1's
	// release file has another name and the strict=false attribute.
	t.Run("base-with-two-apps", func(t *testing.T) {
		base, app0, app1 := baseWithTwoApps(t, imagebuild.Squashfs, imagebuild.Squashfs)
		wantLine(t, "app0", runApp(t, "app0"), "app0", "marker=1", "base=0", "message=hello from app0 1", "state=bar")
		wantLine(t, "app1", runApp(t, "app1"), "app1", "marker=1", "message=hello from app1", "state=baz")
		for unit, want := range map[string]string{"app0": app0, "app1": app1} {
			if got := ct.show(t, unit+".service", "RootImage"); got != base {
				t.Errorf("%s RootImage=%s, want %s", unit, got, base)
			}
			if got := ct.show(t, unit+".service", "ExtensionImages"); !strings.Contains(got, want) {
				t.Errorf("%s ExtensionImages=%s, want %s", unit, got, want)
			}
		}
		for app, want := range map[string]string{"app0": "bar", "app1": "baz"} {
			if got := ct.sh("cat /var/lib/private/" + app + "/foo"); got != want {
				t.Errorf("/var/lib/private/%s/foo: %q, want %q", app, got, want)
			}
		}
		if !strings.Contains(ct.must(t, "portable-generator", "inspect", "app1"), "found by strict-xattr") {
			t.Errorf("inspect app1 does not show its release file found by the attribute:\n%s", ct.sh("portable-generator inspect app1"))
		}
		// The base attaches its own units too.
		if got := ct.show(t, "minimal-app0.service", "LoadState"); got != "loaded" {
			t.Errorf("the base's own minimal-app0.service: %s", got)
		}
	})

	// Reattach to a new base version (I7) and to a new extension version
	// (I9): dropping minimal_1.raw moves every app over to it; app0_2.raw
	// replaces app0 on systemd 256 and later, which find its release file
	// by the image name, and is passed over for app0.raw on 252.
	t.Run("new-base-and-extension-versions", func(t *testing.T) {
		freshLayers(t)
		dropLayer(t, "minimal_0", imagebuild.Squashfs, "")
		dropLayer(t, "app0", imagebuild.Squashfs, "")
		settings(t, "app0", "Base=minimal\n")
		ct.must(t, "systemctl", "daemon-reload")
		wantLine(t, "app0 over minimal_0", runApp(t, "app0"), "marker=1", "base=0")
		base1 := dropLayer(t, "minimal_1", imagebuild.Squashfs, "")
		ct.must(t, "systemctl", "daemon-reload")
		wantLine(t, "app0 over minimal_1", runApp(t, "app0"), "marker=2", "base=1", "message=hello from app0 1")
		if got := ct.show(t, "app0.service", "RootImage"); got != base1 {
			t.Errorf("RootImage=%s, want %s", got, base1)
		}
		dropLayer(t, "app0_2", imagebuild.Squashfs, "")
		ct.must(t, "systemctl", "daemon-reload")
		line := runApp(t, "app0")
		if ct.version >= 256 {
			wantLine(t, "app0_2 over minimal_1", line, "marker=2", "message=hello from app0 2")
		} else {
			wantLine(t, "app0_2 on 252 keeps app0", line, "message=hello from app0 1")
			if l := listLine(t, "app0"); !strings.Contains(l, "/var/lib/portables/app0.raw") {
				t.Errorf("list: %s", l)
			}
		}
	})

	// An extension whose release says VERSION_ID=2 over a base with
	// VERSION_ID=1 is refused, naming the extension and the key; the other
	// app over the same base runs.
	t.Run("refused-version", func(t *testing.T) {
		freshLayers(t)
		dropLayer(t, "minimal_0", imagebuild.Squashfs, "")
		dropLayer(t, "app3", imagebuild.Squashfs, "")
		dropLayer(t, "app0", imagebuild.Squashfs, "")
		settings(t, "app3", "Base=minimal\n")
		settings(t, "app0", "Base=minimal\n")
		ct.must(t, "systemctl", "daemon-reload")
		if got := ct.show(t, "app3.service", "LoadState"); got != "not-found" {
			t.Errorf("app3.service: %s, want not-found", got)
		}
		if l := listLine(t, "app3"); !strings.Contains(l, "skipped") || !strings.Contains(l, "extension app3") || !strings.Contains(l, "VERSION_ID=2") {
			t.Errorf("list: %s", l)
		}
		wantLine(t, "app0", runApp(t, "app0"), "state=bar")
	})

	// Directory extensions over a directory base (D4): ExtensionDirectories=.
	t.Run("directories", func(t *testing.T) {
		base, app0, _ := baseWithTwoApps(t, imagebuild.Directory, imagebuild.Directory)
		wantLine(t, "app0", runApp(t, "app0"), "marker=1", "message=hello from app0 1", "state=bar")
		wantLine(t, "app1", runApp(t, "app1"), "marker=1", "message=hello from app1", "state=baz")
		if got := ct.show(t, "app0.service", "RootDirectory"); got != base {
			t.Errorf("RootDirectory=%s, want %s", got, base)
		}
		if got := ct.show(t, "app0.service", "ExtensionDirectories"); got != app0 {
			t.Errorf("ExtensionDirectories=%s, want %s", got, app0)
		}
	})

	// An extension with verity sidecars, made by veritysetup as TEST-29
	// makes app0's: PID 1 finds them beside the path ExtensionImages=
	// names; inspect shows the root hash. (Not started: no device-mapper
	// in the container.)
	t.Run("verity-sidecars", func(t *testing.T) {
		freshLayers(t)
		dropLayer(t, "minimal_0", imagebuild.Squashfs, "")
		app0 := dropLayer(t, "app0", imagebuild.Squashfs, "")
		hash, err := imagebuild.VeritySidecars(filepath.Join(ct.portables, "app0.raw"))
		if err != nil {
			t.Fatal(err)
		}
		settings(t, "app0", "Base=minimal\n")
		ct.must(t, "systemctl", "daemon-reload")
		if got := ct.show(t, "app0.service", "ExtensionImages"); !strings.Contains(got, app0) {
			t.Errorf("ExtensionImages=%s, want %s", got, app0)
		}
		if out := ct.must(t, "portable-generator", "inspect", "app0"); !strings.Contains(out, "verity root hash "+hash) {
			t.Errorf("inspect app0 lacks the sidecar root hash %s:\n%s", hash, out)
		}
		// The sidecars hold what the hash says (checked from the host: the
		// container's OS need not have veritysetup).
		if out, err := run(context.Background(), "veritysetup", "verify", filepath.Join(ct.portables, "app0.raw"), filepath.Join(ct.portables, "app0.verity"), hash); err != nil {
			t.Errorf("veritysetup verify: %v\n%s", err, out)
		}
	})

	// A base made by systemd-repart: a GPT disk image with a squashfs root
	// partition, as TEST-29's minimal_0 is a disk image (without its
	// verity partition: no device-mapper here), the two apps over it as
	// squashfs extensions. PID 1 dissects the disk for RootImage= and
	// layers the apps on its root.
	t.Run("disk-image-base", func(t *testing.T) {
		base, app0, _ := baseWithTwoApps(t, imagebuild.GPT, imagebuild.Squashfs)
		wantLine(t, "app0", runApp(t, "app0"), "app0", "marker=1", "base=0", "message=hello from app0 1", "state=bar")
		wantLine(t, "app1", runApp(t, "app1"), "app1", "marker=1", "message=hello from app1", "state=baz")
		if got := ct.show(t, "app0.service", "RootImage"); got != base {
			t.Errorf("RootImage=%s, want %s", got, base)
		}
		if got := ct.show(t, "app0.service", "ExtensionImages"); !strings.Contains(got, app0) {
			t.Errorf("ExtensionImages=%s, want %s", got, app0)
		}
	})

	// A configuration extension (I15): /etc of the base overlaid by conf0,
	// on 255 and later; 252 knows none, and app0 is refused naming conf0.
	t.Run("confext", func(t *testing.T) {
		freshLayers(t)
		dropLayer(t, "minimal_0", imagebuild.Squashfs, "")
		dropLayer(t, "app0", imagebuild.Squashfs, "")
		dropLayer(t, "conf0", imagebuild.Squashfs, "")
		settings(t, "app0", "Base=minimal\nExtensions=conf0\n")
		ct.must(t, "systemctl", "daemon-reload")
		if ct.version < 255 {
			if l := listLine(t, "app0"); !strings.Contains(l, "extension conf0 (Extensions=") {
				t.Errorf("list: %s", l)
			}
			return
		}
		wantLine(t, "app0 with conf0", runApp(t, "app0"), "message=hello from app0 1", "conf=configured by conf0")
	})
}

// TestExtensionsPeer attaches a base with an app extension with
// portablectl attach --extension, then by presence, and compares the
// units, what PID 1 loaded (ExtensionImages= included) and what the app
// saw through the layers.
func TestExtensionsPeer(t *testing.T) {
	for _, c := range []struct {
		app            string
		kind, baseKind imagebuild.Kind
	}{
		{"app0", imagebuild.Squashfs, imagebuild.Squashfs},
		{"app0", imagebuild.Directory, imagebuild.Directory},
		// app1's release file has another name and strict=false.
		{"app1", imagebuild.Squashfs, imagebuild.Squashfs},
		// A disk image base made by systemd-repart.
		{"app0", imagebuild.Squashfs, imagebuild.GPT},
	} {
		t.Run(c.app+"-"+string(c.kind)+"-over-"+string(c.baseKind), func(t *testing.T) { extensionsPeer(t, c.app, c.kind, c.baseKind) })
	}
}

func extensionsPeer(t *testing.T, app string, kind, baseKind imagebuild.Kind) {
	freshLayers(t)
	units := []string{app + ".service"}
	peerDir := filepath.Join(ct.merged, "srv/peer")
	profileDir := filepath.Join(ct.merged, "etc/systemd/portable/profile/default")
	if err := os.MkdirAll(peerDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var theirBase, theirApp string
	t.Cleanup(func() {
		ctx := context.Background()
		ct.exec(ctx, "portablectl", "detach", "--runtime", "--no-reload", "--extension", theirApp, theirBase, app)
		ct.exec(ctx, "rm", "-rf", "/srv/peer", "/etc/systemd/portable/profile")
	})
	profile, _ := profiles.Builtin("default", ct.version)
	if err := os.MkdirAll(profileDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(profileDir, "service.conf"), profile, 0o644); err != nil {
		t.Fatal(err)
	}
	theirBase = dropLayer(t, "minimal_0", baseKind, peerDir)
	theirApp = dropLayer(t, app, kind, peerDir)
	ct.must(t, "portablectl", "attach", "--runtime", "--no-reload", "--profile=default", "--extension", theirApp, theirBase, app)
	ct.must(t, "systemctl", "daemon-reload")
	theirs := snapshotAs(t, "/run/systemd/system.attached", units, strings.NewReplacer(theirBase, "BASE", theirApp, "IMAGE"))
	theirLine := runApp(t, app)
	ct.must(t, "systemctl", "stop", app+".service")
	ct.must(t, "portablectl", "detach", "--runtime", "--no-reload", "--extension", theirApp, theirBase, app)
	ct.must(t, "systemctl", "daemon-reload")
	ct.sh("rm -rf /var/lib/private/" + app + " /var/lib/" + app)
	if got := ct.show(t, app+".service", "LoadState"); got != "not-found" {
		t.Fatalf("after portablectl detach, %s.service is %s", app, got)
	}

	os.RemoveAll(filepath.Join(ct.merged, "etc/systemd/portable/profile"))
	ourBase := dropLayer(t, "minimal_0", baseKind, "")
	ourApp := dropLayer(t, app, kind, "")
	settings(t, app, "Base=minimal\n")
	ct.must(t, "systemctl", "daemon-reload")
	mine := snapshotAs(t, "/run/systemd/generator", units, strings.NewReplacer(ourBase, "BASE", ourApp, "IMAGE"))
	ourLine := runApp(t, app)

	compareAttachments(t, theirs, mine)
	setting := "ExtensionImages"
	if kind == imagebuild.Directory {
		setting = "ExtensionDirectories"
	}
	if a, b := theirs.settings[units[0]][setting], mine.settings[units[0]][setting]; a != b || b == "" {
		t.Errorf("%s: portablectl %q, ours %q", setting, a, b)
	}
	if theirLine != ourLine || ourLine == "" {
		t.Errorf("the app saw different layers: portablectl %q, ours %q", theirLine, ourLine)
	}
	t.Logf("systemd %d, %s over %s: both ran %q", ct.version, kind, baseKind, fmt.Sprint(ourLine))
}
