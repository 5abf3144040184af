package dissect

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// treeWithFiles is imageTree with more files (a value "-> TARGET" makes a
// symbolic link) and the given os-release ("" for none).
func treeWithFiles(t *testing.T, osRelease string, files map[string]string) string {
	t.Helper()
	tree := imageTreeWith(t, osRelease)
	if osRelease == "" {
		os.Remove(filepath.Join(tree, "usr/lib/os-release"))
		os.Remove(filepath.Join(tree, "etc/os-release"))
	}
	for p, c := range files {
		full := filepath.Join(tree, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Remove(full)
		var err error
		if target, ok := cutPrefix(c, "-> "); ok {
			err = os.Symlink(target, full)
		} else {
			err = os.WriteFile(full, []byte(c), 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

// jsonObject decodes JSON into generic maps, as a script would read it.
func jsonObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

func keysOf(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

// The oracle for the JSON's shape: on the same image, `dissect --json` has
// every key `systemd-dissect --json=short` prints on this machine, at the
// top and in each mount, with the same value, but where we say why not.
func TestReportHasSystemdDissectKeys(t *testing.T) {
	testenv.NeedTool(t, "systemd-dissect", "mksquashfs")
	squashfs := func(tree, name string) string {
		p := filepath.Join(t.TempDir(), name)
		run(t, "mksquashfs", tree, p, "-quiet", "-noappend", "-all-root")
		return p
	}
	images := map[string]string{
		"plain": squashfs(imageTree(t), "plain.raw"),
		// hostname, machine-id and machine-info as an installed system has
		// them, and an init system reached through a symbolic link.
		"system": squashfs(treeWithFiles(t, "ID=raw\n", map[string]string{
			"etc/hostname":            "# the name\n\n  Web_01.example.  \n",
			"etc/machine-id":          "0123456789ABCDEF0123456789abcdef\n",
			"etc/machine-info":        "PRETTY_HOSTNAME=\"Web 01\"\nCHASSIS=server\n",
			"usr/lib/systemd/systemd": "#!/bin/sh\n",
			"sbin/init":               "-> ../usr/lib/systemd/systemd",
		}), "system.raw"),
		// What systemd ignores: no newline after the machine-id, a
		// hostname that is all invalid characters.
		"ignored": squashfs(treeWithFiles(t, "ID=raw\n", map[string]string{
			"etc/hostname":   "-.-\n",
			"etc/machine-id": "0123456789abcdef0123456789abcdef",
		}), "ignored.raw"),
		"uninitialized": squashfs(treeWithFiles(t, "ID=raw\n", map[string]string{
			"etc/machine-id": "uninitialized\n",
		}), "uninitialized.raw"),
		// An extension for the initrd and portable services, named after
		// its file.
		"extension": squashfs(treeWithFiles(t, "", map[string]string{
			"usr/lib/extension-release.d/extension-release.ext": "ID=raw\nSYSEXT_SCOPE=initrd portable\n",
		}), "ext.raw"),
		"portable": squashfs(treeWithFiles(t, "ID=raw\nPORTABLE_PREFIXES=raw\n", nil), "portable.raw"),
	}
	images["mbr"] = mbrImage(t)
	images["gpt-verity"], _ = repartImage(t, verityDefs)
	if testenv.HaveTool(t, "mkfs.vfat") {
		images["gpt-esp"], _ = repartImage(t, map[string]string{
			"00-esp.conf":  "[Partition]\nType=esp\nFormat=vfat\nSizeMinBytes=64M\n",
			"10-root.conf": "[Partition]\nType=root\nFormat=squashfs\nCopyFiles=TREE:/\n",
		})
	} else {
		testenv.Unavailable(t, "mkfs.vfat not installed (just deps)")
	}
	for name, path := range images {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command("systemd-dissect", "--json=short", path).Output()
			if err != nil {
				testenv.Unavailable(t, "systemd-dissect cannot run here: %v", err)
			}
			theirs := jsonObject(t, out)
			img, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			ourJSON, err := json.Marshal(img.Report(path))
			img.Close()
			if err != nil {
				t.Fatal(err)
			}
			ours := jsonObject(t, ourJSON)
			compareObjects(t, "", theirs, ours, func(key string) bool {
				// 252 looks for PORTABLE_MATCHES=, which no image sets;
				// systemd 255 and we look for PORTABLE_PREFIXES=.
				return key == "usePortableService" && name == "portable"
			})
			theirMounts, _ := theirs["mounts"].([]any)
			ourMounts, _ := ours["mounts"].([]any)
			if len(theirMounts) != len(ourMounts) {
				t.Fatalf("mounts: systemd-dissect has %d, we have %d", len(theirMounts), len(ourMounts))
			}
			byDesignator := func(ms []any) {
				sort.Slice(ms, func(i, j int) bool {
					return ms[i].(map[string]any)["designator"].(string) < ms[j].(map[string]any)["designator"].(string)
				})
			}
			byDesignator(theirMounts)
			byDesignator(ourMounts)
			for i := range theirMounts {
				tm, om := theirMounts[i].(map[string]any), ourMounts[i].(map[string]any)
				compareObjects(t, "mounts[].", tm, om, func(key string) bool {
					// A partition's node is a loop device systemd set up;
					// we set none up. 252 cannot derive a root hash from
					// the partition UUIDs and says "no"; we can.
					return key == "node" && om["partno"] != nil ||
						key == "verity" && name == "gpt-verity" && tm["verity"] == "no" && om["verity"] == "yes"
				})
			}
			if name == "portable" && ours["usePortableService"] != true {
				t.Errorf("usePortableService is %v for an image with PORTABLE_PREFIXES=", ours["usePortableService"])
			}
		})
	}
}

// compareObjects checks that ours has every key of theirs, with the same
// value unless differs says the value may differ.
func compareObjects(t *testing.T, where string, theirs, ours map[string]any, differs func(string) bool) {
	t.Helper()
	for _, k := range keysOf(theirs) {
		v, ok := ours[k]
		switch {
		case !ok:
			t.Errorf("%s%s: systemd-dissect has it (%v), we do not; we have %v", where, k, theirs[k], keysOf(ours))
		case k == "mounts":
		case !reflect.DeepEqual(v, theirs[k]) && !differs(k):
			t.Errorf("%s%s: systemd-dissect says %v, we say %v", where, k, theirs[k], v)
		}
	}
	if !slices.Contains(keysOf(ours), "units") && where == "" {
		t.Errorf("no units key in our report")
	}
}
