package dissect

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// FuzzImage opens mutated whole images the way Open does (partition table,
// DPS selection, verity from the signature partition, the file system
// under it) and uses everything they offer. Seeds are small real disks: a
// GPT with root, root-verity and root-verity-sig partitions, an MBR disk,
// and a naked squashfs, all laid out by sfdisk and mksquashfs.
func FuzzImage(f *testing.F) {
	for _, seed := range fuzzImageSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b := vfs.NewBudget(fstest.FuzzLimits())
		img, err := newRaw(bytes.NewReader(data), int64(len(data)), "", nil, Options{Architecture: "x86-64"}, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrBudget) && !errors.Is(err, ErrLoop) {
				t.Fatalf("an error of no kind: %v", err)
			}
			return
		}
		fstest.WalkAll(img.FS())
		img.OSRelease()
		img.Report("fuzz.raw")
		// One charge decompresses at most an erofs extent.
		fstest.CheckWork(t, b, 12<<20)
	})
}

func fuzzImageSeeds(f testing.TB) [][]byte {
	for _, tool := range []string{"mksquashfs", "sfdisk"} {
		if !testenv.HaveTool(f, tool) {
			return nil
		}
	}
	dir := f.TempDir()
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(filepath.Join(tree, "usr/lib/systemd/system"), 0o755)
	os.MkdirAll(filepath.Join(tree, "etc"), 0o755)
	os.WriteFile(filepath.Join(tree, "usr/lib/os-release"), []byte("ID=seed\nPORTABLE_PREFIXES=seed\n"), 0o644)
	os.WriteFile(filepath.Join(tree, "usr/lib/systemd/system/seed.service"), []byte("[Service]\nExecStart=/usr/bin/seed\n"), 0o644)
	os.Symlink("../usr/lib/os-release", filepath.Join(tree, "etc/os-release"))
	sq := filepath.Join(dir, "root.sq")
	if exec.Command("mksquashfs", tree, sq, "-quiet", "-noappend", "-all-root", "-b", "4096").Run() != nil {
		return nil
	}
	fsys, _ := os.ReadFile(sq)
	// A root hash whose halves are the data and verity partitions' UUIDs,
	// and a "signature" that is only base64: dissect does not check it.
	hash := strings.Repeat("1", 32) + strings.Repeat("6", 32)
	sig := fmt.Sprintf(`{"rootHash":"%s","signature":"%s"}`, hash, base64.StdEncoding.EncodeToString([]byte("0\x82 not really PKCS#7")))
	// disk lays out a table and copies each part to its start sector.
	disk := func(table string, parts map[int][]byte) []byte {
		p := filepath.Join(dir, "disk.raw")
		os.Remove(p)
		os.WriteFile(p, nil, 0o644)
		os.Truncate(p, 160<<10)
		cmd := exec.Command("sfdisk", "-q", p)
		cmd.Stdin = strings.NewReader(table)
		if out, err := cmd.CombinedOutput(); err != nil {
			f.Fatalf("sfdisk: %v\n%s", err, out)
		}
		b, _ := os.ReadFile(p)
		for sector, part := range parts {
			copy(b[sector*512:], part)
		}
		return b
	}
	gpt := disk("label: gpt\nfirst-lba: 34\n"+
		"start=40, size=128, type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709, uuid=11111111-1111-1111-1111-111111111111\n"+
		"start=168, size=8, type=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5, uuid=66666666-6666-6666-6666-666666666666\n"+
		"start=176, size=8, type=41092b05-9fc8-4523-994f-2def0408b176\n", map[int][]byte{40: fsys, 176: []byte(sig)})
	if len(fsys) > 128*512 {
		f.Fatalf("the seed file system (%d bytes) outgrew its partition", len(fsys))
	}
	mbr := disk("label: dos\nstart=40, size=128, type=83, bootable\n", map[int][]byte{40: fsys})
	// A decompression bomb from the hostile corpus.
	bomb := filepath.Join(dir, "bomb.sq")
	if exec.Command("mksquashfs", fstest.Bomb(f, 8, 256<<10), bomb, "-quiet", "-noappend", "-comp", "zstd").Run() != nil {
		return nil
	}
	bombed, _ := os.ReadFile(bomb)
	return [][]byte{gpt, mbr, fsys, bombed}
}

// The seeds are worth fuzzing only if they open: check what each offers.
func TestFuzzImageSeeds(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs", "sfdisk")
	seeds := fuzzImageSeeds(t)
	for i, want := range []string{"gpt", "dos", "", ""} {
		img, err := New(bytes.NewReader(seeds[i]), int64(len(seeds[i])))
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		id := map[bool]string{true: "bomb", false: "seed"}[i == 3]
		if osr, _, _, err := img.OSRelease(); err != nil || osr["ID"] != id || img.PartitionTable != want {
			t.Errorf("seed %d: table %q, os-release %v, %v", i, img.PartitionTable, osr, err)
		}
		if want == "gpt" && (img.Verity == nil || img.Verity.RootHashSource != "signature-partition") {
			t.Errorf("gpt seed: verity %+v, want it from the signature partition", img.Verity)
		}
	}
}
