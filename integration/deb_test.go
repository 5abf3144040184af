//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// packagedFiles are what the package installs that the workflow relies
// on; `dpkg -r` must take each away again.
var packagedFiles = []string{
	"/usr/lib/systemd/system-generators/portable-generator",
	"/usr/bin/portable-generator",
	"/usr/share/man/man8/portable-generator.8.gz",
	"/usr/share/man/man5/portable-generator.conf.5.gz",
	"/usr/share/bash-completion/completions/portable-generator",
	"/usr/share/zsh/vendor-completions/_portable-generator",
	"/usr/share/portable-generator/profiles/default/service.conf",
	"/usr/share/doc/portable-generator/copyright",
	"/usr/lib/systemd/system/portable-generator-reconcile.service",
}

// buildDeb builds the package as `just deb` does and returns its path.
func buildDeb(t *testing.T) string {
	t.Helper()
	testenv.NeedTool(t, "go-md2man", "dpkg-deb")
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if msg, err := run(ctx, "../dist/man.sh", filepath.Join(out, "man")); err != nil {
		t.Fatalf("dist/man.sh: %v\n%s", err, msg)
	}
	cmd := exec.CommandContext(ctx, "../dist/deb.sh", out, filepath.Join(out, "man"))
	cmd.Stderr = os.Stderr
	deb, err := cmd.Output()
	if err != nil {
		t.Fatalf("dist/deb.sh: %v", err)
	}
	return strings.TrimSpace(string(deb))
}

// TestDebianPackage installs the .deb with dpkg in a container that has no
// generator of ours, runs the workflow from it (copy then rename an image
// in, reload, start, use, remove, reload), and removes the package; the
// package's own reloads attach and detach what is there.
func TestDebianPackage(t *testing.T) {
	deb := buildDeb(t)
	c, err := boot("", bootOptions{tree: osTree, noPortables: true, setup: func(root string) error {
		b, err := os.ReadFile(deb)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(root, "root", filepath.Base(deb)), b, 0o644)
	}})
	if c == nil {
		t.Fatal(err)
	}
	t.Cleanup(c.destroy)
	if err != nil {
		t.Fatal(err)
	}

	// Deliver the image as the README says: copy under a name the generator
	// ignores, then rename into place. No generator of ours is there yet.
	portables := filepath.Join(c.merged, "var/lib/portables")
	deliver := func() {
		tmp := filepath.Join(portables, ".greeter_1.raw.tmp")
		buildImage(t, "greeter", imagebuild.Squashfs, "1", "deb", tmp)
		if err := os.Rename(tmp, filepath.Join(portables, "greeter_1.raw")); err != nil {
			t.Fatal(err)
		}
	}
	loadState := func() string { return c.must(t, "systemctl", "show", "-P", "LoadState", "greeter.service") }
	deliver()

	// Installing reloads systemd: the image is attached with no reload of ours.
	c.must(t, "dpkg", "-i", "/root/"+filepath.Base(deb))
	for _, f := range packagedFiles {
		c.must(t, "test", "-e", f)
	}
	if got := c.must(t, "readlink", "/usr/bin/portable-generator"); got != "../lib/systemd/system-generators/portable-generator" {
		t.Errorf("/usr/bin/portable-generator -> %q, want the relative link to the generator", got)
	}
	version := c.must(t, "dpkg-query", "-W", "-f", "${Version}", "portable-generator")
	if got := c.must(t, "portable-generator", "--version"); got != "portable-generator "+version {
		t.Errorf("portable-generator --version: %q, want the package's version %s", got, version)
	}
	if got := c.must(t, "systemctl", "show", "-P", "FragmentPath", "greeter.service"); got != "/run/systemd/generator/greeter.service" {
		t.Fatalf("after dpkg -i, greeter.service from %q\n%s", got, c.sh("portable-generator list"))
	}
	if got := c.sh("systemctl is-enabled portable-generator-reconcile.service"); got != "disabled" {
		t.Errorf("portable-generator-reconcile.service is %s after install, want disabled", got)
	}
	c.must(t, "portable-generator", "inspect", "greeter")
	c.must(t, "systemctl", "start", "greeter.socket")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	answer, err := run(ctx, "nsenter", "-t", strconv.Itoa(c.leader), "-n", "--", bins["greeter"], "check", "http://127.0.0.1:8080/")
	if err != nil || !strings.Contains(answer, "build=deb ") {
		t.Fatalf("greeter did not answer: %v: %s\n%s", err, answer, c.sh("systemctl status --no-pager greeter.socket greeter.service"))
	}

	c.must(t, "systemctl", "stop", "greeter.socket", "greeter.service")
	if err := os.Remove(filepath.Join(portables, "greeter_1.raw")); err != nil {
		t.Fatal(err)
	}
	c.must(t, "systemctl", "daemon-reload")
	if got := loadState(); got != "not-found" {
		t.Errorf("greeter.service is %s after its image left", got)
	}

	// Removing the package reloads too: the units it generated go with it.
	deliver()
	c.must(t, "systemctl", "daemon-reload")
	if got := loadState(); got != "loaded" {
		t.Fatalf("greeter.service is %s after the image came back", got)
	}
	c.must(t, "dpkg", "-r", "portable-generator")
	if got := loadState(); got != "not-found" {
		t.Errorf("greeter.service is %s after dpkg -r", got)
	}
	for _, f := range packagedFiles {
		if out := c.sh("test -e " + f + " || test -L " + f + " && echo left"); out != "" {
			t.Errorf("dpkg -r left %s", f)
		}
	}
	fmt.Fprintf(os.Stderr, "deb: %s installed, ran the workflow, removed on systemd %d\n", filepath.Base(deb), c.version)
}
