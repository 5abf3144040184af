//go:build integration

package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/portable-generator/portable-generator/internal/testenv"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
)

// serveInContainer serves dir over HTTP on the container's loopback and
// returns the URL. The listening socket is made in the container's network
// namespace by a thread that joins it for the one call (a socket stays in
// the namespace it was made in), so the test process serves and no HTTP
// server is needed inside the container.
func serveInContainer(t *testing.T, dir string) string {
	t.Helper()
	type result struct {
		ln  net.Listener
		err error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread()
		// The thread is left locked (and so ends with the goroutine) if
		// it cannot go back: no other goroutine may run in the container.
		back, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer unix.Close(back)
		theirs, err := unix.Open(fmt.Sprintf("/proc/%d/ns/net", ct.leader), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer unix.Close(theirs)
		if err := unix.Setns(theirs, unix.CLONE_NEWNET); err != nil {
			done <- result{nil, err}
			return
		}
		ln, lerr := net.Listen("tcp", "127.0.0.1:0")
		if err := unix.Setns(back, unix.CLONE_NEWNET); err != nil {
			done <- result{nil, fmt.Errorf("back to our network namespace: %v", err)}
			return
		}
		runtime.UnlockOSThread()
		done <- result{ln, lerr}
	}()
	r := <-done
	if r.err != nil {
		t.Fatalf("listen in the container: %v", r.err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	// One request per connection, as a plain static server may do: 252's
	// systemd-pull now and then waits for ever on a kept-alive connection.
	srv.SetKeepAlivesEnabled(false)
	go srv.Serve(r.ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + r.ln.Addr().String() + "/"
}

// publish builds counter version v into the server directory and rewrites
// its SHA256SUMS manifest.
func publish(t *testing.T, dir, v string) {
	t.Helper()
	buildImage(t, "counter", imagebuild.Squashfs, v, "delivered", filepath.Join(dir, "counter_"+v+".raw"))
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".raw") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+e.Name()+"\n")
	}
	sort.Strings(lines)
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// installed lists the counter versions in /var/lib/portables.
func installed(t *testing.T) []string {
	t.Helper()
	ents, _ := os.ReadDir(ct.portables)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// runningVersion is the VERSION_ID counter.service runs from.
func runningVersion(t *testing.T) string {
	t.Helper()
	pid := mainPID(t, "counter.service", "counter")
	return strings.Trim(ct.sh("sed -n 's/^VERSION_ID=//p' /proc/"+pid+"/root/usr/lib/os-release"), `"'`)
}

// TestDelivery: images come from an HTTP server with a SHA256SUMS manifest.
// With systemd-sysupdate (257; Debian 12's systemd 252 does not ship it):
// version 1 is installed, portable-generator-sysupdate@counter.service
// places version 2, reloads and reconciles, so version 2 runs; version 3
// comes the same way and InstancesMax=2 removes version 1. On 257,
// importctl pull-raw --class=portable brings version 4 the second way. On
// 252, systemd-pull (which sysupdate and importd use underneath) brings
// version 2.
func TestDelivery(t *testing.T) {
	lcFresh(t)
	installUnits(t)
	dir := t.TempDir()
	url := serveInContainer(t, dir)
	publish(t, dir, "1")
	publish(t, dir, "2")
	t.Cleanup(func() { ct.sh("rm -rf /etc/sysupdate.counter.d") })

	if ct.sh("test -x /usr/lib/systemd/systemd-sysupdate && echo yes") != "yes" {
		if ct.version >= 257 {
			t.Fatalf("systemd %d without /usr/lib/systemd/systemd-sysupdate", ct.version)
		}
		t.Logf("systemd %d: no systemd-sysupdate (Debian 12 does not ship it); systemd-pull instead", ct.version)
		deliverWithPull(t, dir, url)
		return
	}

	transfer := strings.NewReplacer("https://images.example.com/portables/counter/", url, "Verify=yes", "Verify=no")
	example, err := os.ReadFile("../examples/sysupdate/sysupdate.counter.d/counter.conf")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(ct.merged, "etc/sysupdate.counter.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	// 257 wants the suffix .transfer (it reads .conf with a notice).
	if err := os.WriteFile(filepath.Join(ct.merged, "etc/sysupdate.counter.d/counter.transfer"), []byte(transfer.Replace(string(example))), 0o644); err != nil {
		t.Fatal(err)
	}
	ct.must(t, "/usr/lib/systemd/systemd-sysupdate", "--component=counter", "update", "1")
	ct.must(t, "systemctl", "daemon-reload")
	reconcileNow(t)
	ct.must(t, "systemctl", "start", "counter.service")
	if v := runningVersion(t); v != "1" {
		t.Fatalf("running version %s, want 1", v)
	}

	update := func(want string) {
		t.Helper()
		cursor := journalCursor(t)
		ct.must(t, "systemctl", "start", "portable-generator-sysupdate@counter.service")
		log := ct.sh("journalctl -q -o cat --after-cursor='" + cursor + "' -u portable-generator-sysupdate@counter.service")
		t.Logf("portable-generator-sysupdate@counter.service:\n%s", log)
		if strings.Contains(log, "should have the '.transfer' extension") {
			t.Errorf("sysupdate does not like the transfer file's name")
		}
		if !strings.Contains(log, "counter.service: restarted: now from /var/lib/portables/counter_"+want+".raw") {
			t.Errorf("the update to %s did not reconcile", want)
		}
		if v := runningVersion(t); v != want {
			t.Errorf("running version %s, want %s", v, want)
		}
	}
	update("2")
	if got := installed(t); strings.Join(got, " ") != "counter_1.raw counter_2.raw" {
		t.Errorf("after the update to 2, installed: %v (InstancesMax=2 keeps the previous one)", got)
	}
	publish(t, dir, "3")
	update("3")
	if got := installed(t); strings.Join(got, " ") != "counter_2.raw counter_3.raw" {
		t.Errorf("after the update to 3, installed: %v (InstancesMax=2 removes version 1)", got)
	}

	// importctl, the second way (257).
	publish(t, dir, "4")
	ct.must(t, "importctl", "pull-raw", "--class=portable", "--verify=checksum", url+"counter_4.raw", "counter_4")
	ct.must(t, "systemctl", "daemon-reload")
	if out := reconcileNow(t); !strings.Contains(out, "counter.service: restarted: now from /var/lib/portables/counter_4.raw") {
		t.Errorf("after importctl pull-raw: %s", out)
	}
	if v := runningVersion(t); v != "4" {
		t.Errorf("running version %s, want 4", v)
	}

	// Signed: the example's Verify=yes, a manifest signed with a key in
	// /etc/systemd/import-pubring.gpg. sysupdate runs gpg in the
	// container: integration/trixie-tree.sh installs it.
	if ct.sh("command -v gpg") == "" {
		testenv.Unavailable(t, "the signed update is not checked: the tree has no gpg (integration/trixie-tree.sh installs it)")
	}
	signed := filepath.Join(ct.merged, "etc/sysupdate.counter.d/counter.transfer")
	if err := os.WriteFile(signed, []byte(strings.ReplaceAll(string(example), "https://images.example.com/portables/counter/", url)), 0o644); err != nil {
		t.Fatal(err)
	}
	publish(t, dir, "5")
	if err := os.WriteFile(lcFile("/etc/systemd/import-pubring.gpg"), sign(t, dir), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(lcFile("/etc/systemd/import-pubring.gpg")) })
	update("5")
	publish(t, dir, "6") // the manifest changes, its signature does not
	if out, err := ct.exec(t.Context(), "systemctl", "start", "portable-generator-sysupdate@counter.service"); err == nil {
		t.Errorf("sysupdate took version 6 under a stale signature: %s", out)
	}
	if got := installed(t); strings.Join(got, " ") != "counter_4.raw counter_5.raw" {
		t.Errorf("after the refused update to 6, installed: %v", got)
	}
	if v := runningVersion(t); v != "5" {
		t.Errorf("running version %s, want 5", v)
	}
}

// deliverWithPull is delivery on 252, which has systemd-pull but no
// systemd-sysupdate: checked by the manifest, then by its signature.
func deliverWithPull(t *testing.T, dir, url string) {
	// 252's systemd-pull takes no "_" in an image name: --direct writes
	// to a hidden name in the directory, then it is renamed.
	pull := func(v, verify string) (string, error) {
		tmp := "/var/lib/portables/.counter_" + v + ".raw.part"
		var out string
		var err error
		for try := 1; try <= 3; try++ {
			// timeout(1) in the container: a hung systemd-pull is ended
			// there, and its output pipe with it.
			out, err = ct.exec(t.Context(), "timeout", "60", "/lib/systemd/systemd-pull", "raw", "--direct", "--verify="+verify,
				url+"counter_"+v+".raw", tmp)
			if !strings.Contains(err2string(err), "exit status 124") {
				break
			}
			t.Logf("systemd-pull of version %s hung (try %d): %s", v, try, out)
		}
		if err != nil {
			ct.sh("rm -f " + tmp)
			return out, err
		}
		return ct.must(t, "mv", tmp, "/var/lib/portables/counter_"+v+".raw"), nil
	}
	if out, err := pull("1", "checksum"); err != nil {
		t.Fatalf("systemd-pull: %v: %s", err, out)
	}
	ct.must(t, "systemctl", "daemon-reload")
	reconcileNow(t)
	ct.must(t, "systemctl", "start", "counter.service")
	if v := runningVersion(t); v != "1" {
		t.Fatalf("running version %s, want 1", v)
	}
	if out, err := pull("2", "checksum"); err != nil {
		t.Fatalf("systemd-pull: %v: %s", err, out)
	}
	ct.must(t, "systemctl", "daemon-reload")
	if out := reconcileNow(t); !strings.Contains(out, "counter.service: restarted: now from /var/lib/portables/counter_2.raw") {
		t.Errorf("after systemd-pull of version 2: %s", out)
	}
	if v := runningVersion(t); v != "2" {
		t.Errorf("running version %s, want 2", v)
	}
	// A file the manifest does not vouch for never lands.
	if err := os.WriteFile(filepath.Join(dir, "counter_9.raw"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := pull("9", "checksum"); err == nil {
		t.Errorf("systemd-pull took a file the manifest does not list: %s", out)
	}
	os.Remove(filepath.Join(dir, "counter_9.raw"))

	// Signed: the manifest's signature checked against the machine's
	// keyring; a manifest changed after signing is refused.
	publish(t, dir, "3")
	pubring := sign(t, dir)
	if err := os.WriteFile(lcFile("/etc/systemd/import-pubring.gpg"), pubring, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(lcFile("/etc/systemd/import-pubring.gpg")) })
	if out, err := pull("3", "signature"); err != nil {
		t.Fatalf("systemd-pull --verify=signature of a signed manifest: %v: %s", err, out)
	}
	ct.must(t, "systemctl", "daemon-reload")
	if out := reconcileNow(t); !strings.Contains(out, "counter.service: restarted: now from /var/lib/portables/counter_3.raw") {
		t.Errorf("after the signed pull of version 3: %s", out)
	}
	publish(t, dir, "4") // the manifest changes, its signature does not
	if out, err := pull("4", "signature"); err == nil || !strings.Contains(out, "Signature verification failed") {
		t.Errorf("systemd-pull of version 4 under a stale signature: %v: %s", err, out)
	}
	if got := installed(t); strings.Join(got, " ") != "counter_1.raw counter_2.raw counter_3.raw" {
		t.Errorf("installed: %v", got)
	}
}

// sign makes a throwaway key, signs dir's SHA256SUMS as SHA256SUMS.gpg
// and returns the public key, for /etc/systemd/import-pubring.gpg.
func sign(t *testing.T, dir string) []byte {
	t.Helper()
	testenv.NeedTool(t, "gpg")
	home := t.TempDir()
	gpg := func(args ...string) string {
		t.Helper()
		out, err := run(t.Context(), "gpg", append([]string{"--homedir", home, "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
		if err != nil {
			t.Fatalf("gpg %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return out
	}
	gpg("--quick-gen-key", "portable-generator test <test@invalid>", "ed25519", "sign", "never")
	gpg("--yes", "--detach-sign", "--output", filepath.Join(dir, "SHA256SUMS.gpg"), filepath.Join(dir, "SHA256SUMS"))
	pub := filepath.Join(home, "pub.gpg")
	gpg("--output", pub, "--export")
	b, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func err2string(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
