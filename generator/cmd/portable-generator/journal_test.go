package main

import (
	"bytes"
	"encoding/base64"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// asGeneratorInContainer sets the environment PID 1 gives a generator in
// a container, and returns generator mode's invocation for root, writing
// into a new directory.
func asGeneratorInContainer(t *testing.T, root, socket string) (*invocation, string) {
	t.Helper()
	t.Setenv("SYSTEMD_EXEC_PID", strconv.Itoa(os.Getpid()))
	t.Setenv("SYSTEMD_VIRTUALIZATION", "container:systemd-nspawn")
	t.Setenv("SYSTEMD_LOG_LEVEL", "info") // restored after the test,
	os.Unsetenv("SYSTEMD_LOG_LEVEL")      // unset during it: the default level
	out := t.TempDir()
	inv, err := parse([]string{"--root=" + root, "--systemd-version=252", out, out, out})
	if err != nil {
		t.Fatal(err)
	}
	var discard bytes.Buffer
	inv.stdout, inv.stderr, inv.journalSocket = &discard, &discard, socket
	return inv, out
}

// bootLogLines returns what portable-generator-log.service would log.
func bootLogLines(t *testing.T, unit []byte) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^StandardInputData=(.*)$`).FindSubmatch(unit)
	if m == nil {
		t.Fatalf("no StandardInputData= in\n%s", unit)
	}
	data, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// At boot in a container (no journald yet), the skip lines travel in a
// generated unit that logs them once journald is up; a run with nothing to
// say at the default level generates no such unit.
func TestContainerBootLog(t *testing.T) {
	root := testRoot(t)
	inv, out := asGeneratorInContainer(t, root, filepath.Join(t.TempDir(), "no-journal-yet"))
	if code := generatorVerb(inv); code != 0 {
		t.Fatalf("exit %d", code)
	}
	unit, err := os.ReadFile(filepath.Join(out, bootLogUnit))
	if err != nil {
		t.Fatal(err)
	}
	lines := bootLogLines(t, unit)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "<4>bar: /var/lib/portables/bar: skipped: no os-release") {
		t.Errorf("the unit would log %q, want bar's skip at warning only", lines)
	}
	if l, err := os.Readlink(filepath.Join(out, "sysinit.target.wants", bootLogUnit)); err != nil || l != "../"+bootLogUnit {
		t.Errorf("sysinit.target.wants/%s -> %q, %v", bootLogUnit, l, err)
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		// PID 1 must load the unit as written: verify it as systemd would.
		cmd := exec.Command("systemd-analyze", "verify", "--man=no", filepath.Join(out, bootLogUnit))
		if msg, err := cmd.CombinedOutput(); err != nil || len(msg) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, msg)
		}
	} else {
		testenv.Unavailable(t, "systemd-analyze not installed")
	}

	// Everything attaches: nothing to log, no unit.
	if err := os.RemoveAll(filepath.Join(root, "var/lib/portables/bar")); err != nil {
		t.Fatal(err)
	}
	inv, out = asGeneratorInContainer(t, root, filepath.Join(t.TempDir(), "no-journal-yet"))
	if code := generatorVerb(inv); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := os.Lstat(filepath.Join(out, bootLogUnit)); err == nil {
		t.Errorf("%s generated for a run with nothing to log", bootLogUnit)
	}
}

// At a reload in a container, journald runs: each line goes to its socket
// in the native protocol, and no unit is generated.
func TestContainerReloadLog(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "journal.socket")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	inv, out := asGeneratorInContainer(t, testRoot(t), socket)
	if code := generatorVerb(inv); code != 0 {
		t.Fatalf("exit %d", code)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second)) // a guard against a hang, not a measurement
	buf := make([]byte, 64<<10)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("nothing sent to the journal: %v", err)
	}
	fields := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(buf[:n]), "\n"), "\n") {
		k, v, _ := strings.Cut(l, "=")
		fields[k] = v
	}
	if fields["PRIORITY"] != "4" || fields["SYSLOG_IDENTIFIER"] != program ||
		!strings.HasPrefix(fields["MESSAGE"], "bar: /var/lib/portables/bar: skipped: no os-release") {
		t.Errorf("journal record %q", buf[:n])
	}
	conn.SetReadDeadline(time.Now())
	if n, err := conn.Read(buf); err == nil {
		t.Errorf("a second record, for an attached image at the default level: %q", buf[:n])
	}
	if _, err := os.Lstat(filepath.Join(out, bootLogUnit)); err == nil {
		t.Errorf("%s generated at a reload", bootLogUnit)
	}
}
