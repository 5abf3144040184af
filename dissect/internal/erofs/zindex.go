package erofs

import (
	"encoding/binary"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// The two encodings of lcluster indexes. Both fill the same zmapper fields:
// the lcluster type, where its extent starts within it (heads), the
// distances back to its head and on to the next (nonheads), the pcluster's
// block address (heads) or block count (the first nonhead, with big
// pclusters).

// loadFull reads lcluster lcn's 8-byte index, which follows the map header
// and 8 reserved bytes: advise (type, partial reference), cluster offset,
// then a block address or the two distances.
func (m *zmapper) loadFull(lcn uint64) error {
	if lcn > m.ino.size>>m.z.lbits {
		return m.corrupt("lcluster %d beyond the file", lcn)
	}
	at := (m.ino.dataPos+7)&^7 + 16 + lcn*8
	if at+8 > m.f.fsSize {
		return m.corrupt("index of lcluster %d beyond the image", lcn)
	}
	b, err := m.f.meta(at, 8)
	if err != nil {
		return err
	}
	m.lcn = lcn
	m.nextPackOff = at + 8
	advise := binary.LittleEndian.Uint16(b)
	m.typ = uint8(advise & 3)
	if m.typ == lclusterNonhead {
		m.clusterOfs = 1 << m.z.lbits
		d0 := uint64(binary.LittleEndian.Uint16(b[4:]))
		if d0&indexCBlkCnt != 0 {
			if m.z.advise&(adviseBigPcluster1|adviseBigPcluster2) == 0 {
				return m.corrupt("block count at lcluster %d without big pclusters", lcn)
			}
			m.cblks = d0 &^ indexCBlkCnt
			d0 = 1
		}
		m.delta = [2]uint64{d0, uint64(binary.LittleEndian.Uint16(b[6:]))}
		return nil
	}
	m.partialRef = advise&indexPartialRef != 0
	m.clusterOfs = uint64(binary.LittleEndian.Uint16(b[2:]))
	m.pblk = uint64(binary.LittleEndian.Uint32(b[4:]))
	return nil
}

// loadCompact reads lcluster lcn from the compact indexes: 4-byte slots up
// to a 32-byte boundary, then (with COMPACTED_2B) 2-byte slots in packs of
// 16, then 4-byte slots in packs of 2. A pack stores each lcluster's type
// and low bits, and ends with the block address of its first head; the
// others' addresses are counted from it.
func (m *zmapper) loadCompact(lcn uint64, lookahead bool) error {
	bs := uint64(m.f.sb.BlockSize)
	total := (m.ino.size + bs - 1) / bs
	if lcn >= total || m.z.lbits > 14 {
		return m.corrupt("lcluster %d of %d (2^%d bytes each)", lcn, total, m.z.lbits)
	}
	ebase := (m.ino.dataPos+7)&^7 + 8
	initial4B := ((32 - ebase%32) / 4) & 7
	var compact2B uint64
	if m.z.advise&adviseCompacted2B != 0 && initial4B < total {
		compact2B = (total - initial4B) &^ 15
	}
	at, rest, shift := ebase, lcn, uint(2)
	if rest >= initial4B {
		at += initial4B * 4
		rest -= initial4B
		if rest < compact2B {
			shift = 1
		} else {
			at += compact2B * 2
			rest -= compact2B
		}
	}
	at += rest << shift
	var vcnt uint64
	switch {
	case shift == 2:
		vcnt = 2
	case m.z.lbits <= 12:
		vcnt = 16
	default:
		return vfs.Unsupportedf("erofs 2-byte compact indexes with 2^%d-byte lclusters", m.z.lbits)
	}
	packSize := vcnt << shift
	packStart := at &^ (packSize - 1)
	if packStart+packSize > m.f.fsSize {
		return m.corrupt("index of lcluster %d beyond the image", lcn)
	}
	in, err := m.f.meta(packStart, int(packSize))
	if err != nil {
		return err
	}
	m.lcn = lcn
	m.nextPackOff = packStart + packSize
	p := pack{in: in, lobits: max(m.z.lbits, 12), encodeBits: (packSize - 4) * 8 / vcnt}
	i := int((at - packStart) >> shift)
	lo, typ := p.slot(i)
	m.typ = typ
	if typ == lclusterNonhead {
		m.clusterOfs = 1 << m.z.lbits
		if lookahead {
			m.delta[1] = p.lookahead(i, int(vcnt))
		}
		if lo&indexCBlkCnt != 0 {
			if m.z.advise&adviseBigPcluster1 == 0 {
				return m.corrupt("block count at lcluster %d without big pclusters", lcn)
			}
			m.cblks = lo &^ indexCBlkCnt
			m.delta[0] = 1
			return nil
		}
		if i+1 != int(vcnt) {
			m.delta[0] = lo
			return nil
		}
		// The last slot of a pack holds the distance to the next head,
		// so the distance back comes from the slot before it.
		lo, typ = p.slot(i - 1)
		switch {
		case typ != lclusterNonhead:
			lo = 0
		case lo&indexCBlkCnt != 0:
			lo = 1
		}
		m.delta[0] = lo + 1
		return nil
	}
	m.clusterOfs = lo
	m.delta[0] = 0
	// Count the blocks of the pclusters before this head in the pack.
	var nblk uint64
	if m.z.advise&adviseBigPcluster1 == 0 {
		nblk = 1
		for i > 0 {
			i--
			lo, typ := p.slot(i)
			if typ == lclusterNonhead {
				i -= int(min(lo, uint64(vcnt)))
			}
			if i >= 0 {
				nblk++
			}
		}
	} else {
		for i > 0 {
			i--
			lo, typ := p.slot(i)
			if typ != lclusterNonhead {
				nblk++
				continue
			}
			if lo&indexCBlkCnt != 0 {
				i--
				nblk += lo &^ indexCBlkCnt
				continue
			}
			if lo <= 1 {
				return m.corrupt("lcluster %d: nonhead distance %d in a big-pcluster pack", lcn, lo)
			}
			i -= int(min(lo-2, uint64(vcnt)))
		}
	}
	m.pblk = uint64(binary.LittleEndian.Uint32(in[packSize-4:])) + nblk
	return nil
}

// pack is one pack of compact indexes.
type pack struct {
	in         []byte
	lobits     uint
	encodeBits uint64
}

// slot decodes slot i: its low bits and its lcluster type.
func (p pack) slot(i int) (lo uint64, typ uint8) {
	bit := p.encodeBits * uint64(i)
	v := binary.LittleEndian.Uint32(p.in[bit/8:]) >> (bit & 7)
	return uint64(v) & (1<<p.lobits - 1), uint8(v>>p.lobits) & 3
}

// lookahead is the distance from nonhead slot i to the next head: counted
// within the pack, and from the last slot's stored distance beyond it.
func (p pack) lookahead(i, vcnt int) uint64 {
	var d uint64
	var lo uint64
	for ; i < vcnt; i++ {
		var typ uint8
		lo, typ = p.slot(i)
		if typ != lclusterNonhead {
			return d
		}
		d++
	}
	if lo&indexCBlkCnt == 0 {
		d += lo - 1
	}
	return d
}
