package dissect

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"golang.org/x/sys/unix"
)

// Kind is what an image is on the host.
type Kind string

const (
	KindDirectory Kind = "directory" // a directory or btrfs subvolume: RootDirectory=
	KindRaw       Kind = "raw"       // a raw disk image file or block device: RootImage=
)

// Image is an opened portable image.
type Image struct {
	Path string // as given to Open; empty for New
	Kind Kind
	Size int64 // bytes, raw images only

	// PartitionTable is "gpt", "dos" or "" for a naked file system or a
	// directory.
	PartitionTable string
	// SectorSize is the logical sector size the partition table was found
	// with (512 or 4096); 0 without a table.
	SectorSize int
	// DiskUUID is the GPT disk GUID, or the MBR disk signature.
	DiskUUID string
	// Partitions are the partitions chosen by the Discoverable Partitions
	// Specification rules (one for a naked file system), in table order.
	Partitions []Partition
	// Verity is what PID 1 needs to activate dm-verity, nil without verity.
	Verity *Verity

	tree           *vfs.Tree
	budget         *vfs.Budget
	closer         io.Closer
	info           fs.FileInfo // the file or directory opened
	systemdVersion int         // Options.SystemdVersion
}

// Designator is the role of a partition in the Discoverable Partitions
// Specification: "root", "usr", "root-verity", "root-verity-sig", "usr-verity",
// "usr-verity-sig", "home", "srv", "var", "tmp", "esp", "xbootldr", "swap".
type Designator string

// Partition is one partition (or the naked file system) the image is made of.
type Partition struct {
	Number       int        // 1-based index in the table; 0 for a naked file system
	Designator   Designator // "root" for a naked file system
	TypeUUID     string     // lower-case GPT type GUID; "" for MBR and naked
	MBRType      byte       // MBR partition type, e.g. 0x83
	UUID         string     // GPT partition GUID, MBR "<disk-id>-NN", or the file system UUID
	Label        string
	Flags        uint64 // GPT attribute bits
	NoAuto       bool   // GPT bit 63
	ReadOnly     bool   // GPT bit 60, or inherently read-only file system
	GrowFS       bool   // GPT bit 59
	Architecture string // "x86-64", "arm64", ...; "" when the type is not architecture-specific
	Offset       int64  // bytes from the start of the image
	Size         int64  // bytes
	FSType       string // "squashfs", "erofs", "ext4", "btrfs", ..., "DM_verity_hash", "verity_hash_signature"
}

// Verity is what PID 1 needs to set up dm-verity for the image, finished:
// each field that is set is one setting, as it is (RootHash=, RootVerity=,
// RootHashSignature=PATH or RootHashSignature=base64:…). An image's
// Verity is nil, or has a RootHash and at most one of Signature and
// SignaturePath. The rules that choose it are in verity.go.
type Verity struct {
	Designator Designator // "root" or "usr": the data partition it covers
	// RootHash is the root hash in lower-case hex, "" if unknown.
	RootHash string
	// RootHashSource says where RootHash came from: "sidecar", "xattr",
	// "signature-partition", or "partition-uuids" (the data partition's UUID
	// followed by the verity partition's, as systemd-repart makes them and
	// systemd 258+ guesses).
	RootHashSource string
	// HashTree is the path of a .verity sidecar file, "" when the hash tree
	// is a partition of the image.
	HashTree string
	// Signature is the PKCS#7 signature of the root hash read from the
	// signature partition, nil if none or if it is in a file.
	Signature []byte
	// SignaturePath is the .roothash.p7s/.usrhash.p7s sidecar holding the
	// signature, "" if it came from a partition or there is none.
	SignaturePath string
}

// Options change how an image is opened.
type Options struct {
	Limits Limits // zero: DefaultLimits
	// Architecture is the native architecture in systemd's naming
	// ("x86-64", "arm64", ...); "" means the one this program runs on.
	Architecture string
	// SystemdVersion is the systemd whose rules apply where they changed
	// between versions (os-release syntax); 0 means the newest.
	SystemdVersion int
	// Sidecar, if set, gives the path to read a sidecar file (.roothash,
	// .verity, ...) at, from the path beside the image that names it:
	// a caller reading a tree as if it were "/" resolves it there. The
	// Verity returned names the files by their paths beside the image.
	Sidecar func(path string) (string, error)
	// File, if set, is the image file PrefetchFile opened at the path
	// given to OpenOptions: it is read instead of opening the path again.
	// OpenOptions owns it from then on, whatever it returns.
	File *File
}

// Open opens the image at path with default options.
func Open(path string) (*Image, error) { return OpenOptions(path, Options{}) }

// OpenOptions opens the image at path: a directory, or a regular file or
// block device holding a raw image.
func OpenOptions(path string, o Options) (*Image, error) {
	if o.File != nil && o.File.path != path {
		o.File.Close()
		o.File = nil
	}
	var (
		f   *os.File
		fi  fs.FileInfo
		err error
	)
	if o.File != nil {
		// Opened, and set to random reads, by PrefetchFile.
		f, fi = o.File.f, o.File.info
	} else {
		if f, fi, err = openImageFile(path); err != nil {
			return nil, err
		}
		if f == nil {
			img, err := openDirectory(path, newBudget(o))
			if err != nil {
				return nil, err
			}
			img.systemdVersion, img.info = o.SystemdVersion, fi
			return img, nil
		}
	}
	b := newBudget(o)
	size := fi.Size()
	if !fi.Mode().IsRegular() {
		if size, err = blockDeviceSize(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	var side *Verity
	if fi.Mode().IsRegular() {
		if side, err = sidecarVerity(path, o.Sidecar); err != nil {
			f.Close()
			return nil, err
		}
	}
	img, err := newRaw(f, size, path, side, o, b)
	if err != nil {
		f.Close()
		return nil, err
	}
	img.closer, img.info = f, fi
	return img, nil
}

// openImageFile opens the raw image at path, set to random reads; f is
// nil for a directory.
func openImageFile(path string) (f *os.File, fi fs.FileInfo, err error) {
	fi, err = os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if fi.IsDir() {
		return nil, fi, nil
	}
	f, err = os.OpenFile(path, os.O_RDONLY|noBlock, 0)
	if err != nil {
		return nil, nil, err
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, nil, err
	}
	if m := fi.Mode(); !m.IsRegular() && (m&fs.ModeDevice == 0 || m&fs.ModeCharDevice != 0) {
		// A FIFO or character device put in place of the file: never read.
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, vfs.Unsupportedf("%s as an image (only a regular file or a block device)", fileKind(m)))
	}
	// The readers read only what a path needs, a few KiB here and there,
	// and ask ahead for it themselves (Prefetch): the kernel's readahead,
	// which assumes a sequential reader, would read past each of those
	// reads (a fifth of what 1,000 images cold read from the disk).
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_RANDOM)
	return f, fi, nil
}

// fileKind names a file type for a message.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// New reads a raw image from r, which holds size bytes. Sidecar files
// (.roothash, .verity, ...) are not looked for: there is no path.
func New(r io.ReaderAt, size int64) (*Image, error) {
	o := Options{}
	return newRaw(r, size, "", nil, o, newBudget(o))
}

func newBudget(o Options) *vfs.Budget {
	l := o.Limits
	if l == (Limits{}) {
		l = DefaultLimits
	}
	return vfs.NewBudget(l)
}

// FS returns the image's tree. Paths are relative ("etc/os-release");
// symlinks resolve inside the image.
func (img *Image) FS() fs.FS { return img.tree }

// Resolve follows name inside the image and returns the in-image absolute
// path it ends at.
func (img *Image) Resolve(name string) (string, error) { return img.tree.Resolve(name) }

// FileInfo describes the image file (its fstat once open) or directory as
// OpenOptions found it; nil for an image from New.
func (img *Image) FileInfo() fs.FileInfo { return img.info }

// Stats returns the work spent on the image so far.
func (img *Image) Stats() Stats { return img.budget.Stats() }

// Close releases the image's file and the buffers its readers keep: its
// tree is not read afterwards.
func (img *Image) Close() error {
	if img.tree != nil {
		img.tree.Release()
	}
	if img.closer != nil {
		return img.closer.Close()
	}
	return nil
}
