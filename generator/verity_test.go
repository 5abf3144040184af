package generator

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// verityRoot builds a root holding two verity-protected images made by the
// real tools: signed_1.raw, a signed systemd-repart GPT image (root,
// root-verity, root-verity-sig), and side_1.raw, a naked squashfs with its
// root hash, signature and hash tree in sidecar files. It returns the
// root and the root hashes the tools reported.
func verityRoot(t *testing.T) (root string, signedHash, sideHash string) {
	t.Helper()
	testenv.NeedTool(t, "systemd-repart", "mksquashfs", "veritysetup", "openssl")
	sh := func(script string) string {
		t.Helper()
		out, err := exec.Command("sh", "-euc", script).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return string(out)
	}
	base := t.TempDir()
	root = filepath.Join(base, "root")
	portables := filepath.Join(root, "var/lib/portables")
	os.MkdirAll(portables, 0o755)
	for _, name := range []string{"signed", "side"} {
		tree := filepath.Join(base, name)
		os.MkdirAll(filepath.Join(tree, "usr/lib/systemd/system"), 0o755)
		os.WriteFile(filepath.Join(tree, "usr/lib/os-release"), []byte("ID=verity\nVERSION_ID=1\n"), 0o644)
		os.WriteFile(filepath.Join(tree, "usr/lib/systemd/system", name+".service"), []byte("[Service]\nExecStart=/usr/bin/"+name+"\n"), 0o644)
	}
	sh(`cd ` + base + ` && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 3650 -subj /CN=pg-test 2>/dev/null
mkdir defs
printf '[Partition]\nType=root\nFormat=squashfs\nCopyFiles=` + base + `/signed:/\nVerity=data\nVerityMatchKey=root\n' >defs/10-root.conf
printf '[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\n' >defs/20-verity.conf
printf '[Partition]\nType=root-verity-sig\nVerity=signature\nVerityMatchKey=root\n' >defs/30-sig.conf`)
	repart := sh(`cd ` + base + ` && systemd-repart --empty=create --size=auto --definitions=defs --dry-run=no --json=short --private-key=key.pem --certificate=cert.pem ` + portables + `/signed_1.raw`)
	signedHash = regexp.MustCompile(`"roothash":"([0-9a-f]+)"`).FindStringSubmatch(repart)[1]
	sh(`cd ` + portables + ` && mksquashfs ` + base + `/side side_1.raw -quiet -noappend -all-root
veritysetup format side_1.raw side_1.verity | sed -n 's/^Root hash:[[:space:]]*//p' >side_1.roothash
openssl smime -sign -nocerts -noattr -binary -in side_1.roothash -inkey ` + base + `/key.pem -signer ` + base + `/cert.pem -outform der -out side_1.roothash.p7s`)
	b, _ := os.ReadFile(filepath.Join(portables, "side_1.roothash"))
	return root, signedHash, strings.TrimSpace(string(b))
}

// The generator passes on what PID 1 needs to activate dm-verity: the
// root hash (which 252 cannot find in a signature partition or guess),
// the signature, and a sidecar hash tree; systemd's own loader accepts it.
func TestVerityDropIns(t *testing.T) {
	root, signedHash, sideHash := verityRoot(t)
	res, _, err := Generate(Config{Root: root, SystemdVersion: 252})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range res.Files {
		files[f.Path] = string(f.Data)
	}
	for _, r := range res.Reports {
		if r.State != StateAttached {
			t.Fatalf("%s: %s %s", r.Name, r.State, r.Reason)
		}
	}
	signed := files["signed.service.d/20-portable.conf"]
	if !strings.Contains(signed, "RootHash="+signedHash+"\n") || !strings.Contains(signed, "RootHashSignature=base64:") {
		t.Errorf("signed image drop-in lacks its root hash %s or signature:\n%s", signedHash, signed)
	}
	if m := regexp.MustCompile(`RootHashSignature=base64:(\S+)`).FindStringSubmatch(signed); m != nil {
		if der, err := base64.StdEncoding.DecodeString(m[1]); err != nil || der[0] != 0x30 {
			t.Errorf("RootHashSignature is not base64 DER: %v", err)
		}
	}
	side := files["side.service.d/20-portable.conf"]
	for _, want := range []string{"RootHash=" + sideHash + "\n", "RootVerity=/var/lib/portables/side_1.verity\n",
		"RootHashSignature=/var/lib/portables/side_1.roothash.p7s\n"} {
		if !strings.Contains(side, want) {
			t.Errorf("sidecar image drop-in lacks %q:\n%s", want, side)
		}
	}

	// PID 1's own loader reads the settings back.
	systemd := "/lib/systemd/systemd"
	if _, err := os.Stat(systemd); err != nil {
		testenv.Unavailable(t, "no systemd binary: %v", err)
	}
	testenv.NeedRoot(t) // to run systemd --test as nobody
	out, err := os.MkdirTemp("", "pg-verity-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(out)
	os.Chmod(out, 0o755)
	if err := Write(out, res.Files); err != nil {
		t.Fatal(err)
	}
	for unit, want := range map[string][]string{
		"signed.service": {"RootHash: " + signedHash, "RootHashSignature: base64:"},
		"side.service":   {"RootHash: " + sideHash, "RootVerity: /var/lib/portables/side_1.verity", "RootHashSignature: /var/lib/portables/side_1.roothash.p7s"},
	} {
		cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			"env", "SYSTEMD_UNIT_PATH="+out+":", systemd, "--test", "--system", "--no-pager", "--unit="+unit)
		cmd.Dir = "/"
		dump, err := cmd.Output()
		if err != nil {
			t.Fatalf("systemd --test %s: %v", unit, err)
		}
		for _, w := range want {
			if !strings.Contains(string(dump), w) {
				t.Errorf("%s: PID 1 loaded no %q", unit, w)
			}
		}
	}
}
