package dissect

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// repartImage builds a GPT image with systemd-repart from definitions
// (file name -> content; "TREE" is replaced by the image tree) and returns
// its path and repart's JSON description.
func repartImage(t *testing.T, defs map[string]string, args ...string) (string, []map[string]any) {
	t.Helper()
	return repartImageOf(t, imageTree(t), defs, args...)
}

// repartImageOf is repartImage of the given tree.
func repartImageOf(t *testing.T, tree string, defs map[string]string, args ...string) (string, []map[string]any) {
	t.Helper()
	testenv.NeedTool(t, "systemd-repart")
	dir := t.TempDir()
	defDir := filepath.Join(dir, "defs")
	os.Mkdir(defDir, 0o755)
	for name, c := range defs {
		if err := os.WriteFile(filepath.Join(defDir, name), []byte(strings.ReplaceAll(c, "TREE", tree)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := filepath.Join(dir, "raw_gpt.raw")
	out, err := exec.Command("systemd-repart", append([]string{"--empty=create", "--size=auto", "--definitions=" + defDir,
		"--dry-run=no", "--json=short", img}, args...)...).Output()
	if err != nil {
		testenv.Unavailable(t, "systemd-repart cannot build images here: %v", err)
	}
	var parts []map[string]any
	if err := json.Unmarshal(out, &parts); err != nil {
		t.Fatal(err)
	}
	return img, parts
}

func TestGPTRootWithVerity(t *testing.T) {
	img, parts := repartImage(t, map[string]string{
		"10-root.conf":   "[Partition]\nType=root\nFormat=squashfs\nCopyFiles=TREE:/\nVerity=data\nVerityMatchKey=root\n",
		"20-verity.conf": "[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\n",
	})
	d, err := Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.PartitionTable != "gpt" || d.SectorSize != 512 || len(d.Partitions) != 2 {
		t.Fatalf("table %q sector %d partitions %+v", d.PartitionTable, d.SectorSize, d.Partitions)
	}
	root, hash := d.Partitions[0], d.Partitions[1]
	if root.Designator != "root" || root.FSType != "squashfs" || root.Architecture != NativeArchitecture() || hash.Designator != "root-verity" {
		t.Errorf("partitions %+v", d.Partitions)
	}
	checkTree(t, d)
	// The root hash PID 1 needs is repart's, derived from the partition UUIDs.
	var want string
	for _, p := range parts {
		if h, ok := p["roothash"].(string); ok && h != "" {
			want = h
		}
	}
	if d.Verity == nil || d.Verity.RootHash != want || want == "" {
		t.Errorf("verity %+v, want root hash %q", d.Verity, want)
	}
}

func TestGPTSplitRootAndUsr(t *testing.T) {
	img, _ := repartImage(t, map[string]string{
		"10-root.conf": "[Partition]\nType=root\nFormat=squashfs\nCopyFiles=TREE/etc:/etc\nMakeDirectories=/usr\n",
		"20-usr.conf":  "[Partition]\nType=usr\nFormat=squashfs\nCopyFiles=TREE/usr:/\n",
	})
	d, err := Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// etc/os-release -> ../usr/lib/os-release crosses from root into usr.
	if b, err := fs.ReadFile(d.FS(), "etc/os-release"); err != nil || string(b) != "ID=raw\nVERSION_ID=7\n" {
		t.Errorf("os-release across the usr mount: %q, %v", b, err)
	}
}

func TestGPTUsrOnly(t *testing.T) {
	img, _ := repartImage(t, map[string]string{
		"20-usr.conf": "[Partition]\nType=usr\nFormat=squashfs\nCopyFiles=TREE/usr:/\n",
	})
	d, err := Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if b, err := fs.ReadFile(d.FS(), "usr/lib/systemd/system/raw.service"); err != nil || !strings.Contains(string(b), "ExecStart") {
		t.Errorf("unit in a /usr-only image: %q, %v", b, err)
	}
}

// A root partition for another architecture is kept (so the generator can
// refuse the image with a reason), and a native one wins over it.
func TestGPTArchitecturePreference(t *testing.T) {
	img, _ := repartImage(t, map[string]string{
		"10-foreign.conf": "[Partition]\nType=root-arm64\nFormat=squashfs\nCopyFiles=TREE:/\n",
	})
	d, err := OpenOptions(img, Options{Architecture: "x86-64"})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if d.Partitions[0].Architecture != "arm64" {
		t.Errorf("foreign root: %+v", d.Partitions)
	}
	img, _ = repartImage(t, map[string]string{
		"10-foreign.conf": "[Partition]\nType=root-arm64\nFormat=squashfs\nCopyFiles=TREE:/\n",
		"20-native.conf":  "[Partition]\nType=root-x86-64\nFormat=squashfs\nCopyFiles=TREE:/\n",
	})
	d, err = OpenOptions(img, Options{Architecture: "x86-64"})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if len(d.Partitions) != 1 || d.Partitions[0].Architecture != "x86-64" {
		t.Errorf("native root not preferred: %+v", d.Partitions)
	}
}

// mbrImage writes an MBR disk whose one bootable Linux partition holds a
// squashfs of the test tree.
func mbrImage(t *testing.T) string {
	t.Helper()
	return mbrImageOf(t, imageTree(t))
}

// mbrImageOf is mbrImage of the given tree.
func mbrImageOf(t *testing.T, tree string) string {
	t.Helper()
	testenv.NeedTool(t, "sfdisk")
	testenv.NeedTool(t, "mksquashfs")
	dir := t.TempDir()
	fsimg := filepath.Join(dir, "root.sq")
	run(t, "mksquashfs", tree, fsimg, "-quiet", "-noappend", "-all-root")
	disk := filepath.Join(dir, "mbr.raw")
	run(t, "truncate", "-s", "8M", disk)
	cmd := exec.Command("sfdisk", "-q", disk)
	cmd.Stdin = strings.NewReader("label: dos\n,4M,83,*\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v %s", err, out)
	}
	run(t, "dd", "if="+fsimg, "of="+disk, "bs=512", "seek=2048", "conv=notrunc", "status=none")
	return disk
}

func TestMBR(t *testing.T) {
	disk := mbrImage(t)
	d, err := Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.PartitionTable != "dos" || len(d.Partitions) != 1 || d.Partitions[0].FSType != "squashfs" {
		t.Errorf("mbr image: %+v", d)
	}
	checkTree(t, d)
	// Without the bootable flag systemd does not take the partition.
	cmd := exec.Command("sfdisk", "-q", "--activate", disk, "-")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk --activate: %v %s", err, out)
	}
	if _, err := Open(disk); !errors.Is(err, ErrCorrupt) {
		t.Errorf("no bootable partition: %v", err)
	}
}

// FuzzGPT feeds arbitrary disks to our GPT parser and DPS selection (the
// file-system readers behind them are exercised by their own tests). Seeds:
// the first 64 KiB of a real systemd-repart image, when repart is here.
func FuzzGPT(f *testing.F) {
	if testenv.HaveTool(f, "systemd-repart") {
		dir := f.TempDir()
		os.WriteFile(filepath.Join(dir, "10-root.conf"), []byte("[Partition]\nType=root\nSizeMinBytes=1M\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "20-usr.conf"), []byte("[Partition]\nType=usr-arm64\nSizeMinBytes=1M\nLabel=_empty\n"), 0o644)
		img := filepath.Join(dir, "seed.raw")
		if exec.Command("systemd-repart", "--empty=create", "--size=auto", "--definitions="+dir, "--dry-run=no", img).Run() == nil {
			if b, err := os.ReadFile(img); err == nil && len(b) > 64<<10 {
				f.Add(b[:64<<10])
			}
		}
	}
	f.Add(append(make([]byte, 512), []byte("EFI PART")...))
	pmbr := make([]byte, 512)
	pmbr[446+4], pmbr[510], pmbr[511] = 0xEE, 0x55, 0xAA
	f.Add(append(pmbr, []byte("EFI PART")...))
	f.Fuzz(func(t *testing.T, disk []byte) {
		r := strings.NewReader(string(disk))
		gpt, err := findGPT(r, int64(len(disk)), 0)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		if gpt == nil {
			return
		}
		parts := gpt.parts
		for _, p := range parts {
			if p.offset < 0 || p.size <= 0 || p.offset+p.size > int64(len(disk)) {
				t.Fatalf("partition outside the disk: %+v", p)
			}
		}
		selectDPS(parts, "x86-64")
	})
}

// A GPT with 4096-byte logical sectors, as written on a 4Kn disk, read
// with the sector size found from its header.
func TestGPT4096ByteSectors(t *testing.T) {
	img := gpt4096Image(t)
	d, err := Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.PartitionTable != "gpt" || d.SectorSize != 4096 || len(d.Partitions) != 1 || d.Partitions[0].FSType != "squashfs" {
		t.Fatalf("table %q, sector %d, partitions %+v", d.PartitionTable, d.SectorSize, d.Partitions)
	}
	checkTree(t, d)
	// systemd before 253 reads image files with 512-byte sectors only.
	if d, err := OpenOptions(img, Options{SystemdVersion: 252}); !errors.Is(err, ErrUnsupported) {
		if err == nil {
			d.Close()
		}
		t.Errorf("read for systemd 252, which cannot read it: %v", err)
	}
}

// gpt4096Image lays out a GPT with 4096-byte sectors, as sfdisk does on a
// loop device with 4096-byte sectors (systemd-repart 252 cannot), its root
// partition holding a squashfs of the test tree.
func gpt4096Image(t *testing.T) string {
	t.Helper()
	testenv.NeedTool(t, "losetup", "sfdisk", "mksquashfs")
	testenv.NeedRoot(t) // a loop device
	dir := t.TempDir()
	sq := filepath.Join(dir, "root.sq")
	run(t, "mksquashfs", imageTree(t), sq, "-quiet", "-noappend", "-all-root")
	img := filepath.Join(dir, "4k.raw")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(img, 16<<20)
	out, err := exec.Command("losetup", "-b", "4096", "-f", "--show", img).Output()
	if err != nil {
		testenv.Unavailable(t, "no loop device with 4096-byte sectors: %v", err)
	}
	dev := strings.TrimSpace(string(out))
	defer exec.Command("losetup", "-d", dev).Run()
	script := "label: gpt\nsize=8M, type=" + strings.ToUpper(dpsRootType(t)) + ", name=root\n"
	cmd := exec.Command("sfdisk", "-q", dev)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	dump, _ := exec.Command("sfdisk", "-d", dev).Output()
	start := regexp.MustCompile(`start=\s*(\d+)`).FindSubmatch(dump)
	if start == nil || !strings.Contains(string(dump), "sector-size: 4096") {
		t.Fatalf("sfdisk -d:\n%s", dump)
	}
	run(t, "dd", "if="+sq, "of="+dev, "bs=4096", "seek="+string(start[1]), "conv=notrunc", "status=none")
	return img
}

func dpsRootType(t *testing.T) string {
	for guid, pt := range dpsTypes {
		if pt.designator == "root" && pt.architecture == NativeArchitecture() {
			return guid
		}
	}
	testenv.Unavailable(t, "no root partition type for %s", NativeArchitecture())
	return ""
}
