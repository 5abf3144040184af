package ext4

import "math/bits"

// Directory hash versions, as stored in an htree root and s_def_hash_version.
// The unsigned variants differ only in how name bytes above 0x7f are
// widened: ext4 hashed with the platform's char, so the superblock records
// which one the image was made with.
const (
	hashLegacy         = 0
	hashHalfMD4        = 1
	hashTEA            = 2
	hashLegacyUnsigned = 3
	hashHalfMD4Unsign  = 4
	hashTEAUnsigned    = 5
	hashSipHash        = 6 // casefolded and encrypted directories: not read by index
)

// dirHash computes the htree hash of name, the value index entries are
// sorted by. ok is false for a hash version this reader does not compute;
// callers then scan the directory linearly, which is always correct.
func dirHash(name []byte, version int, seed [4]uint32) (hash uint32, ok bool) {
	buf := [4]uint32{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}
	if seed != [4]uint32{} {
		buf = seed
	}
	unsigned := false
	switch version {
	case hashLegacyUnsigned:
		hash = legacyHash(name, true)
	case hashLegacy:
		hash = legacyHash(name, false)
	case hashHalfMD4Unsign:
		unsigned = true
		fallthrough
	case hashHalfMD4:
		var in [8]uint32
		for p := name; ; p = p[32:] {
			hashBuf(p, in[:], unsigned)
			halfMD4(&buf, &in)
			if len(p) <= 32 {
				break
			}
		}
		hash = buf[1]
	case hashTEAUnsigned:
		unsigned = true
		fallthrough
	case hashTEA:
		var in [4]uint32
		for p := name; ; p = p[16:] {
			hashBuf(p, in[:], unsigned)
			tea(&buf, &in)
			if len(p) <= 16 {
				break
			}
		}
		hash = buf[0]
	default:
		return 0, false
	}
	hash &^= 1
	// The largest hash marks the end of a directory for readdir cookies;
	// ext4 moves names that hash to it one step down.
	if hash == 0x7fffffff<<1 {
		hash = (0x7fffffff - 1) << 1
	}
	return hash, true
}

// widen turns a name byte into the int the hash adds, as a signed or
// unsigned C char would be.
func widen(c byte, unsigned bool) uint32 {
	if unsigned {
		return uint32(c)
	}
	return uint32(int32(int8(c)))
}

func legacyHash(name []byte, unsigned bool) uint32 {
	h0, h1 := uint32(0x12a3fe2d), uint32(0x37abe8f9)
	for _, c := range name {
		h := h1 + (h0 ^ widen(c, unsigned)*7152373)
		if h&0x80000000 != 0 {
			h -= 0x7fffffff
		}
		h1, h0 = h0, h
	}
	return h0 << 1
}

// hashBuf packs up to 4*len(out) bytes of msg into out, big-end first
// within each word, padding with a word made of the remaining length.
func hashBuf(msg []byte, out []uint32, unsigned bool) {
	n := uint32(len(msg))
	pad := n | n<<8
	pad |= pad << 16
	if len(msg) > 4*len(out) {
		msg = msg[:4*len(out)]
	}
	val, w := pad, 0
	for i, c := range msg {
		val = widen(c, unsigned) + val<<8
		if i%4 == 3 {
			out[w] = val
			w++
			val = pad
		}
	}
	if w < len(out) {
		out[w] = val
		w++
	}
	for ; w < len(out); w++ {
		out[w] = pad
	}
}

// halfMD4 is the MD4 compression function cut to three rounds of eight
// steps, over eight input words.
func halfMD4(buf *[4]uint32, in *[8]uint32) {
	const k2, k3 = 0x5A827999, 0x6ED9EBA1
	f := func(x, y, z uint32) uint32 { return z ^ (x & (y ^ z)) }
	g := func(x, y, z uint32) uint32 { return (x & y) + ((x ^ y) & z) }
	h := func(x, y, z uint32) uint32 { return x ^ y ^ z }
	a, b, c, d := buf[0], buf[1], buf[2], buf[3]
	step := func(fn func(x, y, z uint32) uint32, a *uint32, b, c, d, x uint32, s int) {
		*a = bits.RotateLeft32(*a+fn(b, c, d)+x, s)
	}
	for i, s := range [8]int{3, 7, 11, 19, 3, 7, 11, 19} {
		// The step rotates which of a, b, c, d it updates.
		switch i % 4 {
		case 0:
			step(f, &a, b, c, d, in[i], s)
		case 1:
			step(f, &d, a, b, c, in[i], s)
		case 2:
			step(f, &c, d, a, b, in[i], s)
		case 3:
			step(f, &b, c, d, a, in[i], s)
		}
	}
	for i, x := range [8]int{1, 3, 5, 7, 0, 2, 4, 6} {
		s := [4]int{3, 5, 9, 13}[i%4]
		switch i % 4 {
		case 0:
			step(g, &a, b, c, d, in[x]+k2, s)
		case 1:
			step(g, &d, a, b, c, in[x]+k2, s)
		case 2:
			step(g, &c, d, a, b, in[x]+k2, s)
		case 3:
			step(g, &b, c, d, a, in[x]+k2, s)
		}
	}
	for i, x := range [8]int{3, 7, 2, 6, 1, 5, 0, 4} {
		s := [4]int{3, 9, 11, 15}[i%4]
		switch i % 4 {
		case 0:
			step(h, &a, b, c, d, in[x]+k3, s)
		case 1:
			step(h, &d, a, b, c, in[x]+k3, s)
		case 2:
			step(h, &c, d, a, b, in[x]+k3, s)
		case 3:
			step(h, &b, c, d, a, in[x]+k3, s)
		}
	}
	buf[0] += a
	buf[1] += b
	buf[2] += c
	buf[3] += d
}

// tea is sixteen rounds of the Tiny Encryption Algorithm over the first
// two words of buf, keyed by in.
func tea(buf *[4]uint32, in *[4]uint32) {
	const delta = 0x9E3779B9
	var sum uint32
	b0, b1 := buf[0], buf[1]
	a, b, c, d := in[0], in[1], in[2], in[3]
	for n := 0; n < 16; n++ {
		sum += delta
		b0 += ((b1 << 4) + a) ^ (b1 + sum) ^ ((b1 >> 5) + b)
		b1 += ((b0 << 4) + c) ^ (b0 + sum) ^ ((b0 >> 5) + d)
	}
	buf[0] += b0
	buf[1] += b1
}
