package imagebuild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Kind is an image format.
type Kind string

// The formats Pack makes.
const (
	Directory Kind = "directory"  // the tree itself (RootDirectory=)
	Squashfs  Kind = "squashfs"   // a naked squashfs file system, zstd level 3
	Erofs     Kind = "erofs"      // a naked erofs file system
	Ext4      Kind = "ext4"       // a naked ext4 file system
	GPT       Kind = "gpt"        // GPT/DPS, one squashfs root partition (systemd-repart)
	GPTVerity Kind = "gpt-verity" // GPT/DPS, root and root-verity partitions (systemd-repart)
	GPTSigned Kind = "gpt-signed" // GPT/DPS, root, root-verity and root-verity-sig, signed with a throwaway key
	GPT4K     Kind = "gpt-4k"     // GPT/DPS with 4096-byte sectors, one squashfs root partition
	MBR       Kind = "mbr"        // a DOS partition table, one bootable Linux partition holding squashfs
)

// Kinds lists every format.
var Kinds = []Kind{Directory, Squashfs, Erofs, Ext4, GPT, GPTVerity, GPTSigned, GPT4K, MBR}

// DefaultKinds are what the examples' just recipes build.
var DefaultKinds = []Kind{Directory, Squashfs, Erofs, Ext4, GPTVerity}

// Image is a packed image.
type Image struct {
	Path string
	Kind Kind
	// RootHash is the dm-verity root hash systemd-repart computed, for the
	// verity kinds; "" otherwise.
	RootHash string
	// Certificate is the PEM certificate of the throwaway key a
	// gpt-signed image is signed with.
	Certificate []byte
}

// Pack packs tree into dst in format kind. dst must not exist; the tools'
// temporary files go to the temporary directory, never beside dst.
func Pack(tree string, kind Kind, dst string) (*Image, error) {
	if _, err := os.Lstat(dst); err == nil {
		return nil, fmt.Errorf("%s already exists", dst)
	}
	scratch, err := os.MkdirTemp("", "imagebuild-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	img := &Image{Path: dst, Kind: kind}
	switch kind {
	case Directory:
		err = runTool("cp", "-a", tree, dst)
	case Squashfs:
		err = squashfs(tree, dst)
	case Erofs:
		err = runTool("mkfs.erofs", "--all-root", dst, tree)
	case Ext4:
		err = ext4(tree, dst)
	case GPT, GPTVerity, GPTSigned:
		err = repart(tree, kind, dst, scratch, img)
	case GPT4K:
		err = gpt4K(tree, dst, scratch)
	case MBR:
		err = mbr(tree, dst, scratch)
	default:
		err = fmt.Errorf("unknown image kind %q", kind)
	}
	if err != nil {
		os.RemoveAll(dst)
		return nil, fmt.Errorf("packing %s as %s: %w", tree, kind, err)
	}
	return img, nil
}

// squashfs compresses with zstd at level 3: as small as the default level
// 15 within a few percent, and 30 times faster on the examples.
func squashfs(tree, dst string) error {
	return runTool("mksquashfs", tree, dst, "-quiet", "-noappend", "-all-root", "-comp", "zstd", "-Xcompression-level", "3")
}

// ext4 sizes the file system to the tree with room for its metadata.
func ext4(tree, dst string) error {
	size, err := treeSize(tree)
	if err != nil {
		return err
	}
	size = roundUp(size+size/2+4<<20, 1<<20)
	if err := os.WriteFile(dst, nil, 0o644); err != nil {
		return err
	}
	if err := os.Truncate(dst, size); err != nil {
		return err
	}
	return runTool("mkfs.ext4", "-q", "-F", "-d", tree, "-E", "root_owner=0:0", dst)
}

func treeSize(tree string) (int64, error) {
	var n int64
	err := filepath.Walk(tree, func(_ string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		n += roundUp(fi.Size(), 4096) + 4096
		return nil
	})
	return n, err
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// runTool runs a tool and returns its output in the error when it fails.
func runTool(name string, args ...string) error {
	_, err := toolOutput(name, args...)
	return err
}

func toolOutput(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out), nil
}

// runScript runs a tool with script on its standard input.
func runScript(script, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
