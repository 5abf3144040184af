package imagebuild

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// rootTypes are the Discoverable Partitions Specification's root partition
// type GUIDs for the architectures the examples build for.
var rootTypes = map[string]string{
	"amd64": "4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
	"arm64": "b921b045-1df0-41c3-af44-4c6f280d3fae",
}

// repart makes a GPT/DPS image with systemd-repart: a squashfs root, and for
// the verity kinds its hash partition (systemd-repart derives both
// partition UUIDs from the root hash) and, signed, a signature partition.
func repart(tree string, kind Kind, dst, scratch string, img *Image) error {
	defs := filepath.Join(scratch, "repart.d")
	if err := os.Mkdir(defs, 0o755); err != nil {
		return err
	}
	root := "[Partition]\nType=root\nFormat=squashfs\nCopyFiles=" + tree + ":/\n"
	conf := map[string]string{}
	if kind == GPT {
		conf["10-root.conf"] = root
	} else {
		conf["10-root.conf"] = root + "Verity=data\nVerityMatchKey=root\n"
		conf["20-root-verity.conf"] = "[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\n"
	}
	args := []string{"--empty=create", "--size=auto", "--definitions=" + defs, "--dry-run=no", "--json=short"}
	if kind == GPTSigned {
		conf["30-root-verity-sig.conf"] = "[Partition]\nType=root-verity-sig\nVerity=signature\nVerityMatchKey=root\n"
		key, cert := filepath.Join(scratch, "key.pem"), filepath.Join(scratch, "cert.pem")
		if err := runTool("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-x509",
			"-days", "30", "-subj", "/CN=portable-generator example", "-out", cert); err != nil {
			return err
		}
		args = append(args, "--private-key="+key, "--certificate="+cert)
		pem, err := os.ReadFile(cert)
		if err != nil {
			return err
		}
		img.Certificate = pem
	}
	for name, body := range conf {
		if err := os.WriteFile(filepath.Join(defs, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	out, err := toolOutput("systemd-repart", append(args, dst)...)
	if err != nil {
		return err
	}
	var parts []struct {
		Type     string  `json:"type"`
		RootHash *string `json:"roothash"`
	}
	if err := json.Unmarshal([]byte(out), &parts); err != nil {
		return fmt.Errorf("systemd-repart --json=short: %v: %s", err, out)
	}
	for _, p := range parts {
		if p.RootHash != nil {
			img.RootHash = *p.RootHash
		}
	}
	if kind != GPT && img.RootHash == "" {
		return fmt.Errorf("systemd-repart reported no root hash: %s", out)
	}
	return nil
}

// gpt4K makes a GPT/DPS image with 4096-byte sectors. systemd-repart 252
// cannot (it has no --sector-size) and sfdisk reads the sector size from the
// device, so the table is written through a loop device with 4096-byte
// sectors; the squashfs root is then copied into its partition.
func gpt4K(tree, dst, scratch string) error {
	typ, ok := rootTypes[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("no root partition type for %s", runtime.GOARCH)
	}
	sq := filepath.Join(scratch, "root.squashfs")
	if err := squashfs(tree, sq); err != nil {
		return err
	}
	fi, err := os.Stat(sq)
	if err != nil {
		return err
	}
	const sector, start = 4096, 256 // the partition starts at 1 MiB
	sectors := roundUp(fi.Size(), sector) / sector
	// 1 MiB before the partition, the backup table (33 sectors at most) after it.
	if err := os.WriteFile(dst, nil, 0o644); err != nil {
		return err
	}
	if err := os.Truncate(dst, roundUp((start+sectors+64)*sector, 1<<20)); err != nil {
		return err
	}
	dev, err := toolOutput("losetup", "--sector-size", "4096", "--find", "--show", dst)
	if err != nil {
		return err
	}
	dev = strings.TrimSpace(dev)
	script := fmt.Sprintf("label: gpt\nstart=%d, size=%d, type=%s, name=root\n", start, sectors, typ)
	err = runScript(script, "sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", dev)
	if derr := runTool("losetup", "--detach", dev); err == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	return copyInto(sq, dst, start*sector)
}

// mbr makes a DOS partition table with one bootable Linux partition (type
// 0x83) at 1 MiB, holding a squashfs root, as systemd dissects MBR images.
func mbr(tree, dst, scratch string) error {
	sq := filepath.Join(scratch, "root.squashfs")
	if err := squashfs(tree, sq); err != nil {
		return err
	}
	fi, err := os.Stat(sq)
	if err != nil {
		return err
	}
	const start = 1 << 20
	size := roundUp(fi.Size(), 1<<20)
	if err := os.WriteFile(dst, nil, 0o644); err != nil {
		return err
	}
	if err := os.Truncate(dst, start+size); err != nil {
		return err
	}
	script := "label: dos\nstart=" + strconv.Itoa(start/512) + ", size=" + strconv.FormatInt(size/512, 10) + ", type=83, bootable\n"
	if err := runScript(script, "sfdisk", "--quiet", dst); err != nil {
		return err
	}
	return copyInto(sq, dst, start)
}

// copyInto writes the file src into dst at offset.
func copyInto(src, dst string, offset int64) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(b, offset); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
