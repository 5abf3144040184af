package dissect

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// signingKey makes a throwaway key and certificate with openssl.
func signingKey(t *testing.T) (key, cert string) {
	t.Helper()
	testenv.NeedTool(t, "openssl")
	dir := t.TempDir()
	key, cert = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	run(t, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
		"-days", "3650", "-subj", "/CN=portable-generator test")
	return key, cert
}

var verityDefs = map[string]string{
	"10-root.conf":   "[Partition]\nType=root\nFormat=squashfs\nCopyFiles=TREE:/\nVerity=data\nVerityMatchKey=root\n",
	"20-verity.conf": "[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\n",
}

func repartRootHash(t *testing.T, parts []map[string]any) string {
	t.Helper()
	for _, p := range parts {
		if h, ok := p["roothash"].(string); ok && h != "" {
			return h
		}
	}
	t.Fatal("systemd-repart reported no root hash")
	return ""
}

// systemdDissectVerity is what systemd-dissect says of each designator's
// verity ("signed", "yes", or "" for none).
func systemdDissectVerity(t *testing.T, path string) map[string]string {
	t.Helper()
	testenv.NeedTool(t, "systemd-dissect")
	testenv.NeedRoot(t) // systemd-dissect reads an image through a loop device
	out, err := exec.Command("systemd-dissect", "--json=short", path).Output()
	if err != nil {
		t.Fatalf("systemd-dissect %s: %v", path, err)
	}
	var r Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return reportVerity(r)
}

func reportVerity(r Report) map[string]string {
	m := map[string]string{}
	for _, mt := range r.Mounts {
		if mt.Verity != nil {
			m[mt.Designator] = *mt.Verity
		}
	}
	return m
}

// A signed systemd-repart image: the root hash and its signature come from
// the root-verity-sig partition, and systemd-dissect agrees it is signed.
func TestGPTSignaturePartition(t *testing.T) {
	key, cert := signingKey(t)
	defs := map[string]string{"30-sig.conf": "[Partition]\nType=root-verity-sig\nVerity=signature\nVerityMatchKey=root\n"}
	for k, v := range verityDefs {
		defs[k] = v
	}
	img, parts := repartImage(t, defs, "--private-key="+key, "--certificate="+cert)
	d, err := Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	v := d.Verity
	if v == nil || v.RootHash != repartRootHash(t, parts) || v.RootHashSource != "signature-partition" || v.Designator != "root" {
		t.Fatalf("verity %+v, want the root hash %s from the signature partition", v, repartRootHash(t, parts))
	}
	// DER: a SEQUENCE.
	if len(v.Signature) < 64 || v.Signature[0] != 0x30 {
		t.Errorf("signature of %d bytes starting %x: not DER PKCS#7", len(v.Signature), v.Signature[:min(4, len(v.Signature))])
	}
	if len(d.Partitions) != 3 || d.Partitions[2].Designator != "root-verity-sig" || !d.Partitions[0].ReadOnly {
		t.Errorf("partitions %+v", d.Partitions)
	}
	if theirs, ours := systemdDissectVerity(t, img), reportVerity(d.Report(img)); theirs["root"] != "signed" || ours["root"] != "signed" {
		t.Errorf("verity: systemd-dissect %v, ours %v; want root signed in both", theirs, ours)
	}
	checkTree(t, d)
}

// A naked squashfs made verity-protected by veritysetup, with the root
// hash, its signature and the hash tree beside it, as systemd looks for
// them (STEM.roothash, STEM.roothash.p7s, STEM.verity).
func TestSidecarFiles(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs")
	testenv.NeedTool(t, "veritysetup")
	key, cert := signingKey(t)
	dir := t.TempDir()
	img := filepath.Join(dir, "app_1.2.raw")
	run(t, "mksquashfs", imageTree(t), img, "-quiet", "-noappend", "-all-root")
	out, err := exec.Command("veritysetup", "format", img, filepath.Join(dir, "app_1.2.verity")).CombinedOutput()
	if err != nil {
		t.Fatalf("veritysetup: %v\n%s", err, out)
	}
	hash := regexp.MustCompile(`Root hash:\s+([0-9a-f]+)`).FindSubmatch(out)
	if hash == nil {
		t.Fatalf("no root hash in %s", out)
	}
	roothash := filepath.Join(dir, "app_1.2.roothash")
	os.WriteFile(roothash, append(hash[1], '\n'), 0o644)
	run(t, "openssl", "smime", "-sign", "-nocerts", "-noattr", "-binary", "-in", roothash,
		"-inkey", key, "-signer", cert, "-outform", "der", "-out", filepath.Join(dir, "app_1.2.roothash.p7s"))

	d, err := Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	v := d.Verity
	if v == nil || v.RootHash != string(hash[1]) || v.RootHashSource != "sidecar" ||
		v.HashTree != filepath.Join(dir, "app_1.2.verity") || v.SignaturePath != filepath.Join(dir, "app_1.2.roothash.p7s") || v.Signature != nil {
		t.Fatalf("verity %+v", v)
	}
	if !d.Partitions[0].ReadOnly {
		t.Error("a verity-protected file system must be read-only")
	}
	if theirs, ours := systemdDissectVerity(t, img), reportVerity(d.Report(img)); theirs["root"] != ours["root"] || ours["root"] != "external" {
		t.Errorf("verity: systemd-dissect %v, ours %v", theirs, ours)
	}
	checkTree(t, d)

	// The attribute beats the file, as systemd reads them.
	other := strings.Repeat("ab", 32)
	if err := unix.Setxattr(img, "user.verity.roothash", []byte(other), 0); err != nil {
		testenv.Unavailable(t, "no user attributes on this file system: %v", err)
	}
	d2, err := Open(img)
	if err != nil {
		t.Fatal(err)
	}
	d2.Close()
	if d2.Verity == nil || d2.Verity.RootHash != other || d2.Verity.RootHashSource != "xattr" {
		t.Errorf("with user.verity.roothash: %+v", d2.Verity)
	}
}

func TestSidecarMistakes(t *testing.T) {
	testenv.NeedTool(t, "systemd-repart")
	img, parts := repartImage(t, verityDefs)
	stem := strings.TrimSuffix(img, ".raw")

	// A hash tree file next to a partitioned image: systemd refuses it.
	os.WriteFile(stem+".verity", []byte("tree"), 0o644)
	if _, err := Open(img); err == nil || !strings.Contains(err.Error(), "without a partition table") {
		t.Errorf("GPT image with a .verity sidecar: %v", err)
	}
	os.Remove(stem + ".verity")

	// A root hash that names other partitions.
	os.WriteFile(stem+".roothash", []byte(strings.Repeat("12", 32)), 0o644)
	if _, err := Open(img); err == nil {
		t.Error("a root hash naming no partition of the image was accepted")
	} else {
		t.Log(err)
	}
	// The right one, from the file: the hash is matched to the partitions.
	os.WriteFile(stem+".roothash", []byte(repartRootHash(t, parts)+"\n"), 0o644)
	d, err := Open(img)
	if err != nil || d.Verity == nil || d.Verity.RootHashSource != "sidecar" {
		t.Fatalf("matching sidecar: %v, %+v", err, d)
	}
	d.Close()
	for _, bad := range []string{"", "xyz", "abcd", strings.Repeat("0", 31)} {
		os.WriteFile(stem+".roothash", []byte(bad), 0o644)
		if _, err := Open(img); err == nil {
			t.Errorf("root hash %q accepted", bad)
		}
	}
	os.WriteFile(stem+".roothash", bytes.Repeat([]byte("a"), maxRootHashFile+1), 0o644)
	if _, err := Open(img); err == nil {
		t.Error("an oversized root hash file was accepted")
	}
}

// A root hash beside a naked file system covers it only together with
// the hash tree (STEM.verity): systemd sets up no verity from the hash
// alone there, and mounts an ext4 read-write.
func TestNakedRootHashWithoutHashTree(t *testing.T) {
	testenv.NeedTool(t, "mke2fs")
	dir := t.TempDir()
	img := filepath.Join(dir, "app_1.2.raw")
	run(t, "mke2fs", "-q", "-F", "-t", "ext4", "-d", imageTree(t), img, "16M")
	os.WriteFile(filepath.Join(dir, "app_1.2.roothash"), []byte(strings.Repeat("ab", 32)+"\n"), 0o644)
	d, err := Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Verity != nil {
		t.Errorf("verity %+v from a root hash without a hash tree", d.Verity)
	}
	if d.Partitions[0].ReadOnly {
		t.Error("an ext4 without verity is read-write")
	}
	if theirs, ours := systemdDissectVerity(t, img), reportVerity(d.Report(img)); theirs["root"] != ours["root"] {
		t.Errorf("verity: systemd-dissect %v, ours %v", theirs, ours)
	}
}

// A signature belongs to the hash of its own designator: systemd takes
// STEM.roothash.p7s only with a root hash and STEM.usrhash.p7s only with
// a usr hash.
func TestSidecarSignatureDesignator(t *testing.T) {
	hash := strings.Repeat("cd", 32)
	for _, c := range []struct {
		files   []string // sidecar suffixes present
		wantSig string   // the suffix whose signature is taken, "" for none
	}{
		{[]string{".roothash", ".roothash.p7s"}, ".roothash.p7s"},
		{[]string{".roothash", ".usrhash.p7s"}, ""},
		{[]string{".usrhash", ".roothash.p7s"}, ""},
		{[]string{".usrhash", ".usrhash.p7s"}, ".usrhash.p7s"},
		{[]string{".usrhash", ".roothash.p7s", ".usrhash.p7s"}, ".usrhash.p7s"},
	} {
		dir := t.TempDir()
		img := filepath.Join(dir, "app.raw")
		os.WriteFile(img, nil, 0o644)
		for _, f := range c.files {
			content := hash
			if strings.HasSuffix(f, ".p7s") {
				content = "signature from " + f
			}
			os.WriteFile(filepath.Join(dir, "app"+f), []byte(content), 0o644)
		}
		v, err := sidecarVerity(img, nil)
		if err != nil || v == nil {
			t.Fatalf("%v: %+v, %v", c.files, v, err)
		}
		got := ""
		if v.SignaturePath != "" {
			got = strings.TrimPrefix(v.SignaturePath, filepath.Join(dir, "app"))
		}
		if got != c.wantSig || v.Signature != nil {
			t.Errorf("%v: signature %q (bytes %q), want the file %q", c.files, got, v.Signature, c.wantSig)
		}
	}
}
