package dissect

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"golang.org/x/sys/unix"
)

// Where a root hash can come from, strongest first, as systemd looks for
// them when it starts a RootImage= service (portable-services.md §5.1):
// an extended attribute or sidecar file beside the image, the signature
// partition inside it, and last a guess from the partition UUIDs.

// Size bounds for verity data read from files an image ships with.
const (
	maxRootHashFile  = 4 << 10 // hex text; a SHA-512 hash is 128 characters
	maxSignatureFile = 1 << 20 // a DER PKCS#7 signature, a few KiB in practice
	maxSignatureJSON = 4 << 20 // systemd refuses a larger signature partition
)

// sidecarVerity finds the verity data beside a raw image: the root hash in
// the user.verity.roothash attribute or STEM.roothash (else the usr hash
// in user.verity.usrhash or STEM.usrhash), its signature in
// STEM.roothash.p7s or STEM.usrhash.p7s (the one of the hash's designator),
// and a hash tree in STEM.verity,
// where STEM is the path without ".raw". Like systemd, only images whose
// name ends in ".raw" have sidecars. nil when there is neither a root
// hash nor a hash tree.
func sidecarVerity(path string) (*Verity, error) {
	stem, ok := strings.CutSuffix(path, ".raw")
	if !ok {
		return nil, nil
	}
	v := &Verity{}
	for _, d := range []Designator{"root", "usr"} {
		hash, source, err := readRootHash(path, stem, string(d))
		if err != nil {
			return nil, err
		}
		if hash != "" {
			v.Designator, v.RootHash, v.RootHashSource = d, hash, source
			break
		}
	}
	if fi, err := os.Stat(stem + ".verity"); err == nil && fi.Mode().IsRegular() {
		v.HashTree = stem + ".verity"
	}
	if v.RootHash == "" {
		if v.HashTree != "" {
			return v, nil // useless without a hash, but still wrong beside a partitioned disk
		}
		return nil, nil
	}
	// The signature of the designator the hash is for, as systemd looks
	// for it: a usr hash is never signed by STEM.roothash.p7s.
	p := stem + "." + string(v.Designator) + "hash.p7s"
	sig, err := readSmallFile(p, maxSignatureFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("verity signature %s: %w", p, err)
	case len(sig) == 0:
		return nil, fmt.Errorf("verity signature %s is empty", p)
	default:
		v.Signature, v.SignaturePath = sig, p
	}
	return v, nil
}

// readRootHash reads the root hash of one designator ("root" or "usr")
// from the image's attribute, else its sidecar file.
func readRootHash(path, stem, designator string) (hash, source string, err error) {
	buf := make([]byte, maxRootHashFile)
	n, err := unix.Getxattr(path, "user.verity."+designator+"hash", buf)
	switch {
	case err == nil:
		hash, err = parseRootHash(buf[:n])
		if err != nil {
			return "", "", fmt.Errorf("attribute user.verity.%shash of %s: %w", designator, path, err)
		}
		return hash, "xattr", nil
	case !errors.Is(err, unix.ENODATA) && !errors.Is(err, unix.ENOTSUP):
		return "", "", fmt.Errorf("reading attribute user.verity.%shash of %s: %w", designator, path, err)
	}
	file := stem + "." + designator + "hash"
	b, err := readSmallFile(file, maxRootHashFile)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err == nil {
		hash, err = parseRootHash(b)
	}
	if err != nil {
		return "", "", fmt.Errorf("verity root hash %s: %w", file, err)
	}
	return hash, "sidecar", nil
}

// parseRootHash accepts hex text of at least 16 bytes, with surrounding
// white space, and returns it in lower case.
func parseRootHash(b []byte) (string, error) {
	s := strings.ToLower(strings.TrimSpace(string(b)))
	raw, err := hex.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("not a hex root hash: %q", truncate(s, 80))
	}
	if len(raw) < 16 {
		return "", fmt.Errorf("a %d-byte root hash is too short", len(raw))
	}
	return s, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// readSmallFile reads a regular file that must not exceed limit bytes.
func readSmallFile(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("larger than %d bytes", limit)
	}
	return b, err
}

// hashHalves are the partition UUIDs a root hash names: systemd-repart
// makes the data partition's UUID the hash's first 16 bytes and the verity
// partition's its last 16. systemd matches both for a hash of any length
// (at least 16 bytes: parseRootHash), so for a hash shorter than 32 bytes
// the two overlap.
func hashHalves(hash string) (data, verity string) {
	uuid := func(h string) string {
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	}
	return uuid(hash[:32]), uuid(hash[len(hash)-32:])
}

// matchRootHash drops the partitions of v's designator whose UUIDs a
// configured root hash rules out, as systemd does before it chooses; it is
// an error when that leaves none.
func matchRootHash(parts []gptPartition, v *Verity) ([]gptPartition, error) {
	data, verity := hashHalves(v.RootHash)
	var out []gptPartition
	found := false
	for _, g := range parts {
		switch dpsTypes[g.typeGUID].designator {
		case v.Designator:
			if g.uuid != data {
				continue
			}
			found = true
		case v.Designator + "-verity":
			if g.uuid != verity {
				continue
			}
		}
		out = append(out, g)
	}
	if !found {
		return nil, fmt.Errorf("no %s partition matches the root hash %s from the %s beside the image (its UUID must be the hash's first half)",
			v.Designator, truncate(v.RootHash, 16), v.RootHashSource)
	}
	return out, nil
}

// signatureVerity reads a root-verity-sig or usr-verity-sig partition: NUL-
// padded JSON holding the root hash in hex and its PKCS#7 signature in
// base64. Like systemd, it refuses a partition of more than 4 MiB and
// anything but NULs after the JSON.
func signatureVerity(r io.ReaderAt, p Partition) (*Verity, error) {
	where := fmt.Sprintf("%s partition %d", p.Designator, p.Number)
	if p.Size > maxSignatureJSON {
		return nil, vfs.Corruptf(where, p.Offset, "a signature partition of %d bytes, more than %d", p.Size, maxSignatureJSON)
	}
	doc := make([]byte, p.Size)
	if _, err := r.ReadAt(doc, p.Offset); err != nil {
		return nil, vfs.Corruptf(where, p.Offset, "%v", err)
	}
	if i := bytes.IndexByte(doc, 0); i >= 0 {
		if j := bytes.IndexFunc(doc[i:], func(c rune) bool { return c != 0 }); j >= 0 {
			return nil, vfs.Corruptf(where, p.Offset+int64(i+j), "data after the NUL padding of the signature JSON")
		}
		doc = doc[:i]
	}
	var sig struct {
		RootHash  string `json:"rootHash"`
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal(doc, &sig); err != nil {
		return nil, vfs.Corruptf(where, p.Offset, "signature JSON: %v", err)
	}
	hash, err := parseRootHash([]byte(sig.RootHash))
	if err != nil {
		return nil, vfs.Corruptf(where, p.Offset, "rootHash: %v", err)
	}
	der, err := base64.StdEncoding.DecodeString(sig.Signature)
	if err != nil || len(der) == 0 {
		return nil, vfs.Corruptf(where, p.Offset, "signature is not base64 PKCS#7")
	}
	return &Verity{Designator: Designator(strings.TrimSuffix(string(p.Designator), "-verity-sig")),
		RootHash: hash, RootHashSource: "signature-partition", Signature: der}, nil
}
