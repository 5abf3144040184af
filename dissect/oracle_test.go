package dissect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// The oracle: on every kind of image the tests build, systemd-dissect
// --json=short (252 and 257) agrees with us on designators, file
// system types, partition UUIDs and os-release. Every image carries the
// 17-assignment os-release sample, so the os-release parser is compared
// with systemd's own on its hard cases. An image systemd-dissect refuses
// must be refused by us too.
func TestAgreesWithSystemdDissect(t *testing.T) {
	testenv.NeedTool(t, "systemd-repart", "mksquashfs", "mkfs.erofs", "mkfs.ext4", "sfdisk")
	tree := imageTreeWith(t, osReleaseSample)
	images := map[string]string{}
	images["gpt-verity"], _ = repartImageOf(t, tree, verityDefs)
	images["gpt-split"], _ = repartImageOf(t, tree, map[string]string{
		"10-root.conf": "[Partition]\nType=root\nFormat=squashfs\nCopyFiles=TREE/etc:/etc\nMakeDirectories=/usr\n",
		"20-usr.conf":  "[Partition]\nType=usr\nFormat=squashfs\nCopyFiles=TREE/usr:/\n",
	})
	images["gpt-ext4"], _ = repartImageOf(t, tree, map[string]string{
		"10-root.conf": "[Partition]\nType=root\nFormat=ext4\nCopyFiles=TREE:/\n",
	})
	images["mbr"] = mbrImageOf(t, tree)
	for _, comp := range []string{"gzip", "xz", "zstd", "lzo", "lz4"} {
		p := filepath.Join(t.TempDir(), comp+".raw")
		run(t, "mksquashfs", tree, p, "-quiet", "-noappend", "-all-root", "-comp", comp)
		images["squashfs-"+comp] = p
	}
	images["erofs"] = filepath.Join(t.TempDir(), "erofs.raw")
	run(t, "mkfs.erofs", images["erofs"], tree)
	images["ext4"] = filepath.Join(t.TempDir(), "ext4.raw")
	run(t, "mkfs.ext4", "-q", "-F", "-d", tree, images["ext4"], "16M")
	oracles := systemdDissects(t)
	for name, path := range images {
		t.Run(name, func(t *testing.T) {
			for _, sd := range oracles {
				agreeWithSystemdDissect(t, sd, path)
			}
		})
	}
}

// agreeWithSystemdDissect compares our reading of one image, for the
// systemd sd is, with sd's. Both refusing it is agreement.
func agreeWithSystemdDissect(t *testing.T, sd systemdDissect, path string) {
	t.Helper()
	out, theirErr := sd.run(path)
	d, ourErr := OpenOptions(path, Options{SystemdVersion: sd.version})
	switch {
	case theirErr != nil && ourErr != nil:
		t.Logf("systemd %d: both refuse it: systemd-dissect: %v; ours: %v", sd.version, theirErr, ourErr)
		return
	case theirErr != nil:
		d.Close()
		t.Fatalf("systemd %d: systemd-dissect refuses it (%v), we read it", sd.version, theirErr)
	case ourErr != nil:
		t.Fatalf("systemd %d: we refuse it (%v), systemd-dissect reads it", sd.version, ourErr)
	}
	defer d.Close()
	var theirs Report
	if err := json.Unmarshal(out, &theirs); err != nil {
		t.Fatal(err)
	}
	ours := d.Report(path)
	type key struct{ Designator, FSType, UUID string }
	keys := func(r Report) []key {
		var k []key
		for _, m := range r.Mounts {
			u := ""
			if m.PartitionUUID != nil {
				u = *m.PartitionUUID
			}
			k = append(k, key{m.Designator, m.FSType, u})
		}
		sort.Slice(k, func(i, j int) bool { return k[i].Designator < k[j].Designator })
		return k
	}
	if diff := cmp.Diff(keys(theirs), keys(ours)); diff != "" {
		t.Errorf("systemd %d: partitions (-systemd-dissect +ours):\n%s", sd.version, diff)
	}
	if diff := cmp.Diff(theirs.OSRelease, ours.OSRelease); diff != "" {
		t.Errorf("systemd %d: os-release (-systemd-dissect +ours):\n%s", sd.version, diff)
	}
}

// systemdDissect is one systemd's systemd-dissect --json=short.
type systemdDissect struct {
	version int
	// run dissects the image at path, returning the JSON and, on failure,
	// what systemd-dissect said.
	run func(path string) ([]byte, error)
}

// systemdDissects returns this machine's systemd-dissect (252) and, when
// the Debian 13 tree is built (or PG_REQUIRE_ALL=1 demands it), the tree's
// (257), run in the tree with chroot: the tree is bound onto itself
// (systemd-dissect's child changes the propagation of the root mount,
// which must be a mount point) with /proc, /dev and /sys, and the image's
// directory at /mnt, all in a private mount namespace. systemd-dissect
// reads an image through a loop device: it needs root.
func systemdDissects(t *testing.T) []systemdDissect {
	t.Helper()
	testenv.NeedTool(t, "systemd-dissect")
	testenv.NeedRoot(t)
	output := func(cmd *exec.Cmd) ([]byte, error) {
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%w: %s", err, bytes.TrimSpace(stderr.Bytes()))
		}
		return out, nil
	}
	oracles := []systemdDissect{{dissectVersion(t, exec.Command("systemd-dissect", "--version")), func(path string) ([]byte, error) {
		return output(exec.Command("systemd-dissect", "--json=short", path))
	}}}
	if _, ok := testenv.Tree(); !ok && !testenv.RequireAll() {
		return oracles
	}
	testenv.NeedTool(t, "unshare", "chroot")
	tree := testenv.NeedTree(t, "systemd-dissect")
	const script = `set -e; t=$1
mount --make-rprivate /
mount --bind "$t" "$t"
mount -t proc proc "$t/proc"; mount --rbind /dev "$t/dev"; mount --rbind /sys "$t/sys"
mount -t tmpfs tmpfs "$t/run"; mount --bind "$2" "$t/mnt"
exec chroot "$t" systemd-dissect --json=short "/mnt/$3"`
	return append(oracles, systemdDissect{dissectVersion(t, exec.Command("chroot", tree, "systemd-dissect", "--version")), func(path string) ([]byte, error) {
		return output(exec.Command("unshare", "-m", "sh", "-c", script, "sh", tree, filepath.Dir(path), filepath.Base(path)))
	}})
}

// dissectVersion reads "systemd 252 (252.39-1~deb12u2)".
func dissectVersion(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	out, err := cmd.Output()
	var v int
	if _, scanErr := fmt.Sscanf(string(out), "systemd %d", &v); err != nil || scanErr != nil {
		testenv.Unavailable(t, "%s: %v %v", strings.Join(cmd.Args, " "), err, scanErr)
	}
	return v
}

// os-release texts on which a parser could go wrong, each read by
// systemd-dissect of 252 and of 257 from a squashfs image and compared
// with our report of the same image read for that systemd.
func TestOSReleaseAgreesWithSystemdDissect(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs")
	oracles := systemdDissects(t)
	cases := map[string]string{
		"the 17-assignment sample":      osReleaseSample,
		"carriage returns end lines":    "ID=a\nX=1\rY=2\r\n",
		"quotes after a bare value":     "ID=a\nX=a\"b\"c\nY='q' r\nZ=\"a\" \"b\"\n",
		"keys that are no shell names":  "ID=a\n1BAD=x\nFOO BAR=1\n  LEAD = 2\n=empty\n=a=b\n",
		"escapes":                       "ID=a\nA=x\\\ny\nB=\"x\\\ny\"\nC=\"\\a\\$\\\"\"\nD=\\ lead\nE=trail\\ \n",
		"comment ending in a backslash": "ID=a\n# note \\\nY=2\n; other \\\\\nZ=3\n",
		"unterminated quote":            "ID=a\nX=\"open\nY=2\n",
		"end without newline":           "ID=a\nX=last  ",
		"invalid UTF-8 value":           "ID=a\nNAME=caf\xe9\n",
		"invalid UTF-8 key":             "ID=a\nN\xe9=x\n",
		"invalid UTF-8 in a comment":    "ID=a\n# caf\xe9\nX=1\n",
		"a noncharacter":                "ID=a\nX=\xef\xb7\x90\n",
		"a NUL byte":                    "ID=a\nX=1\x00Y=2\n",
		"valid UTF-8":                   "ID=a\nNAME=café ☕\n",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			tree := imageTreeWith(t, text)
			img := filepath.Join(t.TempDir(), "osr.raw")
			run(t, "mksquashfs", tree, img, "-quiet", "-noappend", "-all-root")
			for _, sd := range oracles {
				out, err := sd.run(img)
				if err != nil {
					t.Fatalf("systemd %d: systemd-dissect: %v", sd.version, err)
				}
				var theirs Report
				if err := json.Unmarshal(out, &theirs); err != nil {
					t.Fatal(err)
				}
				d, err := OpenOptions(img, Options{SystemdVersion: sd.version})
				if err != nil {
					t.Fatal(err)
				}
				ours := d.Report(img)
				d.Close()
				if diff := cmp.Diff(theirs.OSRelease, ours.OSRelease, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("systemd %d: os-release (-systemd-dissect +ours):\n%s", sd.version, diff)
				}
			}
		})
	}
}
