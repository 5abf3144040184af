//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

const examplesDir = "../examples"

var (
	ct        *container        // the suite's container, booted once
	osTree    string            // the OS it boots: "/" or a debootstrap tree
	generator string            // our generator, built for the suite
	bins      map[string]string // example name -> its static binary, WORKDIR/NAME
	workDir   string            // the suite's build directory
)

// TestMain builds the generator and the examples, boots the OS tree named
// by PG_INTEGRATION_TREE (this machine's own, "/", when unset) and runs the
// suite against its systemd.
func TestMain(m *testing.M) {
	if os.Getuid() != 0 {
		if testenv.RequireAll() {
			fmt.Printf("integration tests need root (%s=1: they must run)\n", testenv.RequireAllVar)
			os.Exit(1)
		}
		fmt.Println("integration tests need root: skipped")
		os.Exit(0)
	}
	for _, tool := range []string{"systemd-nspawn", "nsenter", "mksquashfs", "mkfs.erofs", "mkfs.ext4",
		"systemd-repart", "sfdisk", "losetup", "openssl", "veritysetup"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Printf("integration tests need %s (just deps installs it)\n", tool)
			os.Exit(1)
		}
	}
	osTree = os.Getenv("PG_INTEGRATION_TREE")
	if osTree == "" {
		osTree = "/"
	}
	if _, err := os.Stat(filepath.Join(osTree, "lib/systemd/systemd")); err != nil {
		fmt.Printf("PG_INTEGRATION_TREE=%s holds no systemd: %v\n", osTree, err)
		os.Exit(1)
	}
	var err error
	workDir, err = os.MkdirTemp("", "pg-integration-build-")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(workDir)
		generator = filepath.Join(workDir, "portable-generator")
		// Built as dist/deb.sh builds what ships: static and stripped
		// (the benchmark's cold start reads less of it from the disk).
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", generator, "../generator/cmd/portable-generator")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Printf("go build the generator: %v\n%s", err, out)
			return 1
		}
		bins = map[string]string{}
		for _, name := range []string{"counter", "greeter"} {
			bins[name] = filepath.Join(workDir, name)
			if err := imagebuild.BuildBinary(examplesDir, name, bins[name]); err != nil {
				fmt.Println(err)
				return 1
			}
		}
		start := time.Now()
		ct, err = boot(generator, bootOptions{tree: osTree})
		if err != nil {
			fmt.Println("booting the container:", err)
			if ct != nil {
				ct.destroy()
			}
			return 1
		}
		defer ct.destroy()
		fmt.Printf("integration: systemd %d booted from %s in %s\n", ct.version, osTree, time.Since(start).Round(time.Millisecond))
		return m.Run()
	}()
	os.Exit(code)
}

// buildImage builds an example's image of one kind at dst, which may be a
// host path inside the container's root or its portables directory.
func buildImage(t *testing.T, example string, kind imagebuild.Kind, version, buildID, dst string) *imagebuild.Image {
	t.Helper()
	tree := filepath.Join(t.TempDir(), "tree")
	if err := imagebuild.Tree(examplesDir, example, bins[example], tree, imagebuild.TreeOptions{Version: version, BuildID: buildID}); err != nil {
		t.Fatal(err)
	}
	img, err := imagebuild.Pack(tree, kind, dst)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// imageName is the file name of an example image in a search directory.
func imageName(example string, kind imagebuild.Kind, version string) string {
	if kind == imagebuild.Directory {
		return example + "_" + version
	}
	return example + "_" + version + ".raw"
}

// dropImage builds an example's image into /var/lib/portables (the host
// directory bound there), named EXAMPLE_VERSION[.raw].
func dropImage(t *testing.T, example string, kind imagebuild.Kind, version, buildID string) *imagebuild.Image {
	t.Helper()
	return buildImage(t, example, kind, version, buildID, filepath.Join(ct.portables, imageName(example, kind, version)))
}

// containerPath is where the container sees a file of its portables
// directory.
func containerPath(img *imagebuild.Image) string {
	return "/var/lib/portables/" + filepath.Base(img.Path)
}

// exampleUnits are every unit the examples' images carry.
var exampleUnits = []string{"counter.service", "greeter.socket", "greeter.service", "greeter-check.timer", "greeter-check.service"}

// fresh makes the test leave the container as it found it, even when it
// fails: the examples' units stopped, no image, no settings, no state.
func fresh(t *testing.T) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ct.exec(ctx, append([]string{"systemctl", "stop"}, exampleUnits...)...)
		ents, _ := os.ReadDir(ct.portables)
		for _, e := range ents {
			os.RemoveAll(filepath.Join(ct.portables, e.Name()))
		}
		ct.exec(ctx, "rm", "-rf", "/etc/portables", "/srv/images", "/etc/systemd/portable",
			counterState, "/var/lib/counter")
		ct.exec(ctx, "systemctl", "daemon-reload")
		ct.exec(ctx, append([]string{"systemctl", "reset-failed"}, exampleUnits...)...)
	})
}

// settings writes /etc/systemd/portable/NAME.portable in the container.
func settings(t *testing.T, name, body string) {
	t.Helper()
	dir := filepath.Join(ct.merged, "etc/systemd/portable")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".portable"), []byte("[Portable]\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeFiles writes files (path below dir -> content) under dir, making
// their directories.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// startedLine starts (or restarts) counter.service and returns the line it
// wrote for its n-th start (the file keeps the previous start's line until
// the new process has written).
func startedLine(t *testing.T, verb string, n int) string {
	t.Helper()
	ct.must(t, "systemctl", verb, "counter.service")
	return counterLine(t, n)
}

// counterState is counter's StateDirectory= under DynamicUser= (the
// profiles but trusted).
const counterState = "/var/lib/private/counter"

// counterLine waits for counter's line of its n-th start.
func counterLine(t *testing.T, n int) string {
	t.Helper()
	return counterLineIn(t, counterState, n)
}

// counterLineIn waits for counter's line of its n-th start in its state
// directory dir.
func counterLineIn(t *testing.T, dir string, n int) string {
	t.Helper()
	var line string
	poll(t, fmt.Sprintf("counter's start %d", n), 10*time.Second, func() error {
		out, err := ct.exec(context.Background(), "cat", dir+"/started")
		line = strings.TrimSpace(out)
		if err != nil || !strings.Contains(line, fmt.Sprintf(" start=%d ", n)) {
			return fmt.Errorf("%v: %s\n%s", err, out, ct.sh("systemctl status --no-pager -n 20 counter.service"))
		}
		return nil
	})
	return line
}

// mainPID waits for the unit's main process to have exec'd the binary:
// MainPID exists from fork on, and PID 1 sets up the namespace, then seccomp
// and no-new-privs, then execs (the command name turns from "(counter)"
// into "counter").
func mainPID(t *testing.T, unit, binary string) string {
	t.Helper()
	var pid string
	poll(t, unit+" runs "+binary, 10*time.Second, func() error {
		pid = ct.show(t, unit, "MainPID")
		if pid == "0" || pid == "" {
			return fmt.Errorf("MainPID %q, state %s", pid, ct.show(t, unit, "ActiveState"))
		}
		if comm := ct.sh("cat /proc/" + pid + "/comm"); comm != binary {
			return fmt.Errorf("not exec'd yet: comm %q", comm)
		}
		return nil
	})
	return pid
}

// runsFromImage checks that the process's root holds the image's binary
// while the container's does not.
func runsFromImage(t *testing.T, pid, binary string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(ct.merged, "usr/bin", binary)); err == nil {
		t.Fatalf("the container itself has /usr/bin/%s: the test proves nothing", binary)
	}
	if out := ct.sh("stat -c %F /proc/" + pid + "/root/usr/bin/" + binary); out != "regular file" {
		t.Errorf("process %s does not run from the image: /proc/%s/root/usr/bin/%s: %s", pid, pid, binary, out)
	}
}

// httpGet fetches a URL in the container's network namespace with the
// greeter's own client, run from the host.
func httpGet(t *testing.T, url string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := run(ctx, "nsenter", "-t", fmt.Sprint(ct.leader), "-n", "--", bins["greeter"], "check", url)
	return strings.TrimSpace(out), err
}

// journal returns the journal entries matching one FIELD=VALUE,
// each field as a string. (A service's lines under DynamicUser= go to a
// journal file of their own, where journalctl 252 loses --after-cursor:
// callers match an invocation instead.)
func (c *container) journal(t *testing.T, match string) []map[string]string {
	t.Helper()
	out := c.must(t, "journalctl", "-q", "-o", "json", match)
	var entries []map[string]string
	for _, line := range strings.Split(out, "\n") {
		var raw map[string]any
		if json.Unmarshal([]byte(line), &raw) != nil {
			continue
		}
		e := map[string]string{}
		for k, v := range raw {
			if s, ok := v.(string); ok {
				e[k] = s
			}
		}
		entries = append(entries, e)
	}
	return entries
}

// journalCursor is the position after which the next journal lines come.
func journalCursor(t *testing.T) string {
	t.Helper()
	out := ct.must(t, "journalctl", "-q", "-n", "0", "--show-cursor")
	c, ok := strings.CutPrefix(strings.TrimSpace(out), "-- cursor: ")
	if !ok {
		t.Fatalf("journalctl --show-cursor: %q", out)
	}
	return c
}
