package dissect

import (
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/internal/vercmp"
)

// partitionType is what a GPT type GUID means under the Discoverable
// Partitions Specification.
type partitionType struct {
	designator   Designator
	architecture string // "" when not architecture-specific
}

// dpsTypes maps type GUIDs to designators (systemd's sd-gpt.h).
var dpsTypes = map[string]partitionType{}

func init() {
	perArch := map[string][6]string{ // root, root-verity, root-verity-sig, usr, usr-verity, usr-verity-sig
		"x86-64": {"4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5", "41092b05-9fc8-4523-994f-2def0408b176",
			"8484680c-9521-48c6-9c11-b0720656f69e", "77ff5f63-e7b6-4633-acf4-1565b864c0e6", "e7bb33fb-06cf-4e81-8273-e543b413e2e2"},
		"arm64": {"b921b045-1df0-41c3-af44-4c6f280d3fae", "df3300ce-d69f-4c92-978c-9bfb0f38d820", "6db69de6-29f4-4758-a7a5-962190f00ce3",
			"b0e01050-ee5f-4390-949a-9101b17104e9", "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e", "c23ce4ff-44bd-4b00-b2d4-b41b3419e02a"},
		"x86": {"44479540-f297-41b2-9af7-d131d5f0458a", "d13c5d3b-b5d1-422a-b29f-9454fdc89d76", "5996fc05-109c-48de-808b-23fa0830b676",
			"75250d76-8cc6-458e-bd66-bd47cc81a812", "8f461b0d-14ee-4e81-9aa9-049b6fb97abd", "974a71c0-de41-43c3-be5d-5c5ccd1ad2c0"},
		"arm": {"69dad710-2ce4-4e3c-b16c-21a1d49abed3", "7386cdf2-203c-47a9-a498-f2ecce45a2d6", "42b0455f-eb11-491d-98d3-56145ba9d037",
			"7d0359a3-02b3-4f0a-865c-654403e70625", "c215d751-7bcd-4649-be90-6627490a4c05", "d7ff812f-37d1-4902-a810-d76ba57b975a"},
		"riscv64": {"72ec70a6-cf74-40e6-bd49-4bda08e8f224", "b6ed5582-440b-4209-b8da-5ff7c419ea3d", "efe0f087-ea8d-4469-821a-4c2a96a8386a",
			"beaec34b-8442-439b-a40b-984381ed097d", "8f1056be-9b05-47c4-81d6-be53128e5b54", "d2f9000a-7a18-453f-b5cd-4d32f77a7b32"},
		"ppc64-le": {"c31c45e6-3f39-412e-80fb-4809c4980599", "906bd944-4589-4aae-a4e4-dd983917446a", "d4a236e7-e873-4c07-bf1d-bf6cf7f1c3c6",
			"ee2b9983-21e8-4153-86d9-b6901a54d1ce", "ee2b9983-21e8-4153-86d9-b6901a54d1cf", "c8bfbd1e-268e-4521-8bba-bf314c399557"},
		"s390x": {"5eead9a9-fe09-4a1e-a1d7-520d00531306", "b325bfbe-c7be-4ab8-8357-139e652d2f6b", "c80187a5-73a3-491a-901a-017c3fa953e9",
			"8a4f5770-50aa-4ed3-874a-99b710db6fea", "31741cc4-1a2a-4111-a581-e00b447d2d06", "3f324816-667b-46ae-86ee-9b0c0c6c11b4"},
	}
	roles := [6]Designator{"root", "root-verity", "root-verity-sig", "usr", "usr-verity", "usr-verity-sig"}
	for arch, guids := range perArch {
		for i, g := range guids {
			dpsTypes[g] = partitionType{roles[i], arch}
		}
	}
	for g, d := range map[string]Designator{
		"c12a7328-f81f-11d2-ba4b-00a0c93ec93b": "esp",
		"bc13c2ff-59e6-4262-a352-b275fd6f7172": "xbootldr",
		"0657fd6d-a4ab-43c4-84e5-0933c84b4f4f": "swap",
		"933ac7e1-2eb4-4f13-b844-0e14e2aef915": "home",
		"3b8f8425-20e0-4f3b-907f-1a25a76f98e8": "srv",
		"4d21b016-b534-45c2-a9fb-5c16e091fd2d": "var",
		"7ec6f557-3bc5-4aca-b293-16ef5df639d1": "tmp",
		"0fc63daf-8483-4772-8e79-3d69d8477de4": "linux-generic",
	} {
		dpsTypes[g] = partitionType{designator: d}
	}
}

// GPT attribute bits the specification uses.
const (
	flagGrowFS   = 1 << 59
	flagReadOnly = 1 << 60
	flagNoAuto   = 1 << 63
)

// goArchToSystemd maps Go's architecture names to systemd's (as in
// ConditionArchitecture=, partition type tables and image file names).
var goArchToSystemd = map[string]string{
	"amd64": "x86-64", "386": "x86", "arm64": "arm64", "arm": "arm",
	"riscv64": "riscv64", "ppc64le": "ppc64-le", "ppc64": "ppc64",
	"s390x": "s390x", "loong64": "loongarch64", "mips64le": "mips64-le",
}

// NativeArchitecture is the architecture this program runs on, in
// systemd's naming.
func NativeArchitecture() string {
	if a, ok := goArchToSystemd[runtime.GOARCH]; ok {
		return a
	}
	return runtime.GOARCH
}

// SecondaryArchitecture is the one a native machine also runs ("x86" on
// "x86-64"), "" if none: systemd takes its partitions after native ones.
func SecondaryArchitecture(native string) string {
	if native == "x86-64" {
		return "x86"
	}
	return ""
}

// selectDPS chooses the partitions systemd would use (§4.1): per
// designator, skipping "_empty" labels and no-auto partitions, preferring
// the native architecture, then the secondary, then the higher
// version-sorted label; the generic Linux partition as root when there is
// neither root nor usr.
func selectDPS(parts []gptPartition, native string) ([]Partition, error) {
	rank := func(arch string) int {
		switch arch {
		case native:
			return 0
		case SecondaryArchitecture(native):
			return 1
		}
		return 2
	}
	chosen := map[Designator]Partition{}
	var generic []Partition
	for _, g := range parts {
		t, ok := dpsTypes[g.typeGUID]
		if !ok || g.label == "_empty" || g.flags&flagNoAuto != 0 {
			continue
		}
		p := Partition{Number: g.number, Designator: t.designator, TypeUUID: g.typeGUID, UUID: g.uuid, Label: g.label,
			Flags: g.flags, NoAuto: false, ReadOnly: g.flags&flagReadOnly != 0, GrowFS: g.flags&flagGrowFS != 0,
			Architecture: t.architecture, Offset: g.offset, Size: g.size}
		if t.designator == "linux-generic" {
			p.Designator = "root"
			generic = append(generic, p)
			continue
		}
		old, dup := chosen[p.Designator]
		switch {
		case !dup:
			chosen[p.Designator] = p
		case rank(p.Architecture) < rank(old.Architecture):
			chosen[p.Designator] = p
		case rank(p.Architecture) == rank(old.Architecture) && vercmp.Compare(p.Label, old.Label) > 0:
			chosen[p.Designator] = p
		}
	}
	has := func(d Designator) bool { _, ok := chosen[d]; return ok }
	// Verity partitions need theirs, checked (as systemd does) before a
	// generic partition can stand in for the root.
	for _, d := range []Designator{"root", "usr"} {
		switch {
		case (has(d+"-verity") || has(d+"-verity-sig")) && !has(d):
			return nil, fmt.Errorf("%s verity partition without a %s partition", d, d)
		case has(d+"-verity-sig") && !has(d+"-verity"):
			return nil, fmt.Errorf("%s-verity-sig partition without a %s-verity partition", d, d)
		}
	}
	if !has("root") && !has("usr") {
		switch len(generic) {
		case 0:
			return nil, fmt.Errorf("no suitable root or usr partition found")
		case 1:
			chosen["root"] = generic[0]
		default:
			return nil, fmt.Errorf("multiple generic Linux partitions and no root partition: cannot tell which is root")
		}
	}
	if r, ok := chosen["root"]; ok {
		if u, ok := chosen["usr"]; ok && r.Architecture != "" && u.Architecture != "" && r.Architecture != u.Architecture {
			return nil, fmt.Errorf("root (%s) and usr (%s) partitions are for different architectures", r.Architecture, u.Architecture)
		}
	}
	if has("root-verity") {
		// One verity partition per image, and none for a root that has
		// its /usr apart.
		switch {
		case has("usr-verity"):
			return nil, fmt.Errorf("both root and usr have verity partitions: only one may")
		case has("usr"):
			return nil, fmt.Errorf("a verity-protected root partition with a separate usr partition")
		}
	}
	var out []Partition
	for _, g := range parts {
		for _, p := range chosen {
			if p.Number == g.number {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// openPartitioned builds an image from a GPT disk; side is the verity data
// found beside the image file, nil if none.
func openPartitioned(img *Image, r io.ReaderAt, size int64, sector int, side *Verity, o Options, b *vfs.Budget) error {
	disk, gparts, err := readGPT(r, size, sector)
	if err != nil {
		return err
	}
	if side != nil {
		if gparts, err = matchRootHash(gparts, side); err != nil {
			return err
		}
	}
	native := o.Architecture
	if native == "" {
		native = NativeArchitecture()
	}
	parts, err := selectDPS(gparts, native)
	if err != nil {
		return vfs.Corruptf("gpt", int64(sector), "%v", err)
	}
	img.PartitionTable, img.SectorSize, img.DiskUUID = "gpt", sector, disk
	mounts := map[string]vfs.FS{}
	var rootFS vfs.FS
	for i := range parts {
		p := &parts[i]
		sub := io.NewSectionReader(r, p.Offset, p.Size)
		switch {
		case strings.HasSuffix(string(p.Designator), "-verity"):
			p.FSType = "DM_verity_hash"
			continue
		case strings.HasSuffix(string(p.Designator), "-verity-sig"):
			p.FSType = "verity_hash_signature"
			continue
		case p.Designator != "root" && p.Designator != "usr":
			p.FSType = probeFS(sub, p.Size)
			continue
		}
		fsys, fstype, err := openFS(sub, p.Size, b)
		p.FSType = fstype
		if fstype == "squashfs" || fstype == "erofs" {
			// Inherently read-only: nothing to grow either (as systemd reports it).
			p.ReadOnly, p.GrowFS = true, false
		}
		if err != nil {
			return fmt.Errorf("partition %d (%s): %w", p.Number, p.Designator, err)
		}
		if p.Designator == "root" {
			rootFS = fsys
		} else {
			mounts["usr"] = fsys
		}
	}
	img.Partitions = parts
	if img.Verity, err = chooseVerity(r, parts, side); err != nil {
		return err
	}
	if v := img.Verity; v != nil {
		for i := range img.Partitions {
			if img.Partitions[i].Designator == v.Designator {
				img.Partitions[i].ReadOnly = true // dm-verity devices are read-only
			}
		}
	}
	img.tree = vfs.NewTree(rootFS, mounts, b)
	return nil
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
		if side.Designator == d && side.RootHash == sig.RootHash && side.Signature == nil {
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

// openMBR builds an image from a DOS partition table: exactly one bootable
// Linux (0x83) partition is the root, as systemd requires.
func openMBR(img *Image, r io.ReaderAt, size int64, b *vfs.Budget) error {
	mbr := make([]byte, 512)
	if _, err := r.ReadAt(mbr, 0); err != nil {
		return vfs.Corruptf("mbr", 0, "%v", err)
	}
	var found []Partition
	disk := binary.LittleEndian.Uint32(mbr[440:])
	for i := 0; i < 4; i++ {
		e := mbr[446+16*i : 446+16*(i+1)]
		if e[4] != 0x83 || e[0] != 0x80 {
			continue
		}
		start := int64(binary.LittleEndian.Uint32(e[8:])) * 512
		n := int64(binary.LittleEndian.Uint32(e[12:])) * 512
		if start == 0 || n == 0 || start+n > size {
			return vfs.Corruptf("mbr partition entry", int64(446+16*i), "partition %d spans bytes %d-%d of a %d-byte image", i+1, start, start+n, size)
		}
		found = append(found, Partition{Number: i + 1, Designator: "root", MBRType: 0x83, Offset: start, Size: n,
			UUID: fmt.Sprintf("%08x-%02x", disk, i+1)})
	}
	switch len(found) {
	case 0:
		return vfs.Corruptf("mbr", 446, "no bootable Linux (0x83) partition")
	case 1:
	default:
		return vfs.Corruptf("mbr", 446, "%d bootable Linux partitions, need exactly one", len(found))
	}
	p := &found[0]
	fsys, fstype, err := openFS(io.NewSectionReader(r, p.Offset, p.Size), p.Size, b)
	p.FSType, p.ReadOnly = fstype, fstype == "squashfs" || fstype == "erofs"
	if err != nil {
		return fmt.Errorf("partition %d: %w", p.Number, err)
	}
	img.PartitionTable, img.SectorSize, img.DiskUUID = "dos", 512, fmt.Sprintf("%08x", disk)
	img.Partitions = found
	img.tree = vfs.NewTree(fsys, nil, b)
	return nil
}
