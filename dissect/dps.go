package dissect

import (
	"fmt"
	"io"
	"strings"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/internal/vercmp"
)

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
	// Checked (as systemd does) before a generic partition can stand in
	// for a root that a verity partition lacks.
	if err := verityLayoutError(has); err != nil {
		return nil, err
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
func openPartitioned(img *Image, r io.ReaderAt, gpt *gptTable, side *Verity, o Options, b *vfs.Budget) error {
	gparts, sector := gpt.parts, gpt.sector
	var err error
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
	img.PartitionTable, img.SectorSize, img.DiskUUID = "gpt", sector, gpt.diskUUID
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
	if img.Verity, err = partitionedVerity(r, parts, side); err != nil {
		return err
	}
	img.tree = vfs.NewTree(rootFS, mounts, b)
	return nil
}
