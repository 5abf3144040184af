//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
)

// imageKind is one row of the workflow: an image format and the oldest
// systemd that can read it and start it.
type imageKind struct {
	kind imagebuild.Kind
	// readSince: an older systemd cannot read the image; the generator
	// must refuse it there, saying so.
	readSince int
	// startSince: an older systemd can read the image but not start it
	// here; the workflow stops before the start, after checking what the
	// generator wrote and PID 1 loaded.
	startSince int
	why        string // why an older systemd cannot
}

var workflowKinds = []imageKind{
	{kind: imagebuild.Directory},
	{kind: imagebuild.Squashfs},
	{kind: imagebuild.Erofs},
	{kind: imagebuild.Ext4},
	{kind: imagebuild.GPT},
	{kind: imagebuild.GPTVerity},
	{kind: imagebuild.MBR},
	{kind: imagebuild.GPT4K, readSince: 253, why: "systemd before 253 cannot dissect 4096-byte-sector images (\"Couldn't identify a suitable partition table\")"},
	{kind: imagebuild.GPTSigned, startSince: 257, why: "systemd 252 verifies verity signatures only against the kernel keyring, which a test container cannot fill"},
}

// hasDeviceMapper reports whether this kernel can set up dm-verity.
func hasDeviceMapper() bool {
	b, err := os.ReadFile("/proc/misc")
	return err == nil && strings.Contains(string(b), "device-mapper")
}

// TestWorkflow is the user's whole workflow for each image kind: drop the
// image in, reload, start, see it run from the image in its sandbox with
// its journal field, stop, remove, reload, and find nothing left.
func TestWorkflow(t *testing.T) {
	for _, k := range workflowKinds {
		t.Run(string(k.kind), func(t *testing.T) {
			fresh(t)
			build := "kind-" + string(k.kind)
			img := dropImage(t, "counter", k.kind, "1", build)
			ct.must(t, "systemctl", "daemon-reload")
			if ct.version < k.readSince {
				// The generator reads the image as this systemd would:
				// not at all. It is refused with the reason, no unit.
				if line := listLine(t, "counter"); !strings.Contains(line, "skipped") || !strings.Contains(line, "512-byte sectors only") {
					t.Errorf("on systemd %d (%s) the image is not refused: %s", ct.version, k.why, line)
				}
				if got := ct.show(t, "counter.service", "LoadState"); got != "not-found" {
					t.Errorf("on systemd %d counter.service LoadState = %q, want not-found", ct.version, got)
				}
				removeAndCheckGone(t, img, backingFile(t, img.Path), "counter.service")
				return
			}
			if got := ct.show(t, "counter.service", "FragmentPath"); got != "/run/systemd/generator/counter.service" {
				t.Fatalf("FragmentPath = %q; list:\n%s", got, ct.sh("portable-generator list"))
			}
			backing := backingFile(t, img.Path)
			if img.RootHash != "" {
				checkVerity(t, img)
				if ct.version < k.startSince {
					t.Logf("start not attempted on systemd %d: %s; checked what the generator wrote and what PID 1 loaded", ct.version, k.why)
					removeAndCheckGone(t, img, backing, "counter.service")
					return
				}
				if !hasDeviceMapper() {
					// PID 1 would need dm-verity to open the image: the
					// service would fail with 226/NAMESPACE for want of
					// /dev/mapper/control, which says nothing about us.
					t.Log("start not attempted: this kernel has no device-mapper, so PID 1 cannot activate dm-verity; checked what the generator wrote and what PID 1 loaded")
					removeAndCheckGone(t, img, backing, "counter.service")
					return
				}
			}
			ct.must(t, "systemctl", "start", "counter.service")
			pid := mainPID(t, "counter.service", "counter")
			runsFromImage(t, pid, "counter")
			checkSandbox(t, pid)
			var line string
			poll(t, "journal has PORTABLE="+filepath.Base(img.Path), 10*time.Second, func() error {
				journal := ct.sh("journalctl -q -o cat PORTABLE=" + filepath.Base(img.Path))
				for _, l := range strings.Split(journal, "\n") {
					if strings.Contains(l, " build="+build+" ") {
						line = l
						return nil
					}
				}
				return fmt.Errorf("journal: %q\n%s", journal, ct.sh("systemctl status --no-pager counter.service"))
			})
			if strings.Contains(line, " uid=0") {
				t.Errorf("runs as root: %s", line)
			}
			ct.must(t, "systemctl", "stop", "counter.service")
			removeAndCheckGone(t, img, backing, "counter.service")
		})
	}
}

// checkSandbox checks what the default profile promises of a process:
// seccomp, no new privileges, a user namespace.
func checkSandbox(t *testing.T, pid string) {
	t.Helper()
	status := ct.must(t, "cat", "/proc/"+pid+"/status")
	if !strings.Contains(status, "NoNewPrivs:\t1") {
		t.Errorf("sandbox: /proc/%s/status lacks NoNewPrivs: 1", pid)
	}
	if n, base := seccompFilters(t, pid), seccompFilters(t, "1"); n <= base {
		t.Errorf("sandbox: no system call filter of its own: %d filters, as many as PID 1's %d", n, base)
	}
	// A user namespace maps a few ids; the initial one spans them all.
	if uidMap := ct.must(t, "cat", "/proc/"+pid+"/uid_map"); strings.Contains(uidMap, "4294967295") {
		t.Errorf("no user namespace: uid_map %q", uidMap)
	}
}

// seccompFilters counts the seccomp filters on a process. Every process in
// the container has nspawn's, so a service's own come on top of PID 1's.
func seccompFilters(t *testing.T, pid string) int {
	t.Helper()
	out := ct.sh("sed -n 's/^Seccomp_filters:[[:space:]]*//p' /proc/" + pid + "/status")
	n, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("Seccomp_filters of %s: %q", pid, out)
	}
	return n
}

// checkVerity checks the verity settings of a GPT image with a verity
// partition: the generator writes the root hash systemd-repart computed
// (derived from the partition UUIDs; systemd 252 cannot guess it), no
// RootVerity= (the hash tree is a partition PID 1 finds itself), PID 1
// loads it, and the hash really verifies the root partition against its
// hash partition (veritysetup verify, in user space).
func checkVerity(t *testing.T, img *imagebuild.Image) {
	t.Helper()
	dropIn := ct.must(t, "cat", "/run/systemd/generator/counter.service.d/20-portable.conf")
	if !contains(strings.Split(dropIn, "\n"), "RootHash="+img.RootHash) {
		t.Errorf("20-portable.conf lacks RootHash=%s:\n%s", img.RootHash, dropIn)
	}
	if strings.Contains(dropIn, "RootVerity=") {
		t.Errorf("20-portable.conf names a RootVerity= file for a verity partition:\n%s", dropIn)
	}
	if got := ct.show(t, "counter.service", "RootHash"); got != img.RootHash {
		t.Errorf("PID 1 loaded RootHash=%q, want %q", got, img.RootHash)
	}
	if got := ct.show(t, "counter.service", "RootVerity"); got != "" {
		t.Errorf("PID 1 loaded RootVerity=%q", got)
	}
	parts := partitions(t, img.Path)
	data, hash := parts["root"], parts["root-verity"]
	if data == nil || hash == nil {
		t.Fatalf("no root and root-verity partitions in %v", parts)
	}
	dir := t.TempDir()
	for _, p := range []*partition{data, hash} {
		p.file = filepath.Join(dir, p.role)
		if err := extract(img.Path, p); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := run(context.Background(), "veritysetup", "verify", data.file, hash.file, img.RootHash); err != nil {
		t.Errorf("veritysetup verify with the generator's root hash: %v\n%s", err, out)
	}
	if img.Kind == imagebuild.GPTSigned {
		checkSignature(t, img, parts["root-verity-sig"], dropIn)
	}
}

// checkSignature checks a signed image: systemd-dissect finds it signed,
// and the generator passes the signature partition's PKCS#7 signature on
// as RootHashSignature=, which PID 1 loads.
func checkSignature(t *testing.T, img *imagebuild.Image, sig *partition, dropIn string) {
	t.Helper()
	if sig == nil {
		t.Fatal("no root-verity-sig partition")
	}
	sig.file = filepath.Join(t.TempDir(), "sig")
	if err := extract(img.Path, sig); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(sig.file)
	if err != nil {
		t.Fatal(err)
	}
	var blob struct {
		RootHash  string `json:"rootHash"`
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal(bytes.TrimRight(raw, "\x00"), &blob); err != nil || blob.Signature == "" {
		t.Fatalf("signature partition: %v: %q", err, bytes.TrimRight(raw, "\x00"))
	}
	if blob.RootHash != img.RootHash {
		t.Errorf("signature partition signs %s, repart said %s", blob.RootHash, img.RootHash)
	}
	if !contains(strings.Split(dropIn, "\n"), "RootHashSignature=base64:"+blob.Signature) {
		t.Errorf("20-portable.conf does not pass the partition's signature on:\n%s", dropIn)
	}
	if got := ct.show(t, "counter.service", "RootHashSignature"); got != blob.Signature {
		t.Errorf("PID 1 loaded RootHashSignature=%.40s…, want the partition's %.40s…", got, blob.Signature)
	}
	if out := ct.must(t, "systemd-dissect", "--json=short", containerPath(img)); !strings.Contains(out, `"designator":"root",`) ||
		!strings.Contains(out, `"verity":"signed"`) {
		t.Errorf("systemd-dissect does not find the image signed: %s", out)
	}
}

type partition struct {
	role          string
	start, length int64 // bytes
	file          string
}

// partitions reads an image's GPT with sfdisk, by DPS role.
func partitions(t *testing.T, image string) map[string]*partition {
	t.Helper()
	out, err := run(context.Background(), "sfdisk", "--json", image)
	if err != nil {
		t.Fatalf("sfdisk --json: %v: %s", err, out)
	}
	var table struct {
		PartitionTable struct {
			SectorSize int64 `json:"sectorsize"`
			Partitions []struct {
				Start, Size int64
				Name        string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &table); err != nil {
		t.Fatal(err)
	}
	ss := table.PartitionTable.SectorSize
	if ss == 0 {
		ss = 512
	}
	parts := map[string]*partition{}
	for _, p := range table.PartitionTable.Partitions {
		// systemd-repart labels them root-x86-64, root-x86-64-verity, ...
		role := "root"
		switch {
		case strings.HasSuffix(p.Name, "-verity"):
			role = "root-verity"
		case strings.HasSuffix(p.Name, "-verity-sig"):
			role = "root-verity-sig"
		}
		parts[role] = &partition{role: role, start: p.Start * ss, length: p.Size * ss}
	}
	return parts
}

func extract(image string, p *partition) error {
	f, err := os.Open(image)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, p.length)
	if _, err := f.ReadAt(b, p.start); err != nil {
		return err
	}
	return os.WriteFile(p.file, b, 0o600)
}

// backingFile identifies a raw image file as losetup shows the file behind
// a loop device (MAJ:MIN INODE), "" for a directory: teammates' containers
// use loop devices at the same time, so only our image's count.
func backingFile(t *testing.T, path string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		return ""
	}
	return fmt.Sprintf("%d:%d %d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
}

// loopDevicesOf lists the host's loop devices backed by the file backing
// names.
func loopDevicesOf(t *testing.T, backing string) []string {
	t.Helper()
	if backing == "" {
		return nil
	}
	out, err := run(context.Background(), "losetup", "--list", "--noheadings", "-O", "NAME,BACK-MAJ:MIN,BACK-INO")
	if err != nil {
		t.Fatalf("losetup --list: %v: %s", err, out)
	}
	var devs []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[1]+" "+f[2] == backing {
			devs = append(devs, f[0])
		}
	}
	return devs
}

// removeAndCheckGone removes the image, reloads, and checks the units are
// gone with nothing left: no loop device on the image, no mount of it, no
// file in the generator directory.
func removeAndCheckGone(t *testing.T, img *imagebuild.Image, backing string, units ...string) {
	t.Helper()
	if err := os.RemoveAll(img.Path); err != nil {
		t.Fatal(err)
	}
	ct.must(t, "systemctl", "daemon-reload")
	for _, u := range units {
		if got := ct.show(t, u, "LoadState"); got != "not-found" {
			t.Errorf("after removal %s LoadState = %q", u, got)
		}
	}
	// PID 1 detaches its loop device when the service's mount namespace
	// goes; give it a moment.
	poll(t, "no loop device left on the image", 5*time.Second, func() error {
		if devs := loopDevicesOf(t, backing); len(devs) > 0 {
			return fmt.Errorf("loop devices left: %v", devs)
		}
		return nil
	})
	if m := ct.sh("grep -c " + filepath.Base(img.Path) + " /proc/1/mountinfo"); m != "0" {
		t.Errorf("mounts of the image left in the container: %s", m)
	}
	prefix := strings.SplitN(filepath.Base(img.Path), "_", 2)[0]
	if out := ct.must(t, "ls", "/run/systemd/generator"); strings.Contains(out, prefix) {
		t.Errorf("files left in the generator directory: %s", out)
	}
}

// TestCorruptImageBesideGoodOnes: the good image attaches, the bad one is
// named with its reason by `portable-generator list` in the container.
func TestCorruptImageBesideGoodOnes(t *testing.T) {
	fresh(t)
	dropImage(t, "counter", imagebuild.Squashfs, "1", "good")
	if err := os.WriteFile(filepath.Join(ct.portables, "broken_1.raw"), make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	ct.must(t, "systemctl", "daemon-reload")
	if got := ct.show(t, "counter.service", "LoadState"); got != "loaded" {
		t.Errorf("good image: LoadState %q", got)
	}
	startedLine(t, "start", 1)
	list := ct.must(t, "portable-generator", "list")
	var badLine string
	for _, l := range strings.Split(list, "\n") {
		if strings.HasPrefix(l, "broken ") {
			badLine = l
		}
	}
	if !strings.Contains(badLine, "skipped") || !strings.Contains(badLine, "corrupt image") {
		t.Errorf("list does not name the corrupt image with its reason:\n%s", list)
	}
}
