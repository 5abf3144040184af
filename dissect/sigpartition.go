package dissect

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// maxSignatureJSON bounds a signature partition: systemd refuses a larger one.
const maxSignatureJSON = 4 << 20

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
