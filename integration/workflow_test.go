//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	ct      *container
	workDir string
)

func TestMain(m *testing.M) {
	if os.Getuid() != 0 {
		fmt.Println("integration tests need root: skipped")
		os.Exit(0)
	}
	for _, tool := range []string{"systemd-nspawn", "nsenter", "mksquashfs", "mkfs.erofs"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Printf("integration tests need %s (just deps installs it)\n", tool)
			os.Exit(1)
		}
	}
	var err error
	workDir, err = os.MkdirTemp("", "pg-integration-build-")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(workDir)
		gen := filepath.Join(workDir, "portable-generator")
		for _, b := range [][2]string{{gen, "../generator/cmd/portable-generator"}, {filepath.Join(workDir, "counter"), "../examples/counter"}} {
			cmd := exec.Command("go", "build", "-trimpath", "-o", b[0], b[1])
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Printf("go build %s: %v\n%s", b[1], err, out)
				return 1
			}
		}
		ct, err = boot(gen)
		if err != nil {
			fmt.Println("booting the container:", err)
			if ct != nil {
				ct.stop()
			}
			return 1
		}
		defer ct.stop()
		return m.Run()
	}()
	os.Exit(code)
}

// counterTree writes the counter example's image tree: the binary, its
// unit, an os-release with a marker, and the mount points a read-only image
// must carry.
func counterTree(t *testing.T, version, marker string) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "tree")
	for _, dir := range []string{"usr/bin", "usr/lib/systemd/system", "etc", "proc", "sys", "dev", "run", "tmp", "var/tmp", "var/lib/counter"} {
		if err := os.MkdirAll(filepath.Join(d, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := os.ReadFile(filepath.Join(workDir, "counter"))
	if err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile("../examples/counter/counter.service")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"usr/bin/counter":                        bin,
		"usr/lib/systemd/system/counter.service": unit,
		"usr/lib/os-release":                     []byte(fmt.Sprintf("ID=counter\nVERSION_ID=%s\nPORTABLE_PREFIXES=counter\nCOUNTER_MARKER=%s\n", version, marker)),
		"etc/resolv.conf":                        nil,
		"etc/machine-id":                         nil,
	}
	for p, b := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(p, "usr/bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(d, p), b, mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../usr/lib/os-release", filepath.Join(d, "etc/os-release")); err != nil {
		t.Fatal(err)
	}
	return d
}

// makeImage packs a tree into portables/<name> in one format.
func makeImage(t *testing.T, tree, kind, name string) string {
	t.Helper()
	dst := filepath.Join(ct.portables, name)
	var cmd *exec.Cmd
	switch kind {
	case "directory":
		cmd = exec.Command("cp", "-a", tree, dst)
	case "squashfs":
		cmd = exec.Command("mksquashfs", tree, dst, "-quiet", "-noappend", "-all-root", "-comp", "zstd")
	case "erofs":
		cmd = exec.Command("mkfs.erofs", "--all-root", dst, tree)
	case "gpt":
		// A DPS image: one root partition for this architecture. (No verity
		// partition: this machine's kernel has no device-mapper.)
		defs := filepath.Join(t.TempDir(), "defs")
		os.Mkdir(defs, 0o755)
		os.WriteFile(filepath.Join(defs, "10-root.conf"), []byte("[Partition]\nType=root\nFormat=squashfs\nCopyFiles="+tree+":/\n"), 0o644)
		cmd = exec.Command("systemd-repart", "--empty=create", "--size=auto", "--definitions="+defs, "--dry-run=no", dst)
	case "mbr":
		sq := filepath.Join(t.TempDir(), "root.sq")
		if out, err := exec.Command("mksquashfs", tree, sq, "-quiet", "-noappend", "-all-root").CombinedOutput(); err != nil {
			t.Fatalf("mksquashfs: %v %s", err, out)
		}
		script := "truncate -s 16M " + dst + " && printf 'label: dos\\n,12M,83,*\\n' | sfdisk -q " + dst +
			" && dd if=" + sq + " of=" + dst + " bs=512 seek=2048 conv=notrunc status=none"
		cmd = exec.Command("sh", "-c", script)
	default:
		t.Fatalf("unknown kind %s", kind)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	return dst
}

func (c *container) must(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.exec(ctx, args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

func (c *container) show(t *testing.T, unit, prop string) string {
	t.Helper()
	return c.must(t, "systemctl", "show", "-P", prop, unit)
}

// TestWorkflow is the user's whole workflow for each image kind: drop the
// image in, reload, start, see it run from the image in its sandbox with
// its journal field, stop, remove, reload, and find nothing left.
func TestWorkflow(t *testing.T) {
	for _, kind := range []string{"directory", "squashfs", "erofs", "gpt", "mbr"} {
		t.Run(kind, func(t *testing.T) {
			marker := "kind-" + kind
			name := "counter"
			if kind != "directory" {
				name = "counter_1.raw"
			}
			img := makeImage(t, counterTree(t, "1", marker), kind, name)
			t.Cleanup(func() {
				// Leave a clean container for the next test even on failure.
				ctx := context.Background()
				ct.exec(ctx, "systemctl", "stop", "counter.service")
				os.RemoveAll(img)
				ct.exec(ctx, "systemctl", "daemon-reload")
			})
			ct.must(t, "systemctl", "daemon-reload")
			if got := ct.show(t, "counter.service", "FragmentPath"); got != "/run/systemd/generator/counter.service" {
				ct.must(t, "portable-generator", "list")
				t.Fatalf("FragmentPath = %q; list: %s", got, ct.must(t, "portable-generator", "list"))
			}
			ct.must(t, "systemctl", "start", "counter.service")
			var pid string
			poll(t, "counter running", 10*time.Second, func() error {
				pid = ct.show(t, "counter.service", "MainPID")
				if pid == "0" || pid == "" {
					return fmt.Errorf("MainPID %q, state %s", pid, ct.show(t, "counter.service", "ActiveState"))
				}
				return nil
			})
			// It runs from the image: its root has the binary, the container does not.
			if _, err := os.Stat(filepath.Join(ct.merged, "usr/bin/counter")); err == nil {
				t.Fatal("the container itself has /usr/bin/counter: the test proves nothing")
			}
			// MainPID exists from fork on; PID 1 sets up the namespace, then
			// seccomp and no-new-privs, then execs: wait for the exec (the
			// command name turns from "(counter)" into "counter").
			poll(t, "the process runs from the image", 10*time.Second, func() error {
				if comm, _ := ct.exec(context.Background(), "cat", "/proc/"+pid+"/comm"); strings.TrimSpace(comm) != "counter" {
					return fmt.Errorf("not exec'd yet: comm %q", strings.TrimSpace(comm))
				}
				out, err := ct.exec(context.Background(), "stat", "-c", "%F", "/proc/"+pid+"/root/usr/bin/counter")
				if err != nil || strings.TrimSpace(out) != "regular file" {
					status, _ := ct.exec(context.Background(), "sh", "-c", "systemctl status --no-pager counter.service | tail -5; findmnt /dev; ls /dev/loop* | head; cat /proc/1/cmdline | tr \"\\0\" \" \"")
					return fmt.Errorf("%v: %s\n%s", err, out, status)
				}
				return nil
			})
			status := ct.must(t, "cat", "/proc/"+pid+"/status")
			for _, want := range []string{"Seccomp:\t2", "NoNewPrivs:\t1"} {
				if !strings.Contains(status, want) {
					t.Errorf("sandbox: /proc/%s/status lacks %q", pid, want)
				}
			}
			// A user namespace maps a few ids; the host's identity map spans them all.
			if uidMap := ct.must(t, "cat", "/proc/"+pid+"/uid_map"); strings.Contains(uidMap, "4294967295") {
				t.Errorf("no user namespace: uid_map %q", uidMap)
			}
			var line string
			poll(t, "journal has PORTABLE="+filepath.Base(img), 10*time.Second, func() error {
				line = ct.must(t, "journalctl", "-q", "-o", "cat", "PORTABLE="+filepath.Base(img))
				if !strings.Contains(line, "marker="+marker) {
					dbg, _ := ct.exec(context.Background(), "sh", "-c", "systemctl status counter.service; journalctl -u counter.service -o verbose | grep -e PORTABLE -e MESSAGE= | tail")
					return fmt.Errorf("journal: %q\n%s", line, dbg)
				}
				return nil
			})
			if strings.Contains(line, " uid=0") {
				t.Errorf("runs as root: %s", line)
			}
			ct.must(t, "systemctl", "stop", "counter.service")
			if err := os.RemoveAll(img); err != nil {
				t.Fatal(err)
			}
			ct.must(t, "systemctl", "daemon-reload")
			if got := ct.show(t, "counter.service", "LoadState"); got != "not-found" {
				t.Errorf("after removal LoadState = %q", got)
			}
			if out := ct.must(t, "losetup", "-a"); out != "" {
				t.Errorf("loop devices left: %s", out)
			}
			if out := ct.must(t, "ls", "/run/systemd/generator"); strings.Contains(out, "counter") {
				t.Errorf("files left in the generator directory: %s", out)
			}
		})
	}
}

// TestCorruptImageBesideGoodOnes: the good image attaches, the bad one is
// named with its reason by `portable-generator list` in the container.
func TestCorruptImageBesideGoodOnes(t *testing.T) {
	good := makeImage(t, counterTree(t, "1", "good"), "squashfs", "counter_1.raw")
	bad := filepath.Join(ct.portables, "broken_1.raw")
	if err := os.WriteFile(bad, make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(good)
	defer os.Remove(bad)
	ct.must(t, "systemctl", "daemon-reload")
	if got := ct.show(t, "counter.service", "LoadState"); got != "loaded" {
		t.Errorf("good image: LoadState %q", got)
	}
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
	defer ct.must(t, "systemctl", "daemon-reload")
}
