package erofs

import (
	"encoding/binary"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// A compressed inode's data is cut into logical clusters (lclusters) of one
// block each. The 8-byte map header after the inode says how; then comes
// one index per lcluster, 8 bytes each ("full"), or packed into 2- and
// 4-byte slots ("compact"). An extent starts at a HEAD lcluster (at its
// cluster offset) and runs to the next HEAD; NONHEAD lclusters point back
// to their head and forward to the next. Each extent decodes from one
// physical cluster (pcluster) of one or more blocks, or lives inline after
// the indexes (ztailpacking), or in the packed inode (a fragment).

// Map header advise bits.
const (
	adviseCompacted2B    = 0x0001 // compact layout: 2-byte slots in the middle
	adviseExtents        = 0x0001 // full layout: extent records (erofs-utils 1.9)
	adviseBigPcluster1   = 0x0002
	adviseBigPcluster2   = 0x0004
	adviseInlinePcluster = 0x0008
	adviseInterlaced     = 0x0010
	adviseFragment       = 0x0020
)

// Logical cluster types.
const (
	lclusterPlain   = 0 // a head whose pcluster is stored uncompressed
	lclusterHead1   = 1 // a head compressed with the first algorithm
	lclusterNonhead = 2
	lclusterHead2   = 3 // a head compressed with the second algorithm
)

const (
	indexPartialRef = 1 << 15 // full index: the pcluster decodes to more than this extent
	indexCBlkCnt    = 1 << 11 // first nonhead: the pcluster's block count
	// The format's bounds on one pcluster: encoded and decoded size.
	pclusterMaxSize  = 1 << 20
	pclusterMaxDSize = 12 << 20
	// maxLclusterBits bounds the logical cluster size: mkfs writes one
	// block, the compact encodings allow at most 16 KiB.
	maxLclusterBits = 20
)

// zInfo is what the map header says about a compressed inode.
type zInfo struct {
	advise      uint16
	algs        [2]uint8
	lbits       uint
	fragmentOff uint64 // where the tail (or whole file) starts in the packed inode
	idataSize   uint64 // encoded size of the inline tail pcluster
	idataOff    uint64 // byte offset of the inline tail pcluster
	tailHeadLcn uint64 // head lcluster of the tail extent
}

// extentKind says how an extent's bytes are stored.
type extentKind uint8

const (
	extentEncoded    extentKind = iota // compressed with alg
	extentShifted                      // stored as is
	extentInterlaced                   // stored rotated by the extent's offset in its block
	extentFragment                     // in the packed inode
)

// extent is one run of a compressed file and where its bytes come from.
type extent struct {
	la, llen   uint64 // logical start and length
	pa, plen   uint64 // physical start and length of the pcluster
	kind       extentKind
	alg        uint8
	headType   uint8 // the lcluster type of the extent's head
	inline     bool  // the pcluster is the inline tail, in a metadata block
	partialRef bool
}

// readZInfo reads the map header, and for files with an inline or fragment
// tail finds which extent is the tail.
func (f *FS) readZInfo(ino *Inode) (zInfo, error) {
	var z zInfo
	at := (ino.dataPos + 7) &^ 7
	if at+8 > f.fsSize {
		return z, corrupt(int64(ino.pos), "inode %d: map header beyond the image", ino.nid)
	}
	h, err := f.meta(at, 8)
	if err != nil {
		return z, err
	}
	if h[7]&0x80 != 0 {
		// The whole file is a fragment; the other 63 bits are its offset.
		z.advise = adviseFragment
		z.fragmentOff = binary.LittleEndian.Uint64(h) &^ (1 << 63)
		return z, nil
	}
	z.advise = binary.LittleEndian.Uint16(h[4:])
	z.lbits = f.sb.blockBits + uint(h[7]&15)
	if ino.layout == layoutCompressedFull && z.advise&adviseExtents != 0 {
		return z, vfs.Unsupportedf("erofs compressed extent records (inode %d)", ino.nid)
	}
	if z.lbits > maxLclusterBits {
		return z, vfs.Unsupportedf("erofs logical clusters of 2^%d bytes (inode %d)", z.lbits, ino.nid)
	}
	z.algs = [2]uint8{h[6] & 15, h[6] >> 4}
	if z.advise&adviseFragment != 0 {
		z.fragmentOff = uint64(binary.LittleEndian.Uint32(h))
	} else if z.advise&adviseInlinePcluster != 0 {
		z.idataSize = uint64(binary.LittleEndian.Uint16(h[2:]))
	}
	big1, big2 := z.advise&adviseBigPcluster1 != 0, z.advise&adviseBigPcluster2 != 0
	if (big1 || big2) && !f.sb.bigPcluster {
		return z, corrupt(int64(at), "inode %d: big pclusters without the superblock feature", ino.nid)
	}
	if ino.layout == layoutCompressedCompact && big1 != big2 {
		return z, corrupt(int64(at), "inode %d: compact indexes with big pclusters for one head type only", ino.nid)
	}
	if z.idataSize != 0 || z.advise&adviseFragment != 0 {
		m := zmapper{f: f, ino: ino, z: &z}
		if err := m.findTail(); err != nil {
			return z, err
		}
	}
	return z, nil
}

// zmapper records what the lcluster indexes loaded so far said, as the
// kernel's map recorder does: later steps read fields earlier loads set.
type zmapper struct {
	f   *FS
	ino *Inode
	z   *zInfo

	lcn          uint64
	typ          uint8
	headType     uint8
	clusterOfs   uint64
	delta        [2]uint64
	pblk         uint64
	cblks        uint64 // compressed block count, from a CBLKCNT nonhead
	partialRef   bool
	nextPackOff  uint64 // the byte after the loaded index's pack
	firstPackEnd uint64 // nextPackOff of the first lcluster head loaded
	la           uint64
}

func (m *zmapper) corrupt(format string, args ...any) error {
	return corrupt(int64(m.ino.pos), "compressed inode %d: "+format, append([]any{m.ino.nid}, args...)...)
}

// load reads the index of lcluster lcn.
func (m *zmapper) load(lcn uint64, lookahead bool) error {
	if err := m.f.budget.Entries(1); err != nil {
		return err
	}
	var err error
	if m.ino.layout == layoutCompressedCompact {
		err = m.loadCompact(lcn, lookahead)
	} else {
		err = m.loadFull(lcn)
	}
	if err != nil {
		return err
	}
	if m.typ != lclusterNonhead && m.clusterOfs >= 1<<m.z.lbits {
		return m.corrupt("lcluster %d starts its extent at %d", lcn, m.clusterOfs)
	}
	return nil
}

// lookback walks from the loaded lcluster back by dist to its extent's
// head. Every step moves back at least one lcluster, so it ends.
func (m *zmapper) lookback(dist uint64) error {
	for m.lcn >= dist && dist > 0 {
		lcn := m.lcn - dist
		if err := m.load(lcn, false); err != nil {
			return err
		}
		if m.typ == lclusterNonhead {
			dist = m.delta[0]
			continue
		}
		m.headType = m.typ
		m.la = lcn<<m.z.lbits | m.clusterOfs
		return nil
	}
	return m.corrupt("lookback distance %d from lcluster %d", dist, m.lcn)
}

// head loads the lcluster holding byte off and finds the head of the
// extent that contains it.
func (m *zmapper) head(off uint64) error {
	initial := off >> m.z.lbits
	if err := m.load(initial, false); err != nil {
		return err
	}
	m.firstPackEnd = m.nextPackOff
	if m.typ == lclusterNonhead {
		return m.lookback(m.delta[0])
	}
	if off&(1<<m.z.lbits-1) >= m.clusterOfs {
		m.headType = m.typ
		m.la = initial<<m.z.lbits | m.clusterOfs
		return nil
	}
	// off is before this lcluster's head: it belongs to the extent
	// that started earlier.
	if initial == 0 {
		return m.corrupt("lcluster 0 starts at %d", m.clusterOfs)
	}
	return m.lookback(1)
}

// findTail finds the head of the extent holding the file's last byte, and
// where the inline tail pcluster starts: right after the last index pack.
func (m *zmapper) findTail() error {
	if m.ino.size == 0 {
		return nil
	}
	last := m.ino.size - 1
	if err := m.head(last); err != nil {
		return err
	}
	if m.z.idataSize != 0 {
		m.z.idataOff = m.firstPackEnd
	}
	m.z.tailHeadLcn = m.lcn
	if m.z.advise&adviseFragment != 0 && m.ino.layout == layoutCompressedFull {
		// Full indexes keep the high half of the fragment offset in the
		// tail head's block address.
		m.z.fragmentOff |= m.pblk << 32
	}
	return nil
}

// compressedLen is the pcluster length of the head just found: one block,
// or with big pclusters the count in the first nonhead after the head.
func (m *zmapper) compressedLen() (uint64, error) {
	big1 := m.z.advise&adviseBigPcluster1 != 0
	big2 := m.z.advise&adviseBigPcluster2 != 0
	next := m.lcn + 1
	if (m.headType == lclusterHead1 && !big1) || (m.headType != lclusterHead1 && !big2) ||
		next<<m.z.lbits >= m.ino.size {
		m.cblks = 1
	}
	if m.cblks == 0 {
		if err := m.load(next, false); err != nil {
			return 0, err
		}
		if m.typ != lclusterNonhead {
			m.cblks = 1 // the pcluster holds this one lcluster
		} else if m.delta[0] != 1 || m.cblks == 0 {
			return 0, m.corrupt("no block count at lcluster %d", next)
		}
	}
	if m.cblks > pclusterMaxSize>>m.f.sb.blockBits {
		return 0, m.corrupt("pcluster of %d blocks", m.cblks)
	}
	return m.cblks << m.f.sb.blockBits, nil
}

// decompressedLen walks forward from the head to the next head (or the end
// of the file) to learn the extent's full length.
func (m *zmapper) decompressedLen() (uint64, error) {
	lcn, headLcn := m.lcn, m.la>>m.z.lbits
	for {
		if lcn<<m.z.lbits >= m.ino.size {
			return m.ino.size - m.la, nil
		}
		if err := m.load(lcn, true); err != nil {
			return 0, err
		}
		if m.typ != lclusterNonhead {
			if lcn != headLcn {
				break
			}
			m.delta[1] = 1
		} else if m.delta[1] == 0 {
			m.delta[1] = 1 // as the kernel does for pre-1.0 mkfs
		}
		lcn += m.delta[1]
	}
	return lcn<<m.z.lbits + m.clusterOfs - m.la, nil
}

// mapAt returns the extent holding byte off (< size) of the file.
func (f *FS) mapAt(ino *Inode, z *zInfo, off uint64) (extent, error) {
	if z.advise&adviseFragment != 0 && z.tailHeadLcn == 0 {
		return extent{la: 0, llen: ino.size, kind: extentFragment}, nil
	}
	m := zmapper{f: f, ino: ino, z: z}
	if err := m.head(off); err != nil {
		return extent{}, err
	}
	e := extent{la: m.la, partialRef: m.partialRef, headType: m.headType}
	isTail := m.lcn == z.tailHeadLcn
	switch {
	case z.idataSize != 0 && isTail:
		e.pa, e.plen, e.inline = z.idataOff, z.idataSize, true
		if e.pa%uint64(f.sb.BlockSize)+e.plen > uint64(f.sb.BlockSize) {
			return extent{}, m.corrupt("inline pcluster of %d bytes crosses its block", e.plen)
		}
	case z.advise&adviseFragment != 0 && isTail:
		e.kind = extentFragment
	default:
		e.pa = m.pblk << f.sb.blockBits
		n, err := m.compressedLen()
		if err != nil {
			return extent{}, err
		}
		e.plen = n
	}
	if e.kind != extentFragment {
		switch m.headType {
		case lclusterPlain:
			// Only whole blocks are stored rotated; an inline tail never
			// is (erofs-utils writes and reads it as is).
			e.kind = extentShifted
			if z.advise&adviseInterlaced != 0 && !e.inline {
				e.kind = extentInterlaced
			}
		case lclusterHead2:
			e.alg = z.algs[1]
		default:
			e.alg = z.algs[0]
		}
	}
	n, err := m.decompressedLen()
	if err != nil {
		return extent{}, err
	}
	e.llen = n
	if off < e.la || off-e.la >= e.llen {
		return extent{}, m.corrupt("byte %d mapped to extent %d+%d", off, e.la, e.llen)
	}
	switch e.kind {
	case extentEncoded:
		if e.alg >= algCount {
			return extent{}, vfs.Unsupportedf("erofs compression algorithm %d (inode %d)", e.alg, ino.nid)
		}
		if f.sb.Algorithms&(1<<e.alg) == 0 {
			return extent{}, m.corrupt("%s extent, but the superblock does not list %s", algName(e.alg), algName(e.alg))
		}
		fallthrough
	case extentShifted, extentInterlaced:
		if e.plen == 0 || e.plen > pclusterMaxSize || e.llen > pclusterMaxDSize {
			return extent{}, m.corrupt("extent of %d bytes from a %d-byte pcluster", e.llen, e.plen)
		}
		if e.kind != extentEncoded && e.llen > e.plen {
			return extent{}, m.corrupt("uncompressed extent of %d bytes in a %d-byte pcluster", e.llen, e.plen)
		}
		if !e.inline && e.pa+e.plen > f.fsSize {
			return extent{}, m.corrupt("pcluster at %d beyond the image", e.pa)
		}
	}
	return e, nil
}
