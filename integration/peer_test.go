//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
	"github.com/portable-generator/portable-generator/profiles"
)

// attachment is what one implementation made of an image: the unit files,
// their drop-ins, and what PID 1 loaded.
type attachment struct {
	units    []string                     // unit file names
	files    map[string]string            // unit or drop-in (U.d/NAME) -> content, symlinks read through
	settings map[string]map[string]string // unit -> systemctl show property -> value
}

// snapshot records the units of an image from dir, the directory one
// implementation writes them to. imagePath is replaced by IMAGE in every
// value, so the two implementations' different image paths compare equal.
func snapshot(t *testing.T, dir string, units []string, imagePath string) attachment {
	t.Helper()
	return snapshotAs(t, dir, units, strings.NewReplacer(imagePath, "IMAGE"))
}

// snapshotAs is snapshot with every image path (a base, its extensions)
// replaced as paths says.
func snapshotAs(t *testing.T, dir string, units []string, paths *strings.Replacer) attachment {
	t.Helper()
	a := attachment{files: map[string]string{}, settings: map[string]map[string]string{}}
	for _, u := range units {
		if ct.sh("test -e "+dir+"/"+u+" && echo yes") != "yes" {
			continue
		}
		a.units = append(a.units, u)
		a.files[u] = ct.must(t, "cat", dir+"/"+u)
		for _, d := range strings.Fields(ct.sh("ls " + dir + "/" + u + ".d 2>/dev/null")) {
			a.files[u+".d/"+d] = paths.Replace(ct.must(t, "cat", dir+"/"+u+".d/"+d))
		}
		props := map[string]string{}
		for _, l := range strings.Split(ct.must(t, "systemctl", "show", u), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				props[k] = paths.Replace(v)
			}
		}
		a.settings[u] = props
	}
	return a
}

// peerCase is one image attached both ways.
type peerCase struct {
	example string
	kind    imagebuild.Kind
	profile string
}

// TestPortablectlPeer attaches the same image with the reference,
// `portablectl attach --runtime --no-reload --profile=NAME` with our
// profile installed as an admin's profile NAME and the image outside our
// search directories, records the result, detaches it, then lets our
// generator attach it from /var/lib/portables, and compares: the same unit
// set, the same unit bytes, the same profile drop-in, and the same
// effective settings in PID 1, except for the differences chosen on
// purpose, named in chosenDifferences.
func TestPortablectlPeer(t *testing.T) {
	for _, pc := range []peerCase{
		{"greeter", imagebuild.Squashfs, "default"},
		{"counter", imagebuild.Directory, "strict"},
	} {
		t.Run(pc.example+"-"+string(pc.kind)+"-"+pc.profile, func(t *testing.T) { peer(t, pc) })
	}
}

func peer(t *testing.T, pc peerCase) {
	fresh(t)
	var units []string
	for _, u := range exampleUnits {
		if strings.HasPrefix(u, pc.example) {
			units = append(units, u)
		}
	}
	name := imageName(pc.example, pc.kind, "1")
	outside := "/srv/peer/" + name
	ours := "/var/lib/portables/" + name
	profileDir := filepath.Join(ct.merged, "etc/systemd/portable/profile", pc.profile)
	t.Cleanup(func() {
		ctx := context.Background()
		ct.exec(ctx, "portablectl", "detach", "--runtime", "--no-reload", outside)
		ct.exec(ctx, "rm", "-rf", "/srv/peer", "/etc/systemd/portable/profile")
	})

	// The reference.
	profile, ok := profiles.Builtin(pc.profile, ct.version)
	if !ok {
		t.Fatalf("no profile %s", pc.profile)
	}
	if err := os.MkdirAll(profileDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(profileDir, "service.conf"), profile, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(ct.merged, "srv/peer"), 0o755); err != nil {
		t.Fatal(err)
	}
	img := buildImage(t, pc.example, pc.kind, "1", "peer", filepath.Join(ct.merged, outside))
	ct.must(t, "portablectl", "attach", "--runtime", "--no-reload", "--profile="+pc.profile, outside)
	ct.must(t, "systemctl", "daemon-reload")
	theirs := snapshot(t, "/run/systemd/system.attached", units, outside)
	ct.must(t, "portablectl", "detach", "--runtime", "--no-reload", outside)
	ct.must(t, "systemctl", "daemon-reload")
	for _, u := range units {
		if got := ct.show(t, u, "LoadState"); got != "not-found" {
			t.Fatalf("after portablectl detach, %s is %s", u, got)
		}
	}

	// Ours, with its built-in profile.
	if err := os.RemoveAll(profileDir); err != nil {
		t.Fatal(err)
	}
	if pc.profile != "default" {
		settings(t, pc.example, "Profile="+pc.profile+"\n")
	}
	if out, err := run(context.Background(), "cp", "-a", img.Path, filepath.Join(ct.portables, name)); err != nil {
		t.Fatal(out)
	}
	os.RemoveAll(img.Path)
	ct.must(t, "systemctl", "daemon-reload")
	mine := snapshot(t, "/run/systemd/generator", units, ours)

	compareAttachments(t, theirs, mine)
}

// chosenDifference is a way our attachment differs from portablectl's on
// purpose: explained, and recognised by the relation between the values.
type chosenDifference struct {
	why  string
	same func(theirs, ours string) bool // the values differ only in this way
}

var chosenDifferences = map[string]chosenDifference{
	"FragmentPath": {"a generator's units live in /run/systemd/generator, portablectl's in /run/systemd/system.attached",
		sameUnder("/run/systemd/system.attached/", "/run/systemd/generator/")},
	"DropInPaths": {"the drop-ins beside them, likewise",
		sameUnder("/run/systemd/system.attached/", "/run/systemd/generator/")},
	"UnitFileState": {"generated units are \"generated\": systemctl enable refuses them, so Enable= in NAME.portable enables instead",
		func(theirs, ours string) bool { return ours == "generated" }},
	"SourcePath": {"ours names the image, so systemctl status says where a unit came from",
		func(theirs, ours string) bool { return ours == "IMAGE" }},
	"LogExtraFields": {"ours adds PORTABLE_NAME_AND_VERSION= on every systemd version; 252's portabled does not (257's does)",
		func(theirs, ours string) bool {
			return strings.HasPrefix(ours, theirs+" PORTABLE_NAME_AND_VERSION=") && !strings.Contains(theirs, "PORTABLE_NAME_AND_VERSION=")
		}},
	"BindReadOnlyPaths": {"below 254 ours binds the host's os-release with \"-\": a host without one still starts the service",
		func(theirs, ours string) bool {
			return strings.ReplaceAll(ours, "-/etc/os-release:/run/host/os-release", "/etc/os-release:/run/host/os-release") == theirs
		}},
	"After": {"not ours but the test's: our image lies below the container's /var/lib/portables bind mount, so PID 1 orders after it (RequiresMountsFor= of the image); portablectl's copy in /srv/peer is on the root file system",
		func(theirs, ours string) bool {
			return sameWords(theirs+" var-lib-portables.mount", ours)
		}},
}

// sameUnder reports whether two lists of paths are the same but for the
// directory they are in.
func sameUnder(theirDir, ourDir string) func(string, string) bool {
	return func(theirs, ours string) bool { return strings.ReplaceAll(theirs, theirDir, ourDir) == ours }
}

func compareAttachments(t *testing.T, theirs, mine attachment) {
	t.Helper()
	if strings.Join(theirs.units, " ") != strings.Join(mine.units, " ") || len(mine.units) == 0 {
		t.Fatalf("unit set: portablectl %v, ours %v", theirs.units, mine.units)
	}
	seen := map[string]bool{}
	for _, u := range mine.units {
		if theirs.files[u] != mine.files[u] {
			t.Errorf("%s: the unit's bytes differ:\nportablectl:\n%s\nours:\n%s", u, theirs.files[u], mine.files[u])
		}
		if p := u + ".d/10-profile.conf"; theirs.files[p] != mine.files[p] {
			t.Errorf("%s differs:\nportablectl:\n%s\nours:\n%s", p, theirs.files[p], mine.files[p])
		}
		keys := map[string]bool{}
		for k := range theirs.settings[u] {
			keys[k] = true
		}
		for k := range mine.settings[u] {
			keys[k] = true
		}
		var unexplained []string
		for k := range keys {
			a, b := theirs.settings[u][k], mine.settings[u][k]
			if a == b || sameWords(a, b) {
				continue
			}
			if d, ok := chosenDifferences[k]; ok && d.same(a, b) {
				seen[k] = true
				continue
			}
			unexplained = append(unexplained, fmt.Sprintf("%s: portablectl %q, ours %q", k, a, b))
		}
		if len(unexplained) > 0 {
			sort.Strings(unexplained)
			t.Errorf("%s: settings differ for no chosen reason:\n%s\n20-portable.conf, portablectl:\n%s\nours:\n%s", u,
				strings.Join(unexplained, "\n"), theirs.files[u+".d/20-portable.conf"], mine.files[u+".d/20-portable.conf"])
		}
	}
	var names []string
	for k := range seen {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t.Logf("systemd %d: %s differs on purpose: %s", ct.version, k, chosenDifferences[k].why)
	}
}

// sameWords reports whether two values hold the same words in another
// order (PID 1 lists dependencies in hash order).
func sameWords(a, b string) bool {
	wa, wb := strings.Fields(a), strings.Fields(b)
	sort.Strings(wa)
	sort.Strings(wb)
	return strings.Join(wa, " ") == strings.Join(wb, " ")
}
