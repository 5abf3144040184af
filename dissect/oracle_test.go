package dissect

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The oracle: on every kind of image the tests build, systemd-dissect
// --json=short (systemd 252 here) agrees with us on designators, file
// system types, partition UUIDs and os-release.
func TestAgreesWithSystemdDissect(t *testing.T) {
	need(t, "systemd-dissect")
	need(t, "mksquashfs")
	images := map[string]string{}
	images["gpt-verity"], _ = repartImage(t, verityDefs)
	images["gpt-split"], _ = repartImage(t, map[string]string{
		"10-root.conf": "[Partition]\nType=root\nFormat=squashfs\nCopyFiles=TREE/etc:/etc\nMakeDirectories=/usr\n",
		"20-usr.conf":  "[Partition]\nType=usr\nFormat=squashfs\nCopyFiles=TREE/usr:/\n",
	})
	images["gpt-ext4"], _ = repartImage(t, map[string]string{
		"10-root.conf": "[Partition]\nType=root\nFormat=ext4\nCopyFiles=TREE:/\n",
	})
	images["mbr"] = mbrImage(t)
	for _, comp := range []string{"gzip", "xz", "zstd", "lzo", "lz4"} {
		p := filepath.Join(t.TempDir(), comp+".raw")
		run(t, "mksquashfs", imageTree(t), p, "-quiet", "-noappend", "-all-root", "-comp", comp)
		images["squashfs-"+comp] = p
	}
	if _, err := exec.LookPath("mkfs.erofs"); err == nil {
		p := filepath.Join(t.TempDir(), "erofs.raw")
		run(t, "mkfs.erofs", p, imageTree(t))
		images["erofs"] = p
	}
	if _, err := exec.LookPath("mkfs.ext4"); err == nil {
		p := filepath.Join(t.TempDir(), "ext4.raw")
		run(t, "mkfs.ext4", "-q", "-F", "-d", imageTree(t), p, "16M")
		images["ext4"] = p
	}
	for name, path := range images {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command("systemd-dissect", "--json=short", path).Output()
			if err != nil {
				t.Skipf("systemd-dissect cannot run here: %v", err)
			}
			var theirs Report
			if err := json.Unmarshal(out, &theirs); err != nil {
				t.Fatal(err)
			}
			d, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			ours := d.Report(path)
			d.Close()
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
				t.Errorf("partitions (-systemd-dissect +ours):\n%s", diff)
			}
			if diff := cmp.Diff(theirs.OSRelease, ours.OSRelease); diff != "" {
				t.Errorf("os-release (-systemd-dissect +ours):\n%s", diff)
			}
		})
	}
}
