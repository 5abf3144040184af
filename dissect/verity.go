package dissect

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Every rule that decides an image's Verity is in this file. A root hash
// comes from, strongest first, as systemd looks for it when it starts a
// RootImage= service (portable-services.md §5.1): an extended attribute
// or sidecar file beside the image, the signature partition inside it
// (sigpartition.go reads it), and last a guess from the partition UUIDs.
// A naked file system has verity only with its hash tree beside it; a
// partitioned disk never has one beside it, and some layouts of verity
// partitions are refused.

// Size bounds for verity data read from files an image ships with.
const (
	maxRootHashFile  = 4 << 10 // hex text; a SHA-512 hash is 128 characters
	maxSignatureFile = 1 << 20 // a DER PKCS#7 signature, a few KiB in practice
)

// sidecarVerity finds the verity data beside a raw image: the root hash in
// the user.verity.roothash attribute or STEM.roothash (else the usr hash
// in user.verity.usrhash or STEM.usrhash), its signature in
// STEM.roothash.p7s or STEM.usrhash.p7s (the one of the hash's designator),
// and a hash tree in STEM.verity,
// where STEM is the path without ".raw". Like systemd, only images whose
// name ends in ".raw" have sidecars. nil when there is neither a root
// hash nor a hash tree. The files are read where at says (see
// Options.Sidecar; nil: where they are named).
func sidecarVerity(path string, at func(string) (string, error)) (*Verity, error) {
	stem, ok := strings.CutSuffix(path, ".raw")
	if !ok {
		return nil, nil
	}
	if at == nil {
		at = func(p string) (string, error) { return p, nil }
	}
	v := &Verity{}
	for _, d := range []Designator{"root", "usr"} {
		hash, source, err := readRootHash(path, stem, string(d), at)
		if err != nil {
			return nil, err
		}
		if hash != "" {
			v.Designator, v.RootHash, v.RootHashSource = d, hash, source
			break
		}
	}
	if p, err := at(stem + ".verity"); err == nil {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			v.HashTree = stem + ".verity"
		}
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
	// Read only to refuse a file PID 1 would refuse: it is handed on by
	// its path.
	sig, err := readSidecar(p, maxSignatureFile, at)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("verity signature %s: %w", p, err)
	case len(sig) == 0:
		return nil, fmt.Errorf("verity signature %s is empty", p)
	default:
		v.SignaturePath = p
	}
	return v, nil
}

// signed reports whether v has a signature, in a file or in bytes.
func (v *Verity) signed() bool { return v.SignaturePath != "" || len(v.Signature) > 0 }

// readRootHash reads the root hash of one designator ("root" or "usr")
// from the image's attribute, else its sidecar file.
func readRootHash(path, stem, designator string, at func(string) (string, error)) (hash, source string, err error) {
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
	b, err := readSidecar(file, maxRootHashFile, at)
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

// readSidecar reads sidecar file p where at says (see readSmallFile).
func readSidecar(p string, limit int64, at func(string) (string, error)) ([]byte, error) {
	q, err := at(p)
	if err != nil {
		return nil, err
	}
	return readSmallFile(q, limit)
}

// readSmallFile reads a regular file that must not exceed limit bytes.
func readSmallFile(p string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|noBlock, 0)
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

// chooseVerity picks the image's verity data in systemd's order: the
// sidecar, the signature partition, the guess from partition UUIDs. With a
// hash from beside the image, the signature partition is used only if it
// holds the same hash (then for its signature, when the sidecar has none);
// systemd passes over one that holds another.
func chooseVerity(r io.ReaderAt, parts []Partition, side *Verity) (*Verity, error) {
	has := map[Designator]Partition{}
	for _, p := range parts {
		has[p.Designator] = p
	}
	for _, d := range []Designator{"root", "usr"} {
		sigPart, ok := has[d+"-verity-sig"]
		if _, verity := has[d+"-verity"]; !ok || !verity {
			continue
		}
		sig, err := signatureVerity(r, sigPart)
		if err != nil {
			return nil, err
		}
		if side == nil {
			return sig, nil
		}
		if side.Designator == d && side.RootHash == sig.RootHash && !side.signed() {
			side.Signature = sig.Signature
		}
	}
	if side != nil {
		return side, nil
	}
	return guessVerity(parts), nil
}

// guessVerity derives the root hash from the partition UUIDs when a data
// partition has a verity partition: systemd-repart sets the data
// partition's UUID to the first half of the root hash and the verity
// partition's to the second (what systemd 258+ guesses; 252 needs
// RootHash= written out).
func guessVerity(parts []Partition) *Verity {
	by := map[Designator]Partition{}
	for _, p := range parts {
		by[p.Designator] = p
	}
	for _, d := range []Designator{"root", "usr"} {
		data, ok1 := by[d]
		hash, ok2 := by[d+"-verity"]
		if !ok1 || !ok2 {
			continue
		}
		return &Verity{
			Designator:     d,
			RootHash:       strings.ReplaceAll(data.UUID, "-", "") + strings.ReplaceAll(hash.UUID, "-", ""),
			RootHashSource: "partition-uuids",
		}
	}
	return nil
}

// sidecarBesideTable is systemd's rule for a partitioned disk: a .verity
// hash tree file belongs to a naked file system, never to a disk with a
// partition table.
func sidecarBesideTable(side *Verity) error {
	if side == nil || side.HashTree == "" {
		return nil
	}
	return fmt.Errorf("%s: a .verity sidecar file can only protect an image without a partition table", side.HashTree)
}

// nakedVerity is the verity of a naked file system: only as the root, and
// only with its hash tree in the .verity sidecar; without it systemd sets
// up no verity, whatever root hash it has.
func nakedVerity(side *Verity) *Verity {
	if side == nil || side.RootHash == "" || side.HashTree == "" || side.Designator != "root" {
		return nil
	}
	return side
}

// verityLayoutError refuses the verity partitions systemd refuses: one
// without its data partition, a signature without its verity partition,
// verity for both root and usr, and verity for a root whose /usr is apart.
func verityLayoutError(has func(Designator) bool) error {
	for _, d := range []Designator{"root", "usr"} {
		switch {
		case (has(d+"-verity") || has(d+"-verity-sig")) && !has(d):
			return fmt.Errorf("%s verity partition without a %s partition", d, d)
		case has(d+"-verity-sig") && !has(d+"-verity"):
			return fmt.Errorf("%s-verity-sig partition without a %s-verity partition", d, d)
		}
	}
	if has("root-verity") {
		switch {
		case has("usr-verity"):
			return fmt.Errorf("both root and usr have verity partitions: only one may")
		case has("usr"):
			return fmt.Errorf("a verity-protected root partition with a separate usr partition")
		}
	}
	return nil
}

// partitionedVerity chooses the verity data of a partitioned disk and
// marks the partition it protects read-only, as a dm-verity device is.
func partitionedVerity(r io.ReaderAt, parts []Partition, side *Verity) (*Verity, error) {
	v, err := chooseVerity(r, parts, side)
	if err != nil || v == nil {
		return nil, err
	}
	for i := range parts {
		if parts[i].Designator == v.Designator {
			parts[i].ReadOnly = true
		}
	}
	return v, nil
}
