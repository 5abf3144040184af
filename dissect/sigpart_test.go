package dissect

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// The signature partition's rules, as systemd applies them: at most
// 4 MiB, JSON then nothing but NUL padding; a root hash already known
// from beside the image must be the partition's, or the partition is
// passed over (not an error).
func TestSignaturePartitionRules(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	other := strings.Repeat("ab", 16) + strings.Repeat("00", 8) + strings.Repeat("ab", 16)
	doc := `{"rootHash":"` + hash + `","signature":"c2lnbmF0dXJl"}`
	const sigOff = 4096
	parts := func(size int64) []Partition {
		return []Partition{
			{Number: 1, Designator: "root", Offset: 0, Size: 1},
			{Number: 2, Designator: "root-verity", Offset: 1, Size: 1},
			{Number: 3, Designator: "root-verity-sig", Offset: sigOff, Size: size},
		}
	}
	disk := func(content string, size int) bytesReaderAt {
		b := make([]byte, sigOff+size)
		copy(b[sigOff:], content)
		return b
	}
	for _, c := range []struct {
		name     string
		r        bytesReaderAt
		size     int64
		side     *Verity
		wantHash string
		wantSig  string
		// wantSigPath is the signature file, when the signature is handed
		// on by path (then no bytes).
		wantSigPath string
		corrupt     bool
	}{
		{name: "padded JSON", r: disk(doc, 8192), size: 8192, wantHash: hash, wantSig: "signature"},
		{name: "no padding", r: disk(doc, len(doc)), size: int64(len(doc)), wantHash: hash, wantSig: "signature"},
		{name: "bytes after the padding", r: disk(doc+"\x00\x00junk", 8192), size: 8192, corrupt: true},
		{name: "larger than 4 MiB", r: disk(doc, 4<<20+512), size: 4<<20 + 512, corrupt: true},
		{name: "sidecar hash agrees, takes the signature", r: disk(doc, 8192), size: 8192,
			side: &Verity{Designator: "root", RootHash: hash, RootHashSource: "sidecar"}, wantHash: hash, wantSig: "signature"},
		{name: "sidecar hash differs: partition passed over", r: disk(doc, 8192), size: 8192,
			side: &Verity{Designator: "root", RootHash: other, RootHashSource: "sidecar"}, wantHash: other},
		{name: "signed sidecar hash differs: partition passed over", r: disk(doc, 8192), size: 8192,
			side: &Verity{Designator: "root", RootHash: other, RootHashSource: "sidecar", SignaturePath: "own.p7s"}, wantHash: other, wantSigPath: "own.p7s"},
		{name: "signed sidecar hash agrees: its own signature kept", r: disk(doc, 8192), size: 8192,
			side: &Verity{Designator: "root", RootHash: hash, RootHashSource: "sidecar", SignaturePath: "own.p7s"}, wantHash: hash, wantSigPath: "own.p7s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := chooseVerity(c.r, parts(c.size), c.side)
			if c.corrupt {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("err = %v, want ErrCorrupt", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v == nil || v.RootHash != c.wantHash || !bytes.Equal(v.Signature, []byte(c.wantSig)) || v.SignaturePath != c.wantSigPath {
				t.Errorf("verity %+v, want hash %s signed %q", v, c.wantHash, c.wantSig)
			}
		})
	}
}
